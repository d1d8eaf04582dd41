"""What the tests share: the repository's fixtures, the CLI binary they are compared with, and
nlp-corpus articles.

The package under test is the installed wheel (scripts/ci/test_python builds it and installs it in
a fresh venv); the CLI is the repository's release build, ``target/release/newstag`` (or
``$NEWSTAG_CLI``). Both read models from the same store, so they run the same models.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus_articles  # noqa: E402

FIXTURES = ROOT / "fixtures" / "articles"
# The seed article as the repository keeps it (the same bytes as ../shared/seed/, which a clean
# checkout on another machine does not have).
SEED = FIXTURES / "000_96f95457316a6f2e.txt"


def cli_path() -> Path:
    return Path(os.environ.get("NEWSTAG_CLI", ROOT / "target" / "release" / "newstag"))


def run_cli(args: List[str], stdin: bytes | None = None) -> List[Dict[str, Any]]:
    """Records of ``newstag ARGS`` (exit 0, or 3 when some articles failed)."""
    proc = subprocess.run(
        [str(cli_path()), *args], input=stdin, capture_output=True, check=False
    )
    assert proc.returncode in (0, 3), proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]


def fixture_items() -> List[Dict[str, Any]]:
    """Every fixture article as a dict with its id: the text files (id = path, text as the CLI
    reads it: bytes decoded, CRLF kept) and each line of the JSONL fixture (with its title and
    pass-through fields)."""
    items: List[Dict[str, Any]] = []
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix in (".txt", ".md"):
            items.append({"id": str(path), "text": path.read_bytes().decode("utf-8")})
        elif path.suffix == ".jsonl":
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    item = json.loads(line)
                    item.setdefault("id", f"{path}:{n}")
                    items.append(item)
    return items


def cli_records_for(items: List[Dict[str, Any]], tmp: Path, *extra: str) -> List[Dict[str, Any]]:
    """The CLI's records for ``items``, written as a JSONL file and annotated by the CLI."""
    path = tmp / "items.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    return run_cli(["annotate", "--quiet", *extra, str(path)])


@pytest.fixture(scope="session")
def items() -> List[Dict[str, Any]]:
    return fixture_items()


@pytest.fixture(scope="session")
def cli_records(items, tmp_path_factory) -> List[Dict[str, Any]]:
    return cli_records_for(items, tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="session")
def annotator():
    import newstag

    return newstag.Annotator()


@pytest.fixture(scope="session")
def corpus_1000() -> List[Dict[str, Any]]:
    return corpus_articles(1000)
