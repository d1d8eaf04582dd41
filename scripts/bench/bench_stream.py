#!/usr/bin/env python3
"""Memory of newstag on a stream that grows: articles generated on the fly from nlp-corpus
sentences are piped into `newstag CMD -` (never held on disk or in memory), its output is counted
and thrown away, and its resident memory is sampled while it runs. Used by scripts/bench/bench; not
part of newstag.

    bench_stream.py BUILDS_DIR (--articles N | --bytes B) -- NEWSTAG_CMD...

Articles are 20 sentences each, seeded random draws (random.Random(0)) from every sentence of
the corpus (builds/doc-*.json), so they do not repeat and the stream can be as long as asked.
RSS is read from /proc/PID/status every --every seconds; the peak is the kernel's (wait4's
ru_maxrss of the newstag process alone). Prints one JSON object: articles and bytes sent,
records out, wall seconds, peak RSS, and RSS at each tenth of the run.
"""

import argparse
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import threading
import time

PER_ARTICLE = 20


def corpus_sentences(builds):
    files = sorted(pathlib.Path(builds).glob("doc-*.json"),
                   key=lambda p: int(re.search(r"(\d+)", p.name).group(1)))
    sents = []
    for f in files:
        sents += [s.strip() for s in json.loads(f.read_text(encoding="utf-8")) if s.strip()]
    return sents


def feed(pipe, sents, max_articles, max_bytes, sent):
    rng = random.Random(0)
    i = written = 0
    try:
        while (max_articles is None or i < max_articles) and (max_bytes is None or written < max_bytes):
            chunk = []
            for _ in range(256):
                text = " ".join(rng.sample(sents, PER_ARTICLE))
                chunk.append(json.dumps({"id": f"stream-{i}", "text": text}, ensure_ascii=False))
                i += 1
                if max_articles is not None and i >= max_articles:
                    break
            data = ("\n".join(chunk) + "\n").encode("utf-8")
            pipe.write(data)
            written += len(data)
    except BrokenPipeError:
        pass
    finally:
        sent["articles"], sent["bytes"] = i, written
        try:
            pipe.close()
        except BrokenPipeError:
            pass


def count(pipe, out):
    n = 0
    while True:
        block = pipe.read(1 << 20)
        if not block:
            break
        n += block.count(b"\n")
    out["records"] = n


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builds", help="nlp-corpus's package/builds directory")
    ap.add_argument("--articles", type=int)
    ap.add_argument("--bytes", type=int)
    ap.add_argument("--every", type=float, default=1.0, help="seconds between RSS samples")
    argv = sys.argv[1:]
    if "--" not in argv:
        ap.error("give the newstag command after --")
    split = argv.index("--")
    args = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd or (args.articles is None) == (args.bytes is None):
        ap.error("give one of --articles / --bytes, then -- and the newstag command")
    sents = corpus_sentences(args.builds)

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    sent, got = {}, {}
    writer = threading.Thread(target=feed, args=(proc.stdin, sents, args.articles, args.bytes, sent))
    reader = threading.Thread(target=count, args=(proc.stdout, got))
    writer.start()
    reader.start()
    samples = []
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            sys.exit("newstag vanished")
        if pid:
            break
        kb = rss_kb(proc.pid)
        if kb is not None:
            samples.append((time.perf_counter() - t0, kb))
        time.sleep(args.every)
    wall = time.perf_counter() - t0
    writer.join()
    reader.join()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"newstag exited with {os.waitstatus_to_exitcode(status)}")
    tenths = []
    for k in range(1, 11):
        at = [kb for t, kb in samples if t <= wall * k / 10]
        tenths.append(round(at[-1] / 1024) if at else None)
    print(json.dumps({
        "articles": sent.get("articles"),
        "bytes_in": sent.get("bytes"),
        "records_out": got.get("records"),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "rss_mb_by_tenth": tenths,
        "samples": len(samples),
    }))


if __name__ == "__main__":
    main()
