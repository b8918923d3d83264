"""Saved WordPress responses (tests/fixtures/wordpress/) as adapter `Page`s."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from scrapers.base import Page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "wordpress"


def load(name: str, **changes: Any) -> Page:
    """The saved response `name` (e.g. "t21-thread"); keyword arguments replace Page fields."""
    meta = json.loads((FIXTURES / f"{name}.meta.json").read_text())
    body = next(p for p in FIXTURES.glob(f"{name}.*")
                if p.name != f"{name}.meta.json" and p.suffix in (".html", ".json", ".xml"))
    page = Page(url=meta["url"], final_url=meta["final_url"], status=meta["status"],
                headers=meta["headers"], body=body.read_bytes())
    return replace(page, **changes) if changes else page
