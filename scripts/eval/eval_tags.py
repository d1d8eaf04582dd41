#!/usr/bin/env python3
"""Precision and recall of newstag's tag suggestions against fixtures/gold/tags.toml.

Usage (from the repo root): scripts/eval/eval_tags.py [--top N] [--bin PATH]
Runs `newstag tags --json --top N fixtures/articles/` and compares case-insensitively: a
suggestion is right when it equals a gold tag or one of its alternatives. Standard library only.
"""
import argparse
import json
import subprocess
import sys
import tomllib

ap = argparse.ArgumentParser()
ap.add_argument("--top", type=int, default=10)
ap.add_argument("--bin", default="target/release/newstag")
args = ap.parse_args()

gold = {a["id"]: a["tags"] for a in tomllib.load(open("fixtures/gold/tags.toml", "rb"))["article"]}
out = subprocess.run(
    [args.bin, "tags", "--json", "-q", "--top", str(args.top), "fixtures/articles/"],
    check=True, capture_output=True, text=True,
).stdout
tp = n_right = n_pred = n_gold = 0
for line in out.splitlines():
    rec = json.loads(line)
    if rec["id"] not in gold:
        continue
    expected = [[t.lower() for t in alts] for alts in gold[rec["id"]]]
    predicted = [t["tag"].lower() for t in rec["tags"]]
    hits = sum(1 for alts in expected if any(p in alts for p in predicted))
    right = sum(1 for p in predicted if any(p in alts for alts in expected))
    tp += hits
    n_right += right
    n_gold += len(expected)
    n_pred += len(predicted)
    missed = [alts[0] for alts in expected if not any(p in alts for p in predicted)]
    extra = [p for p in predicted if not any(p in alts for alts in expected)]
    print(f"{rec['id']}: {right}/{len(predicted)} right, {hits}/{len(expected)} found; "
          f"missed {missed}; extra {extra}", file=sys.stderr)
precision = n_right / max(n_pred, 1)
recall = tp / max(n_gold, 1)
print(json.dumps({"top": args.top, "articles": len(gold), "precision": round(precision, 3),
                  "recall": round(recall, 3)}))
