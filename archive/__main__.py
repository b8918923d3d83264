"""`python -m archive <command>`: see archive/cli/."""
from archive.cli import main

main()
