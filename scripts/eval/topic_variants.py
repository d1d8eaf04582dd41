#!/usr/bin/env python3
"""Ways to protect subjects without labelled data, compared by the cross-validation inside the
fit split that chose the shipped layer (scripts/gen/fit_topics.py --cv): the fit split halved by
sha256(id + "#cv"), fitted on one half, scored on the other. Prints, per variant, how often a BBC
article's desk comes first and the leave-one-subject-out recall@3 of every subject with
labelled data (refitted without its labels, so scored as a subject without data). The table in
docs/topics.md ("Tried to protect subjects without data") is this script's output. Nothing
held out is read.

Usage: scripts/eval/topic_variants.py [--newstag BIN]   (the venv of scripts/eval/eval_topics)
"""

import argparse
import functools
import hashlib
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import topiclib as tl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    args = ap.parse_args()
    data = tl.Data(args.newstag)
    fold = np.array([hashlib.sha256((a["id"] + "#cv").encode()).digest()[0] % 2 for a in data.arts])
    tr, te = fold != 1, fold == 1
    y_all, _ = tl.targets(data.arts, data.codes, tl.NEG_WEIGHT)
    covered = [t for t in range(len(data.codes)) if y_all[:, t].sum() > 0]
    bbc = np.array([a["source"] == "bbc" for a in data.arts])[te]
    y = y_all[te]

    def fit_prior_only(keep=None, drop_subject=None):
        x, f, yy, m, hm = data.training(keep, drop_subject)
        center = data.x[keep].mean(0)
        return tl.fit(x, f, yy, m, np.zeros_like(hm), tl.LAMBDA, center=center)

    def fit_weak(keep=None, drop_subject=None, tau=0.05, weight=0.5):
        """Two stages, with the pairs a source is silent on counted as "no" (weight times the
        source's mean pair weight) where the fitted prior gives them under `tau`."""
        x, f, yy, m, hm = data.training(keep, drop_subject)
        center = data.x[keep].mean(0)
        p = tl.fit(x, f, yy, m, np.zeros_like(hm), tl.LAMBDA, center=center)
        n = keep.sum()
        prior = tl.sigmoid((f[:n] * p["a"]).sum(2) + p["beta"])
        m = m.copy()
        src = np.array([a["source"] for a, k in zip(data.arts, keep) if k])
        for s in set(src):
            rows = np.where(src == s)[0]
            block = m[rows]
            block[(block == 0) & (prior[rows] < tau)] = weight * block[block > 0].mean()
            m[rows] = block
        return tl.fit(x, f, yy, m, hm, tl.LAMBDA, center=center, prior=(p["a"], p["beta"]))

    def zero_shot(keep, drop):
        one = [i for i, a in enumerate(data.arts) if keep[i] and len(a["subjects"]) == 1
               and (drop is None or data.codes.index(next(iter(a["subjects"]))) != drop)]
        g = np.array([data.codes.index(next(iter(data.arts[i]["subjects"]))) for i in one])
        s = [data.arts[i]["source"] for i in one]
        w = np.concatenate([[1 / s.count(v) for v in s], np.full(len(data.x_p), tl.PSEUDO_WEIGHT / len(data.x_p))])
        return tl.fit_zero_shot(np.concatenate([data.f[one], data.f_p]), np.concatenate([g, data.g_p]), w)

    def ranked(fit, key):
        """fit(keep, drop) -> model; key(p, softmax share, head mask) -> ranking score."""
        def scores(drop):
            m = fit(tr, drop)
            p = tl.sigmoid(tl.logits(m, data.x[te], data.f[te]))
            if key is None:
                return p
            share = tl.softmax((data.f[te] * zero_shot(tr, drop)).sum(2))
            return key(p, share, np.abs(m["v"]).sum(1) > 0)
        return scores

    shipped = lambda keep, drop: data.fit(keep, drop_subject=drop)  # noqa: E731
    variants = [
        ("shipped (two stages, heads for labelled subjects)", ranked(shipped, None)),
        ("the zero-shot prior alone, no heads", ranked(lambda k, d: fit_prior_only(k, d), None)),
        ("heads for every subject, those without data on their pseudo-examples", ranked(lambda k, d: data.fit(k, drop_subject=d, heads="all"), None)),
        ("weak negatives under 0.05 (weight 0.5)", ranked(functools.partial(fit_weak, tau=0.05, weight=0.5), None)),
        ("weak negatives under 0.2 (weight 1)", ranked(functools.partial(fit_weak, tau=0.2, weight=1.0), None)),
        ("weak negatives under 0.3 (weight 2)", ranked(functools.partial(fit_weak, tau=0.3, weight=2.0), None)),
        ("no head: max(probability, zero-shot share)", ranked(shipped, lambda p, s, h: np.where(h[None, :], p, np.maximum(p, s)))),
        ("every subject: max(probability, zero-shot share)", ranked(shipped, lambda p, s, h: np.maximum(p, s))),
        ("every subject: mean of the two", ranked(shipped, lambda p, s, h: (p + s) / 2)),
    ]
    names = [data.tree.concepts[data.tree.tops[t]]["name"].split(",")[0] for t in covered]
    print("| variant | BBC desk first | " + " | ".join(names) + " | mean LOSO r@3 | worst |")
    print("|---|---:|" + "---:|" * (len(names) + 2))
    for name, scores in variants:
        rank = np.argsort(-scores(None), 1)
        first = (y[bbc][np.arange(bbc.sum()), rank[bbc, 0]] > 0).mean()
        loso = []
        for t in covered:
            r = np.argsort(-scores(t), 1)
            loso.append((r[y[:, t] > 0, :3] == t).any(1).mean())
        print(f"| {name} | {first:.1%} | " + " | ".join(f"{v:.0%}" for v in loso) + f" | {np.mean(loso):.0%} | {min(loso):.0%} |", flush=True)


if __name__ == "__main__":
    main()
