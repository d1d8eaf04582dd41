#!/usr/bin/env python3
"""Python peer for `newstag annotate`: the fast profile as a Python user would write it, with
spaCy `nlp.pipe` for entities and onnxruntime + tokenizers + numpy for the embedding topic
method. Used by scripts/bench/bench; not part of newstag.

What it does, per run (everything is inside the timed process, as for newstag):
  * loads all-MiniLM-L6-v2 (model.onnx: whichever graph --model-dir holds; scripts/bench/bench
    passes the fp32 torch.onnx export, models/onnx/all-minilm-l6-v2-fp32.export.onnx, beside
    the same safetensors weights newstag reads, and once newstag's own fused graph) and its
    tokenizer.json, with tokenizer padding off,
    truncation at 256 tokens, and ONNX Runtime at --threads intra-op threads;
  * reads the IPTC Media Topics tree from --taxonomy (the xlsx in newstag's store, `newstag
    models path iptc-mediatopics`) with `read_taxonomy` of scripts/lib/topiclib.py, and the fitted
    calibration (--calibration, models/topics/iptc-calibration.json);
  * gives every IPTC concept two prototypes, its name in the zero-shot template and its
    definition (the name when it has none), and every topic of --topics that is not an IPTC
    top-level code (the desk topics of models/topics/news.toml) the prototypes
    `Topic::prototypes()` in src/topics/set.rs builds (label in the zero-shot template, the
    description, each `;`-clause longer than 3 bytes when there is more than one); --topics is
    scored beside the tree as newstag scores its shipped news set (newstag's own `--topics FILE`,
    a set reported alone, is not mirrored);
  * embeds them and the calibration background (models/topics/background.txt), giving each
    prototype a median / MAD baseline; these fixed embeddings are cached under --cache when
    given (newstag caches them too, under its store's cache/embeddings), keyed by the model
    files and the texts;
  * takes each article's sentences from --sentences (the JSONL `newstag segment` writes), so
    both tools embed exactly the same sentences and their topic scores can be compared; without
    it, a simple regex splitter (which differs from newstag's: abbreviations, quotes,
    boilerplate are not handled); an article's `title`, when the corpus has one, is a unit too;
  * with --spacy-model, runs spaCy's en_core_web_sm NER (`nlp.pipe`, the other components
    excluded since entities need none of them) over each article text, and records the
    entities as [start, end, label] with code point offsets;
  * embeds all sentences (and titles) in batches sorted by token length (newstag's budget,
    src/models/runtime.rs: 512 padded tokens, at most 16 per batch, which is faster here too than
    larger batches), mean-pools with the attention mask, L2-normalises;
  * scores topics as src/topics/embedding.rs does (its module comment has the method): the
    document vector is the normalised mean of the unit vectors; against every prototype (one
    matrix product) the cosine and the background z, maximised over each topic's prototypes,
    and for concepts also over their subtree; one logit per topic from the four shared weights,
    plus the fitted bias and linear heads of the top-level topics; each top-level topic's own
    probability (sigmoid, one-vs-rest), for a top-level topic without a head the mean of that
    logit and the share layer's (its fifth feature the topic's share of the units' zero-shot
    softmax), the main subject (topiclib.main_subject) kept first; a desk topic scored as sigmoid(its logit, + PATTERN_LOGIT times the share
    of units its patterns match, minus the log-sum-exp of the top-level topics' logits from
    their own prototypes), capped by its own probability on the shared prior; the best top-level topic always reported, the others from the
    threshold (default REPORT; desk topics from SECONDARY), under each reported top-level topic the concept found by
    descending while a child holds DESCEND_SHARE of its siblings' softmax, and as evidence the
    sentences ranked by the same probability computed on each sentence alone.

Records (one JSON per article: id, n_sentences, topics with label, code, path, score and
evidence) go to --output when given. The last line on stdout is a JSON summary with
articles_per_s (measured inside the process, after imports), for machines.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time
import tomllib

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
# The encoder and the IPTC reader are shared with the calibration's fit (scripts/lib/topiclib.py).
from topiclib import Encoder, main_subject, onnxruntime_run, read_taxonomy, under_main  # noqa: E402

LABEL_TEMPLATE = "This article is about {label}."
MAX_TOKENS = 256
TOKENS_PER_BATCH = 512
MAX_BATCH = 16
# The constants of src/topics/embedding.rs.
FLOOR = 0.12
REPORT = 0.5
SECONDARY = 0.33
DESCEND_SHARE = 0.5
PATTERN_LOGIT = 2.0
PATTERN_UNITS = 2.0
MIN_SD = 0.05
MAX_EVIDENCE = 5
DEFAULT_DEPTH = 6

# Split after . ! ? followed by whitespace: the splitter most Python users write first. It
# over-splits abbreviations ("Mr. Smith") and ignores quotes; deliberately naive.
SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text):
    return [s for s in (p.strip() for p in SENT_SPLIT.split(text)) if s]


def prototypes(label, description):
    """Mirror of Topic::prototypes() in src/topics/set.rs."""
    out = [LABEL_TEMPLATE.replace("{label}", label)]
    if out[0] != description:
        out.append(description)
    # Rust's str::len is in bytes.
    clauses = [c.strip() for c in description.split(";")]
    clauses = [c for c in clauses if len(c.encode("utf-8")) > 3]
    if len(clauses) > 1:
        out.extend(clauses)
    return out


def files_identity(model_dir):
    """Names, sizes and modification times of a model directory's files: a cache key part."""
    entries = []
    for name in sorted(os.listdir(model_dir)):
        st = os.stat(os.path.join(model_dir, name))
        entries.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return f"{os.path.abspath(model_dir)}|{'|'.join(entries)}"


def embed_fixed(enc, texts, cache=None, identity=""):
    """`enc.embed` for texts that are the same run after run (prototypes, the background): read
    from `cache` when it holds them, else embedded and stored there. The key covers the model
    files and every text."""
    if not cache:
        return enc.embed(texts)
    key = hashlib.sha256(identity.encode())
    for t in texts:
        key.update(t.encode())
        key.update(b"\0")
    path = os.path.join(cache, key.hexdigest() + ".npy")
    try:
        vecs = np.load(path)
        if vecs.shape[0] == len(texts):
            return vecs
    except (OSError, ValueError):
        pass
    vecs = enc.embed(texts)
    try:
        os.makedirs(cache, exist_ok=True)
        np.save(path, vecs)
    except OSError:
        pass
    return vecs


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_sum_exp(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


class Prototypes:
    """Prototype embeddings grouped by owner (a topic), each with its background baseline:
    median and MAD of its cosines with the background sentences (not mean and deviation: the
    background covers every subject, so a few of its sentences are on any given topic)."""

    def __init__(self, vecs, bounds, background):
        self.vecs, self.bounds = vecs, np.asarray(bounds, dtype=np.int64)
        sims = background @ vecs.T
        self.mu = np.median(sims, axis=0)
        self.sd = np.maximum(np.float32(1.4826) * np.median(np.abs(sims - self.mu), axis=0), MIN_SD)

    def features(self, units):
        """Per owner, for each unit vector: the best z and the best cosine over its prototypes,
        as [n, owners] each."""
        if len(self.bounds) == 0:
            empty = np.zeros((len(units), 0), dtype=np.float32)
            return empty, empty
        sims = units @ self.vecs.T
        z = np.maximum.reduceat((sims - self.mu) / self.sd, self.bounds, axis=1)
        return z, np.maximum.reduceat(sims, self.bounds, axis=1)


class TopicScorer:
    """The embedding topic method of src/topics/embedding.rs over the IPTC tree and the desk
    topics of a topic set: prototypes and the background are embedded once, at construction."""

    def __init__(self, taxonomy_xlsx, topics_path, background_path, calibration_path, enc,
                 threshold=None, depth=None, cache=None, identity=""):
        self.enc = enc
        self.concepts = read_taxonomy(taxonomy_xlsx)
        n_c = len(self.concepts)
        self.children = [[] for _ in range(n_c)]
        for i, c in enumerate(self.concepts):
            if c["parent"] is not None:
                self.children[c["parent"]].append(i)
        self.tops = [i for i, c in enumerate(self.concepts) if c["level"] == 1]
        # Children before parents, for the subtree maxima.
        self.bottom_up = sorted(range(n_c), key=lambda i: -self.concepts[i]["level"])
        code_index = {c["code"]: i for i, c in enumerate(self.concepts)}

        with open(background_path, encoding="utf-8") as f:
            background = [l.strip() for l in f]
        background = [l for l in background if l and not l.startswith("#")]
        bg = embed_fixed(enc, background, cache, identity)
        dim = bg.shape[1]

        with open(calibration_path, encoding="utf-8") as f:
            cal = json.load(f)
        keys = ("z_own", "z_sub", "cos_own", "cos_sub")
        # One-vs-rest weights for the top-level subjects; zero-shot ones for what competes
        # with the taxonomy (child concepts, desk topics).
        self.weights = tuple(float(cal["weights"][k]) for k in keys)
        self.zero_shot = tuple(float(cal["zero_shot"][k]) for k in keys)
        self.fitted = cal["fitted"]
        self.bias = float(cal["bias"])
        # Heads as one matrix: zero rows for the top-level topics without one.
        def heads(listed):
            w = np.zeros((len(self.tops), dim), dtype=np.float32)
            b = np.zeros(len(self.tops), dtype=np.float32)
            for h in listed:
                i = code_index.get(h["code"])
                if i is None or i not in self.tops:
                    raise ValueError(f"calibration: {h['code']} is not a top-level topic")
                if len(h["weights"]) != dim:
                    raise ValueError(f"calibration: head {h['code']} has {len(h['weights'])} weights for {dim}-dimensional embeddings")
                t = self.tops.index(i)
                w[t], b[t] = h["weights"], h["bias"]
            return w, b

        self.head_w, self.head_b = heads(cal["heads"])
        self.no_head = ~(np.abs(self.head_w).sum(1) > 0)
        # The layer that picks the main subject (topiclib.main_subject).
        main = cal["main"]
        self.main_weights, self.main_bias = tuple(float(main["weights"][k]) for k in keys), float(main["bias"])
        self.main_w, self.main_b = heads(main["heads"])
        # The share layer, for the top-level topics without a head.
        layer = cal["share"]
        self.share = (tuple(float(layer["weights"][k]) for k in keys), float(layer["share"]), float(layer["epsilon"]), float(layer["bias"]))

        concept_texts = []
        for c in self.concepts:
            concept_texts += [LABEL_TEMPLATE.replace("{label}", c["name"]), c["definition"] or c["name"]]
        self.tree = Prototypes(embed_fixed(enc, concept_texts, cache, identity), range(0, 2 * n_c, 2), bg)

        # The set's topics beside the tree, less its copies of the top-level subjects (they
        # would only echo them).
        with open(topics_path, "rb") as f:
            topics = tomllib.load(f)["topic"]
        self.topics, texts, bounds = [], [], []
        for t in topics:
            code = t.get("code")
            if code in code_index and self.concepts[code_index[code]]["level"] == 1:
                continue
            desc = t.get("description") or LABEL_TEMPLATE.replace("{label}", t["label"])
            bounds.append(len(texts))
            texts.extend(prototypes(t["label"], desc))
            self.topics.append(
                {
                    "label": t["label"],
                    "code": code,
                    "patterns": [re.compile(p) for p in t.get("patterns", [])],
                    "threshold": t.get("threshold"),
                }
            )
        self.outside = Prototypes(embed_fixed(enc, texts, cache, identity), bounds, bg)
        self.n_prototypes = len(concept_texts) + len(texts)
        # None: the default bars (REPORT for the tree, SECONDARY beside it); a threshold
        # replaces both, and then nothing below it is reported.
        self.threshold = threshold
        self.depth = max(DEFAULT_DEPTH if depth is None else depth, 1)

    def shared_logit(self, z, z_sub, cos, cos_sub, weights=None):
        wz, wzs, wc, wcs = weights or self.zero_shot
        return wz * z + wzs * z_sub + wc * cos + wcs * cos_sub

    def score(self, units, shares):
        """Scores unit vectors [n, dim] against every topic; `shares` [n, outside] is each
        desk topic's pattern evidence in [0, 1]. Returns each top-level topic's probability
        (with heads, one-vs-rest) [n, 17], the shared logits of every concept [n, concepts] and each desk
        topic's probability against the tree [n, outside]; and the top-level topics' four
        features and prior logit without a head, for the share layer; and the main layer's
        logits."""
        z, cos = self.tree.features(units)
        # Subtree maxima, concept-major so each step is one contiguous row.
        z_sub, cos_sub = z.T.copy(), cos.T.copy()
        for k in self.bottom_up:
            p = self.concepts[k]["parent"]
            if p is not None:
                np.maximum(z_sub[p], z_sub[k], out=z_sub[p])
                np.maximum(cos_sub[p], cos_sub[k], out=cos_sub[p])
        z, cos = z.astype(np.float64), cos.astype(np.float64)
        logits = self.shared_logit(z, z_sub.T, cos, cos_sub.T)
        t = self.tops
        prior = self.shared_logit(z[:, t], z_sub.T[:, t], cos[:, t], cos_sub.T[:, t], self.weights)
        tops = 1.0 / (1.0 + np.exp(-(prior + self.bias + self.head_b + units @ self.head_w.T)))
        # Desk topics are measured against the top-level topics' own prototypes, not their
        # subtrees (a maximum over a hundred concepts would bury every label).
        zt, ct = z[:, self.tops], cos[:, self.tops]
        reference = log_sum_exp(self.shared_logit(zt, zt, ct, ct))
        oz, oc = (a.astype(np.float64) for a in self.outside.features(units))
        lo = self.shared_logit(oz, oz, oc, oc) + PATTERN_LOGIT * shares
        outside = 1.0 / (1.0 + np.exp(-(lo - reference[:, None])))
        # Beside the tree a desk topic must also hold on its own: its one-vs-rest probability
        # on the shared prior caps it.
        alone = 1.0 / (1.0 + np.exp(-(self.shared_logit(oz, oz, oc, oc, self.weights) + self.bias + PATTERN_LOGIT * shares)))
        outside = np.minimum(outside, alone)
        # The top-level topics' features and prior logit (no head), for the share layer.
        features = (z[:, t], z_sub.T[:, t], cos[:, t], cos_sub.T[:, t], prior + self.bias)
        main_logits = self.shared_logit(*features[:4], self.main_weights) + self.main_bias + self.main_b + units @ self.main_w.T
        return tops, logits, outside, features, main_logits

    def descend(self, top, logits):
        """The most specific concept under `top` that carries it, descending while one child
        holds DESCEND_SHARE of its siblings' softmax, with the product of the shares; None when
        no child is clear."""
        at, share = top, 1.0
        while self.concepts[at]["level"] < self.depth and self.children[at]:
            children = self.children[at]
            p = softmax(logits[children])
            best = int(np.argmax(p))
            if p[best] < DESCEND_SHARE:
                break
            at = children[best]
            share *= float(p[best])
        return (at, share) if at != top else None

    def concept(self, i, p, evidence):
        path, at = [], i
        while at is not None:
            path.append(self.concepts[at]["name"])
            at = self.concepts[at]["parent"]
        c = self.concepts[i]
        return {"label": c["name"], "code": c["code"], "path": path[::-1], "score": round(float(p), 4), "evidence": evidence}

    def evidence(self, scores, bar):
        """Sentences whose own probability reaches the bar, strongest first."""
        ranked = sorted((-float(s), i) for i, s in enumerate(scores) if s >= bar)
        return [{"sentence": i, "score": round(-s, 4)} for s, i in ranked[:MAX_EVIDENCE]]

    def scores(self, docs):
        """Each document's reported topics; `docs` is a list of (sentences, title or None). All
        sentences and titles are embedded in one call."""
        units_text, spans = [], []
        for ss, title in docs:
            units = list(ss) + ([title] if title and title.strip() else [])
            spans.append((len(units_text), len(units), len(ss)))
            units_text += units
        vecs = self.enc.embed(units_text)
        # Which units each desk topic's patterns match.
        hits = np.array(
            [[any(p.search(u) for p in t["patterns"]) for t in self.topics] for u in units_text],
            dtype=np.float64,
        ).reshape(len(units_text), len(self.topics))
        # Vector 0 of each document is its normalised mean, then one per unit.
        rows, shares, doc_row = [], [], []
        for start, n, _ in spans:
            if n == 0:
                doc_row.append(None)
                continue
            mean = vecs[start : start + n].sum(axis=0)
            mean /= max(float(np.sqrt((mean * mean).sum())), 1e-12)
            doc_row.append(sum(len(r) for r in rows))
            rows.append(np.vstack([mean[None, :], vecs[start : start + n]]))
            shares.append(
                np.vstack([np.minimum(hits[start : start + n].sum(axis=0) / PATTERN_UNITS, 1.0)[None, :], hits[start : start + n]])
            )
        if not rows:
            return [[] for _ in docs]
        tops, logits, outside, features, main_logits = self.score(np.vstack(rows).astype(np.float32), np.vstack(shares))
        fitted = tops.copy()
        # Without a head: the mean of the fitted prior's logit and the share layer's, whose
        # fifth feature is the topic's share of the units (a unit's own softmax; the
        # document's the mean of its units').
        w, k, eps, b = self.share
        zt, zst, ct, cst, prior = features
        own = softmax(logits[:, self.tops], axis=1)
        share = own.copy()
        for (start, n, _), r in zip(spans, doc_row):
            if r is not None:
                share[r] = own[r + 1 : r + 1 + n].mean(axis=0)
        with_share = self.shared_logit(zt, zst, ct, cst, w) + k * np.log(share + eps) + b
        mixed = 1.0 / (1.0 + np.exp(-(prior + with_share) / 2))
        tops[:, self.no_head] = mixed[:, self.no_head]
        tree_bar = REPORT if self.threshold is None else self.threshold
        outside_bar = SECONDARY if self.threshold is None else self.threshold
        floor = min(FLOOR, tree_bar)
        out = []
        for (start, n, n_sent), r in zip(spans, doc_row):
            if r is None:
                out.append([])
                continue
            sents = slice(r + 1, r + 1 + n_sent)  # only sentences are evidence, not the title
            topics = []
            # The main topic (topiclib.main_subject); the others stay a printed step under it.
            best = int(main_subject(fitted[r : r + 1], main_logits[r : r + 1], self.no_head)[0])
            doc = under_main(tops[r : r + 1], np.array([best]))[0]
            for t, p in enumerate(doc):
                if not (p >= tree_bar or (t == best and self.threshold is None)):
                    continue
                ev = self.evidence(tops[sents, t], tree_bar)
                topics.append(self.concept(self.tops[t], p, ev))
                found = self.descend(self.tops[t], logits[r])
                if found and p * found[1] >= floor:
                    topics.append(self.concept(found[0], p * found[1], ev))
            for o, t in enumerate(self.topics):
                p = outside[r, o]
                bar = t["threshold"] if t["threshold"] is not None else outside_bar
                if p < bar:
                    continue
                topics.append(
                    {
                        "label": t["label"],
                        "code": t["code"],
                        "path": [t["label"]],
                        "score": round(float(p), 4),
                        "evidence": self.evidence(outside[sents, o], bar),
                    }
                )
            topics.sort(key=lambda x: (-x["score"], x["label"]))
            out.append(topics)
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help="JSONL with {id, text} per line")
    ap.add_argument("--model-dir", required=True, help="directory with model.onnx, tokenizer.json")
    ap.add_argument("--taxonomy", required=True, help="IPTC-MediaTopic-NewsCodes.xlsx (in `newstag models path iptc-mediatopics`)")
    ap.add_argument("--topics", required=True, help="topic set TOML scored beside the tree (models/topics/news.toml)")
    ap.add_argument("--background", required=True, help="models/topics/background.txt")
    ap.add_argument("--calibration", default=os.path.join(ROOT, "models", "topics", "iptc-calibration.json"), help="fitted calibration (default: models/topics/iptc-calibration.json)")
    ap.add_argument("--cache", help="directory to cache the prototype and background embeddings in")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", help="write one JSON record per article here")
    ap.add_argument("--threshold", type=float, help=f"report only topics from this probability (default: the best always, other subjects from {REPORT}, desk topics from {SECONDARY}; a topic's own threshold wins)")
    ap.add_argument("--depth", type=int, help=f"report IPTC concepts at most this many levels deep (default {DEFAULT_DEPTH})")
    ap.add_argument("--sentences", help="sentences per article: `newstag segment` JSONL output")
    ap.add_argument("--spacy-model", help="en_core_web_sm directory: also run spaCy NER")
    args = ap.parse_args()

    t0 = time.perf_counter()
    enc = Encoder(
        f"{args.model_dir}/tokenizer.json",
        onnxruntime_run(f"{args.model_dir}/model.onnx", args.threads),
    )
    scorer = TopicScorer(
        args.taxonomy, args.topics, args.background, args.calibration, enc,
        threshold=args.threshold, depth=args.depth, cache=args.cache, identity=files_identity(args.model_dir),
    )

    given = {}
    if args.sentences:
        with open(args.sentences, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    given[r["id"]] = [s["text"] for s in r.get("sentences", [])]
    nlp = None
    if args.spacy_model:
        import spacy

        # Component names from the config, so the model is loaded once, with only `ner`.
        names = spacy.util.load_config(f"{args.spacy_model}/config.cfg")["nlp"]["pipeline"]
        nlp = spacy.load(args.spacy_model, exclude=[p for p in names if p != "ner"])
    t_loaded = time.perf_counter()

    docs, texts = [], []
    with open(args.corpus, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                ss = given[a["id"]] if args.sentences else split_sentences(a["text"])
                docs.append((a["id"], ss, a.get("title")))
                texts.append(a["text"])
    entities = [None] * len(docs)
    if nlp is not None:
        entities = [
            [[e.start_char, e.end_char, e.label_] for e in d.ents] for d in nlp.pipe(texts)
        ]
    topics = scorer.scores([(ss, title) for _, ss, title in docs])

    out = open(args.output, "w", encoding="utf-8") if args.output else None
    tagged = 0
    for (doc_id, ss, _), ents, found in zip(docs, entities, topics):
        rec = {"id": doc_id, "n_sentences": len(ss), "topics": found}
        if ents is not None:
            rec["entities"] = ents
        tagged += bool(rec["topics"])
        if out:
            out.write(json.dumps(rec) + "\n")
    if out:
        out.close()
    t_end = time.perf_counter()

    work = t_end - t0
    print(
        json.dumps(
            {
                "tool": "python-peer",
                "articles": len(docs),
                "sentences": sum(len(ss) for _, ss, _ in docs),
                "articles_tagged": tagged,
                "concepts": len(scorer.concepts),
                "topics": len(scorer.topics),
                "prototypes": scorer.n_prototypes,
                "import_s": round(t0 - T_START, 3),
                "load_s": round(t_loaded - t0, 3),
                "total_s": round(work, 3),
                "articles_per_s": round(len(docs) / work, 2) if work > 0 else None,
                "sentences_per_s": round(sum(len(ss) for _, ss, _ in docs) / work, 2)
                if work > 0
                else None,
                "onnxruntime": ort.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
