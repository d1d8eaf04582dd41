#!/usr/bin/env python3
"""Topics measured on held-out BBC News: newstag's default output, zero-shot --label runs with the
five desk names, and a naive baseline, side by side. Run through scripts/eval_topics.

Data: ../shared/data/bbc-news-dev.jsonl.gz (see its README; never copied into the project). The
split is scripts/fit_topics.py's: the calibration was fitted on the articles whose sha256(id)
starts with an even byte; this reports on the others (`--split eval`, the default).

Per run, per desk and overall:
  top1, top3  the desk's IPTC top-level topic first / among the first three of the article's
              ranking of top-level topics (labels: of the five labels), from a run with
              --threshold 0 so the whole ranking is printed;
  none        share of articles with no topic reported (default settings);
  mean        reported top-level topics (labels: labels) per article (default settings);
  prec        of all reported top-level topics (labels), the share that is the desk's.
The naive baseline is one all-MiniLM-L6-v2 embedding of the article's first 256 tokens (title
and text) against each topic's prototypes (the IPTC name in the zero-shot template and its
definition; for labels the template), nearest first; it always reports exactly one topic.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_peer import Encoder, onnxruntime_run  # noqa: E402
from fit_topics import DESKS, LABEL_TEMPLATE, load_bbc, read_taxonomy, split_of, store_path  # noqa: E402

LABELS = ["business", "entertainment", "politics", "sport", "technology"]
LABEL_OF = dict(zip(["business", "entertainment", "politics", "sport", "tech"], LABELS))
TOPS = set(DESKS.values())


def run_newstag(newstag, path, extra):
    out = subprocess.run(
        [newstag, "annotate", "--quiet", "--ner", "none", "--offline", path, *extra],
        check=True, capture_output=True, text=True,
    ).stdout
    return {r["id"]: r for r in map(json.loads, out.splitlines())}


def iptc_tops(record, top_codes):
    """The record's top-level IPTC topics, in its order."""
    return [t["code"] for t in record.get("topics", []) if t.get("code") in top_codes and len(t["path"]) == 1]


def labels_of(record):
    return [t["label"] for t in record.get("topics", []) if t["label"] in LABELS]


def table(name, arts, ranked, reported, gold_of):
    rows = defaultdict(lambda: defaultdict(float))
    for a in arts:
        gold = gold_of(a)
        for key in (a["category"], "all"):
            r = rows[key]
            r["n"] += 1
            r["top1"] += ranked[a["id"]][:1] == [gold]
            r["top3"] += gold in ranked[a["id"]][:3]
            rep = reported[a["id"]]
            r["none"] += not rep
            r["reported"] += len(rep)
            r["hits"] += gold in rep
    lines = []
    for key in sorted(k for k in rows if k != "all") + ["all"]:
        r = rows[key]
        lines.append(
            f"| {name} | {key} | {int(r['n'])} | {r['top1'] / r['n']:.1%} | {r['top3'] / r['n']:.1%} | "
            f"{r['none'] / r['n']:.1%} | {r['reported'] / r['n']:.2f} | "
            f"{(r['hits'] / r['reported'] if r['reported'] else 0):.2f} |"
        )
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "bbc-news-dev.jsonl.gz"))
    ap.add_argument("--newstag", default=os.path.join(ROOT, "target", "release", "newstag"))
    ap.add_argument("--split", default="eval", choices=["eval", "fit"])
    ap.add_argument("--failures", type=int, default=3, help="misses to print per desk")
    args = ap.parse_args()
    if not os.path.exists(args.data):
        sys.exit(f"eval_topics: no data at {args.data} (the BBC evaluation set is research data; see README, Topics)")

    arts = [a for a in load_bbc(args.data) if split_of(a["id"]) == args.split]
    subprocess.run([args.newstag, "models", "fetch"], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bbc.jsonl")
        with open(path, "w") as f:
            for a in arts:
                f.write(json.dumps({"id": a["id"], "title": a["title"], "text": a["text"]}) + "\n")
        default = run_newstag(args.newstag, path, [])
        ranked_all = run_newstag(args.newstag, path, ["--threshold", "0", "--depth", "1"])
        label_flags = [x for l in LABELS for x in ("--label", l)]
        labels = run_newstag(args.newstag, path, label_flags)
        labels_all = run_newstag(args.newstag, path, label_flags + ["--threshold", "0"])

    model_dir = store_path(args.newstag, "all-minilm-l6-v2-fp32")
    enc = Encoder(os.path.join(model_dir, "tokenizer.json"), onnxruntime_run(os.path.join(model_dir, "model.onnx"), os.cpu_count()))
    concepts = read_taxonomy(os.path.join(store_path(args.newstag, "iptc-mediatopics"), "IPTC-MediaTopic-NewsCodes.xlsx"))
    tops = [c for c in concepts if c["level"] == 1]
    top_codes = {c["code"] for c in tops}
    docs = enc.embed([a["title"] + "\n" + a["text"] for a in arts])
    sims = np.maximum(
        docs @ enc.embed([LABEL_TEMPLATE.replace("{label}", c["name"]) for c in tops]).T,
        docs @ enc.embed([c["definition"] for c in tops]).T,
    )
    naive = {a["id"]: [tops[j]["code"] for j in np.argsort(-sims[i])] for i, a in enumerate(arts)}
    lab = docs @ enc.embed([LABEL_TEMPLATE.replace("{label}", l) for l in LABELS]).T
    naive_lab = {a["id"]: [LABELS[j] for j in np.argsort(-lab[i])] for i, a in enumerate(arts)}

    desk = lambda a: DESKS[a["category"]]  # noqa: E731
    label = lambda a: LABEL_OF[a["category"]]  # noqa: E731
    print(f"BBC News, {args.split} split: {len(arts)} articles (calibration fitted on the other split)\n")
    print("| run | desk | articles | top-1 | top-3 | no topic | topics/article | precision |")
    print("|---|---|---|---|---|---|---|---|")
    for line in table("newstag (IPTC, default)", arts, {k: iptc_tops(r, top_codes) for k, r in ranked_all.items()},
                      {k: iptc_tops(r, top_codes) for k, r in default.items()}, desk):
        print(line)
    for line in table("naive (IPTC)", arts, naive, {k: v[:1] for k, v in naive.items()}, desk):
        print(line)
    for line in table("newstag --label x5", arts, {k: labels_of(r) for k, r in labels_all.items()},
                      {k: labels_of(r) for k, r in labels.items()}, label):
        print(line)
    for line in table("naive (labels)", arts, naive_lab, {k: v[:1] for k, v in naive_lab.items()}, label):
        print(line)

    names = {c["code"]: c["name"] for c in tops}
    print(f"\nMisses of the default run (first {args.failures} per desk): desk <- what came first, headline")
    for cat in sorted(DESKS):
        misses = [a for a in arts if a["category"] == cat and iptc_tops(ranked_all[a["id"]], top_codes)[:1] != [DESKS[cat]]]
        for a in misses[: args.failures]:
            got = iptc_tops(ranked_all[a["id"]], top_codes)[:1]
            print(f"  {cat} <- {names.get(got[0], '-') if got else '-'}: {a['title']} ({a['id']})")


if __name__ == "__main__":
    main()
