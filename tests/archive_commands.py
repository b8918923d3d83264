"""The archive's command line as the end-to-end tests drive it: each call must succeed."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tests.conftest import ArchiveRunner


def export(runner: ArchiveRunner, what: str = "comments") -> list[dict[str, Any]]:
    result = runner.invoke("export", what, "--format", "json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output))


def comments(runner: ArchiveRunner) -> dict[str, dict[str, Any]]:
    return {row["comment_id"]: row for row in export(runner)}


def statuses(runner: ArchiveRunner) -> dict[str, str]:
    return {cid: row["status"] for cid, row in comments(runner).items()}


def capture(runner: ArchiveRunner, url: str) -> str:
    result = runner.invoke("capture", url)
    assert result.exit_code == 0, result.output
    return str(result.output)


def watch(runner: ArchiveRunner, folder: Path, url: str, adapter: str, options: dict[str, Any] | None) -> None:
    """A watch naming its adapter (and its options), imported like an operator's CSV."""
    path = folder / "watches.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "adapter", "options"])
        writer.writerow([url, adapter, json.dumps(options) if options else ""])
    result = runner.invoke("watch", "import", str(path))
    assert result.exit_code == 0, result.output
