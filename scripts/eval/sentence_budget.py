#!/usr/bin/env python3
"""How many sentences the topic layer needs to read (`--topic-sentences K`): the document
vector from the title and K sentences, spread over the article (`--pick spread`, what newstag
does) or the first K (`--pick first`), against every sentence. On the fit split by default, so
that the way of picking is chosen without reading held-out articles; `--split eval` measures
the trade-off on held-out ones (docs/topics.md). Issue 22.

Every sentence of every article is embedded once (cached under target/topic-cache), then
each budget K rebuilds the document vectors and the sentences' shares from the units it reads
and scores them as newstag does (topiclib.scores: the two-stage layer, the share layer for
the subjects without a head, the main layer for the first place; refitted on the fit split
as scripts/gen/fit_topics.py fits them, as scripts/eval/eval_topics.py checks them against
newstag; `--check` compares them with newstag itself under the largest budget). Per source
and subject: r@1 and r@3 of the top-level ranking and recall of the default report, for each
K; and the share of the encoder's tokens that K reads. `--adaptive DELTAS` measures a stopping
rule on top: an article whose budget leaves some subject's probability within DELTA of the
report bar is read whole. It also prints the share of units that repeat an earlier one of
their source, what embedding each distinct sentence once per run would save.

Usage: scripts/eval/eval_topics's venv, then
    python scripts/eval/sentence_budget.py [--split fit|eval] [--budgets 4,6,8,10,12,16] [--pick first|spread] [--adaptive 0.05,0.1]
"""

import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
import topiclib as tl  # noqa: E402
from eval_topics import REPORT, python_reported, run_newstag, top_scores  # noqa: E402


def spread(n, k):
    """k of n sentence indices spread evenly from the first to the last, rounded half up in
    integers: src/topics/embedding.rs `spread`."""
    if k >= n:
        return set(range(n))
    if k == 1:
        return {0}
    return {(2 * j * (n - 1) + (k - 1)) // (2 * (k - 1)) for j in range(k)}


def budget_mask(owner, is_title, k, pick):
    """Units read under budget k (0: all): the title and k of each article's sentences, the
    first k (`first`) or k spread evenly from the first to the last (`spread`)."""
    if k == 0:
        return np.ones(len(owner), bool)
    # Each sentence's place in its article, and each article's number of sentences.
    pos = np.zeros(len(owner), np.int64)
    count = {}
    for i, d in enumerate(owner):
        if not is_title[i]:
            pos[i] = count.get(d, 0)
            count[d] = pos[i] + 1
    if pick == "first":
        return is_title | (pos < k)
    chosen = {n: spread(n, k) for n in set(count.values())}
    return np.array([t or pos[i] in chosen[count[d]] for i, (d, t) in enumerate(zip(owner, is_title))])


def doc_vectors(vecs, owner, n, mask):
    return tl.mean_vectors(vecs[mask], owner[mask], n).astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    ap.add_argument("--split", default="fit", choices=["fit", "eval"])
    ap.add_argument("--budgets", default="4,6,8,10,12,16")
    ap.add_argument("--pick", default="spread", choices=["first", "spread"], help="which sentences a budget reads")
    ap.add_argument("--adaptive", default="", help="DELTAs of a stopping rule to measure (e.g. 0.05,0.1,0.15): every sentence where a budget leaves a subject within DELTA of the report bar")
    ap.add_argument("--check", type=int, default=300, help="articles on which newstag itself is compared (spread only; 0: none)")
    args = ap.parse_args()
    budgets = [0] + [int(b) for b in args.budgets.split(",")]

    enc = tl.store_encoder(args.newstag)
    arts = [a for a in tl.load_sources() if tl.split_of(a["id"]) == args.split and a["informs"]]
    if not arts:
        sys.exit("sentence_budget: no labelled data under ../shared/data (research data; see docs/topics.md)")
    vecs, owner, is_title, tokens = tl.sentence_vectors(args.newstag, enc, arts)
    full = doc_vectors(vecs, owner, len(arts), budget_mask(owner, is_title, 0, args.pick))

    # The shipped calibration, fitted on the fit split's full document vectors as
    # scripts/gen/fit_topics.py does (from the sentence vectors cached here).
    if args.split == "fit":
        fit_full = full
    else:
        fit_arts = [a for a in tl.load_sources() if tl.split_of(a["id"]) == "fit" and a["informs"]]
        fv, fo, ft, _ = tl.sentence_vectors(args.newstag, enc, fit_arts)
        fit_full = doc_vectors(fv, fo, len(fit_arts), budget_mask(fo, ft, 0, args.pick))
    data = tl.Data(args.newstag, x=fit_full)
    model = data.fit()
    layer = data.fit_share(args.newstag)
    main_layer = data.fit_main()
    # Every unit's zero-shot features, for the share of each subject among the units read.
    f_units = np.concatenate([data.tree.features(vecs[i : i + 8192]) for i in range(0, len(vecs), 8192)])
    codes = data.codes
    names = {c["code"]: c["name"] for c in data.tree.concepts if c["level"] == 1}

    results, probs = {}, {}
    masks = {k: budget_mask(owner, is_title, k, args.pick) for k in budgets}
    for k in budgets:
        mask = masks[k]
        x = doc_vectors(vecs, owner, len(arts), mask)
        share = tl.share(f_units[mask], owner[mask], len(arts), layer["zero_shot"])
        p = tl.scores(model, layer, main_layer, x, data.tree.features(x), share)
        ranked = [list(np.argsort(-row)) for row in p]
        reported = python_reported(p)
        results[k] = (ranked, reported, tokens[mask].sum() / tokens.sum())
        probs[k] = p

    if args.pick == "spread" and args.check:
        # newstag itself under the largest budget, on the first articles: does the replica
        # read the sentences newstag reads?
        k = budgets[-1]
        # Articles longer than the budget, so that it picks.
        n_sent = np.bincount(owner[~is_title], minlength=len(arts))
        idx = [i for i in range(len(arts)) if n_sent[i] > k][: args.check]
        some = [arts[i] for i in idx]
        with tempfile.TemporaryDirectory() as tmp:
            path = tl.write_articles(os.path.join(tmp, "check.jsonl"), some)
            records = run_newstag(args.newstag, path, ["--threshold", "0", "--depth", "1", "--topic-sentences", str(k)])
        got = [top_scores(records[a["id"]], codes) for a in some]
        diff = max(abs(got_i.get(codes[t], 0.0) - probs[k][i, t]) for i, got_i in zip(idx, got) for t in range(len(codes)))
        print(f"Replica against newstag --topic-sentences {k} on {len(some)} articles, every subject: "
              f"largest difference {diff:.4f} (newstag prints 4 decimals)\n")

    print(f"{args.split} split: " + ", ".join(f"{s} {sum(a['source'] == s for a in arts)}" for s in sorted({a['source'] for a in arts})))
    print("\nShare of the encoder's tokens read: " + ", ".join(
        f"{'all' if k == 0 else k} {results[k][2]:.1%}" for k in budgets))
    unit_source = np.array([a["source"] for a in arts])[owner]
    for src in sorted({a["source"] for a in arts}):
        of_src = unit_source == src
        tok = {k: tokens[masks[k] & of_src].sum() for k in budgets}
        print(f"  {src}: " + ", ".join(f"{'all' if k == 0 else k} {tok[k] / tok[0]:.1%}" for k in budgets))

    # Embedding each distinct unit once per run (an exact saving: syndicated copy and a
    # site's boilerplate repeat) skips what repeats within a source.
    texts, _, _ = tl.units(args.newstag, arts)
    print("\nUnits that repeat an earlier unit of the same source (what a run-wide cache of embeddings would skip):")
    for src in sorted({a["source"] for a in arts}):
        seen, units, tok = set(), 0, 0
        rows = np.flatnonzero(unit_source == src)
        for i in rows:
            if texts[i] in seen:
                units, tok = units + 1, tok + tokens[i]
            seen.add(texts[i])
        print(f"  {src}: {units / len(rows):.1%} of the units, {tok / tokens[rows].sum():.1%} of the tokens")
    measures = {k: subject_measures(arts, codes, results[k][0], results[k][1]) for k in budgets}
    head = " | ".join(f"{'all' if k == 0 else k}" for k in budgets)
    print(f"\n| source | subject | articles | r@1: {head} | r@3: {head} | recall: {head} |")
    print("|---|---|---|" + "---|" * 3)
    for (src, c), (count, _) in measures[0].items():
        cols = [" ".join(f"{measures[k][src, c][1][j]:.1%}" for k in budgets) for j in range(3)]
        print(f"| {src} | {names[c]} | {count} | " + " | ".join(cols) + " |")
    print("\nLargest drop against every sentence, over sources, subjects and the three measures: " + ", ".join(
        f"{k} {largest_drop(measures[0], measures[k]):.1%}" for k in budgets if k))

    if args.adaptive:
        # A stopping rule: the budget's sentences first; every sentence only for an article
        # whose budget leaves some subject within DELTA of the report bar (the sentences
        # already embedded are not embedded again, so such an article costs what it costs now).
        print(f"\nEvery sentence only where the budget leaves a subject within DELTA of the report bar ({REPORT}):\n")
        print("| N | DELTA | articles read whole (short ones too) | encoder tokens read | largest drop |")
        print("|---|---|---:|---:|---:|")
        for k in budgets[1:]:
            for delta in [float(d) for d in args.adaptive.split(",")]:
                whole = (np.abs(probs[k] - REPORT) < delta).any(1) | (np.bincount(owner[~masks[k]], minlength=len(arts)) == 0)
                p = np.where(whole[:, None], probs[0], probs[k])
                m = subject_measures(arts, codes, [list(np.argsort(-row)) for row in p], python_reported(p))
                read = tokens[masks[k] | whole[owner]].sum() / tokens.sum()
                print(f"| {k} | {delta} | {whole.mean():.1%} | {read:.1%} | {largest_drop(measures[0], m):.1%} |")


def subject_measures(arts, codes, ranked, reported):
    """{(source, subject): (articles, (r@1, r@3, recall))} over the subjects each source labels."""
    out = {}
    for src in sorted({a["source"] for a in arts}):
        idx = [i for i, a in enumerate(arts) if a["source"] == src]
        informs = set().union(*(arts[i]["informs"] for i in idx))
        for t, c in enumerate(codes):
            pos = [i for i in idx if c in arts[i]["subjects"]]
            if c in informs and pos:
                out[src, c] = (len(pos), (np.mean([ranked[i][0] == t for i in pos]), np.mean([t in ranked[i][:3] for i in pos]),
                                          np.mean([t in reported[i] for i in pos])))
    return out


def largest_drop(base, other):
    """The largest fall from `base` to `other` over sources, subjects and the three measures."""
    return max(max(b - o for b, o in zip(base[key][1], other[key][1])) for key in base)


if __name__ == "__main__":
    main()
