"""Main-text extraction measured: newstag's (`newstag extract`) against trafilatura's on a set
of pages in the shape of ../shared/data/html-extraction-dev.jsonl.gz (one JSON object a line:
`{"url", "html", "with": [...], "without": [...], "title"?, "date"?, "author"?, "text"?}`).

Prints, for each extractor: the share of `with` passages kept (found in the extracted text),
the share of `without` passages dropped (not found in it), title, date and author accuracy
over the pages that state them (authors compared as sets of names, `author_names`), the
extracted text against a page's expected `text` where it has one (word-level precision,
recall and F1, `words`), and pages per second on one core: the median of ROUNDS runs of each
(default 5), taken in turns so that a busy neighbour slows both alike, by CPU time (user and
system, what a core-hour bill counts; wall time on a shared machine varies by a third between
runs) and by wall time. Run through scripts/eval/eval_extract, which builds newstag and makes
the venv with trafilatura.

    python scripts/eval/eval_extract.py NEWSTAG_BINARY PAGES.jsonl[.gz] [ROUNDS]
"""

import collections
import gzip
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def norm(s):
    """Passages and texts compared as trafilatura's own evaluation compares them: whitespace
    runs folded to one space (extractors differ in line breaks, not in words)."""
    return re.sub(r"\s+", " ", s or "").strip()


def norm_title(s):
    return norm(s).casefold()


# Academic degrees a byline puts after a name ("Grant Tinsley, PhD"): not a name of their own.
DEGREES = {"phd", "md", "mph", "mba", "msc", "rd", "rn"}


def author_names(author):
    """A page's authors as a set of names: a list, or one string with its names joined by
    ";", "," or "and"; each name casefolded, with its periods read as spaces ("R.C. Baker",
    "R C Baker" and "r.c. BAKER" are one name), degrees after it dropped. trafilatura joins
    co-authors with "; ", newstag too; a person's reading writes them either way."""
    if isinstance(author, list):
        author = "; ".join(author)
    parts = re.split(r";|,|\band\b", norm(author).casefold())
    names = {norm(part.replace(".", " ")) for part in parts}
    return frozenset(n for n in names if n and n not in DEGREES)


# Scripts written without spaces between words (Chinese, Japanese, Thai; Hangul too, for one
# rule): compared character by character, the rest word by word.
UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
WORD = re.compile(f"[{UNSPACED}]|[^\\W{UNSPACED}]+")


def words(text):
    """A text as a multiset of casefolded words (characters, in scripts without spaces), as
    trafilatura's and others' extraction benchmarks compare a text with the expected one."""
    return collections.Counter(WORD.findall((text or "").casefold()))


def overlap(found, expected):
    """(precision, recall, F1) of the words of `found` against those of `expected`."""
    got, want = words(found), words(expected)
    common = sum((got & want).values())
    p = common / sum(got.values()) if got else 0.0
    r = common / sum(want.values()) if want else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fraction(right, total):
    """right/total; a dash where the pages state nothing of the kind."""
    return f"{right}/{total}" if total else "–"


def share(x):
    """A share as a percentage; a dash where the pages had nothing to count."""
    return "–" if x is None else f"{100 * x:.1f}%"


def score(pages, outputs):
    """outputs[i]: {"text", "title", "date", "author"} for pages[i] (None fields when absent)."""
    kept = total_with = dropped = total_without = 0
    title_right = title_total = date_right = date_total = author_right = author_total = 0
    texts = []
    for page, out in zip(pages, outputs):
        text = norm(out.get("text"))
        for passage in page.get("with", []):
            total_with += 1
            kept += norm(passage) in text
        for passage in page.get("without", []):
            total_without += 1
            dropped += norm(passage) not in text
        if page.get("title"):
            title_total += 1
            title_right += norm_title(out.get("title")) == norm_title(page["title"])
        if page.get("date"):
            date_total += 1
            date_right += (out.get("date") or "")[:10] == page["date"][:10]
        if page.get("text"):
            texts.append(overlap(out.get("text"), page["text"]))
        if page.get("author"):
            author_total += 1
            author_right += author_names(out.get("author")) == author_names(page["author"])
    return {
        # None where the pages have no passages of that kind (a set with titles and dates only).
        "kept": kept / total_with if total_with else None,
        "dropped": dropped / total_without if total_without else None,
        "title": (title_right, title_total),
        "date": (date_right, date_total),
        "author": (author_right, author_total),
        # Means over the pages with an expected text (None without any).
        "text": tuple(statistics.mean(t[i] for t in texts) for i in range(3)) if texts else None,
        "texts": len(texts),
        "passages": (total_with, total_without),
    }


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_newstag(binary, pages):
    """`newstag extract --threads 1` over the pages as one JSONL file; (wall, CPU) seconds of
    the run (process start and the JSON reading included)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "pages.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for i, page in enumerate(pages):
                f.write(json.dumps({"id": str(i), "url": page.get("url"), "html": page["html"]}) + "\n")
        start, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(
            [binary, "extract", "--threads", "1", "-q", src],
            capture_output=True,
            check=False,
        )
        elapsed = (time.perf_counter() - start, children_cpu() - cpu)
    if done.returncode not in (0, 3):
        sys.exit(f"newstag extract failed ({done.returncode}): {done.stderr.decode()}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == len(pages), "one record per page"
    outputs = []
    for rec in records:
        outputs.append(
            {"text": rec.get("text", ""), "title": rec.get("title"), "date": rec.get("published"), "author": rec.get("author")}
        )
    failed = sum("error" in r for r in records)
    return outputs, elapsed, failed


def run_trafilatura(pages):
    """trafilatura.extract with its metadata, comments left out (as newstag leaves them out,
    and as trafilatura's own evaluation runs it), in this process (one core)."""
    import trafilatura

    outputs = []
    failed = 0
    start, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        found = trafilatura.extract(
            page["html"],
            url=page.get("url"),
            output_format="json",
            with_metadata=True,
            include_comments=False,
        )
        if found is None:
            failed += 1
            outputs.append({"text": "", "title": None, "date": None, "author": None})
            continue
        rec = json.loads(found)
        outputs.append({"text": rec.get("text", ""), "title": rec.get("title"), "date": rec.get("date"), "author": rec.get("author")})
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    return outputs, elapsed, failed


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, path = sys.argv[1], sys.argv[2]
    rounds = sys.argv[3] if len(sys.argv) == 4 else "5"
    if not rounds.isdigit() or int(rounds) < 1:
        sys.exit(f"ROUNDS must be a positive integer, not {rounds!r}\n\n{__doc__}")
    rounds = int(rounds)
    pages = load(path)
    import trafilatura

    # trafilatura's first call loads its settings and compiles its expressions: not per page.
    run_trafilatura(pages[:1])
    runs = {"newstag extract": [], f"trafilatura {trafilatura.__version__}": []}
    for _ in range(rounds):
        runs["newstag extract"].append(run_newstag(binary, pages))
        runs[f"trafilatura {trafilatura.__version__}"].append(run_trafilatura(pages))
    rows = []
    for name, done in runs.items():
        outputs, _, failed = done[-1]
        wall = statistics.median(run[1][0] for run in done)
        cpu = statistics.median(run[1][1] for run in done)
        rows.append((name, score(pages, outputs), len(pages) / cpu, len(pages) / wall, failed))
    with_n, without_n = rows[0][1]["passages"]
    print(f"{len(pages)} pages, {with_n} `with` and {without_n} `without` passages ({os.path.basename(path)})")
    print()
    print(
        "| extractor | `with` kept | `without` dropped | title right | date right | author right "
        "| no text | pages per CPU second | pages/s (wall, 1 core) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, s, cpu_speed, wall_speed, failed in rows:
        (tr, tt), (dr, dt), (ar, at) = s["title"], s["date"], s["author"]
        print(
            f"| {name} | {share(s['kept'])} | {share(s['dropped'])} | "
            f"{fraction(tr, tt)} | {fraction(dr, dt)} | {fraction(ar, at)} | {failed} | {cpu_speed:.1f} | {wall_speed:.1f} |"
        )
    if rows[0][1]["text"]:
        print()
        print(f"The extracted text against the expected one, word by word, mean over {rows[0][1]['texts']} pages:")
        print()
        print("| extractor | precision | recall | F1 |")
        print("|---|---|---|---|")
        for name, s, *_ in rows:
            print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in s["text"]) + " |")
    print()
    print(
        f"newstag / trafilatura, median of {rounds} rounds: {rows[0][2] / rows[1][2]:.2f}x by CPU "
        f"time, {rows[0][3] / rows[1][3]:.2f}x by wall time"
    )


if __name__ == "__main__":
    main()
