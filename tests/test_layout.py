"""The folder names are contracts: `archive/rules/` is pure (like Flask's
`sansio` package): it imports no database, web or network code, so every
verdict rule can be tested, and reasoned about, without any of them."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "archive" / "rules"
# What a rule may import: the standard library's pure parts, other rules,
# the archive's notion of time and the adapters' record types.
ALLOWED_PREFIXES = ("archive.rules", "archive.clock", "scrapers.base")
FORBIDDEN_STDLIB = {"socket", "http", "urllib", "sqlite3", "subprocess", "ssl", "shutil", "io"}
FORBIDDEN_PACKAGES = ("flask", "werkzeug", "sqlalchemy", "psycopg", "requests", "urllib3",
                      "whoosh", "tantivy", "apscheduler", "alembic")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names.append(node.module or "")
    return names


def test_rules_import_only_pure_modules() -> None:
    modules = sorted(RULES.glob("*.py"))
    assert len(modules) >= 3
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith(("archive", "scrapers")):
                assert name.startswith(ALLOWED_PREFIXES), f"{path.name} imports {name}"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", \
                    f"{path.name} imports the third-party {name}"
                assert top not in FORBIDDEN_STDLIB, f"{path.name} imports {name}"


def test_importing_the_rules_loads_no_database_web_or_network_library() -> None:
    code = ("import sys, archive.rules.verdicts, archive.rules.assess, archive.rules.stats\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN_PACKAGES!r})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_core_names_no_adapter() -> None:
    """The core reaches platforms only through the adapter contract (scrapers/base.py):
    no code or template outside scrapers/ (and the demo, which names its own watches'
    adapters) compares with, or branches on, a registered adapter's name."""
    from scrapers import ADAPTERS

    names = set(ADAPTERS)
    found = []
    for path in sorted((ROOT / "archive").rglob("*.py")):
        if (ROOT / "archive" / "demo") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {quote}{name}{quote}"
                  for name in names for quote in "'\"" if f"{quote}{name}{quote}" in text]
    assert found == []
