#!/usr/bin/env python3
"""Python peer for `newstag annotate`: the fast profile as a Python user would write it, with
spaCy `nlp.pipe` for entities and onnxruntime + tokenizers + numpy for the embedding topic
method. Used by scripts/bench; not part of newstag.

What it does, per run (everything is inside the timed process, as for newstag):
  * loads all-MiniLM-L6-v2 (model.onnx: whichever graph --model-dir holds; scripts/bench
    passes the fp32 torch.onnx export, models/onnx/all-minilm-l6-v2-fp32.export.onnx, beside
    the same safetensors weights newstag reads, and once newstag's own fused graph) and its
    tokenizer.json, with tokenizer padding off,
    truncation at 256 tokens, and ONNX Runtime at --threads intra-op threads;
  * builds each topic's prototypes exactly as `Topic::prototypes()` in src/topics/set.rs does
    (label in the zero-shot template, the description, each `;`-clause longer than 3 bytes when
    there is more than one) and embeds them, plus the calibration background
    (models/topics/background.txt), giving a per-topic median / MAD baseline;
  * takes each article's sentences from --sentences (the JSONL `newstag segment` writes), so
    both tools embed exactly the same sentences and their topic scores can be compared; without
    it, a simple regex splitter (which differs from newstag's: abbreviations, quotes,
    boilerplate are not handled);
  * with --spacy-model, runs spaCy's en_core_web_sm NER (`nlp.pipe`, the other components
    excluded since entities need none of them) over each article text, and records the
    entities as [start, end, label] with code point offsets;
  * embeds all sentences in batches sorted by token length (newstag's budget, src/runtime.rs:
    512 padded tokens, at most 16 per batch, which is faster here too than larger batches),
    mean-pools with the attention mask, L2-normalises;
  * cosine against every prototype (one matrix product), max over each topic's prototypes,
    background z-score, +2 for a topic pattern match, the echo discount, and the document score
    sigmoid((mean of top-k sentence z, k = n/4 in [1, 5]) - 4) / 0.6). The exact calibration
    is not the point: the similarity matrix and the encoder passes are the cost that matters.

Records (one JSON per article: id, n_sentences, topics) go to --output when given. The last
line on stdout is a JSON summary with articles_per_s (measured inside the process, after
imports), for machines.
"""

import argparse
import json
import math
import re
import sys
import time
import tomllib

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

LABEL_TEMPLATE = "This article is about {label}."
MAX_TOKENS = 256
TOKENS_PER_BATCH = 512
MAX_BATCH = 16
PATTERN_Z = 2.0
Z_MID = 4.0
Z_SCALE = 0.6
MIN_SD = 0.05
ECHO_GAP = 1.0
ECHO_WEIGHT = 0.5
DEFAULT_THRESHOLD = 0.5

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


def onnxruntime_run(model_path, threads):
    """A forward pass on ONNX Runtime: feed dict -> last_hidden_state. token_type_ids is sent
    only when the graph has that input."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in sess.get_inputs()}
    output = sess.get_outputs()[0].name
    return lambda feed: sess.run([output], {k: v for k, v in feed.items() if k in inputs})[0]


class Encoder:
    """Sentence embeddings: tokenize, length-sorted batches under a padded-token budget, `run`
    (a feed dict -> last_hidden_state function), mean pooling over the mask, L2 norm."""

    def __init__(self, tokenizer_path, run, tokens=TOKENS_PER_BATCH, inputs=MAX_BATCH):
        self.tok = Tokenizer.from_file(tokenizer_path)
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=MAX_TOKENS)
        self.run = run
        self.tokens, self.inputs = tokens, inputs

    def embed(self, texts):
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encs = self.tok.encode_batch(texts)
        lens = np.array([len(e.ids) for e in encs])
        order = np.argsort(lens, kind="stable")
        out = None
        start = 0
        n = len(order)
        while start < n:
            end = start + 1
            while (
                end < n
                and end - start < self.inputs
                and (end - start + 1) * lens[order[end]] <= self.tokens
            ):
                end += 1
            idx = order[start:end]
            width = max(1, int(lens[idx].max()))
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encs[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = e.attention_mask
            hidden = self.run(
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            m = mask[:, :, None].astype(np.float32)
            vec = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.empty((n, vec.shape[1]), dtype=np.float32)
            out[idx] = vec
            start = end
        return out


def topic_max(sims, bounds):
    """Per-topic max over its prototype columns; bounds are the start columns of each topic."""
    return np.maximum.reduceat(sims, bounds, axis=1)


class TopicScorer:
    """The embedding topic method of src/topics/embedding.rs: prototypes and the background
    calibration are embedded once, at construction."""

    def __init__(self, topics_path, background_path, enc, threshold=None):
        with open(topics_path, "rb") as f:
            topics = tomllib.load(f)["topic"]
        self.labels, self.protos, bounds, self.patterns, self.thresholds = [], [], [], [], []
        for t in topics:
            desc = t.get("description") or LABEL_TEMPLATE.replace("{label}", t["label"])
            bounds.append(len(self.protos))
            self.protos.extend(prototypes(t["label"], desc))
            self.labels.append(t["label"])
            self.patterns.append([re.compile(p) for p in t.get("patterns", [])])
            self.thresholds.append(
                threshold if threshold is not None else t.get("threshold", DEFAULT_THRESHOLD)
            )
        self.bounds = np.array(bounds)
        with open(background_path, encoding="utf-8") as f:
            background = [l.strip() for l in f]
        background = [l for l in background if l and not l.startswith("#")]
        self.enc = enc
        self.proto_vecs = enc.embed(self.protos)
        bg = topic_max(enc.embed(background) @ self.proto_vecs.T, self.bounds)
        self.mu = np.median(bg, axis=0)
        self.sd = np.maximum(1.4826 * np.median(np.abs(bg - self.mu), axis=0), MIN_SD)

    def scores(self, docs):
        """Each document's score for every topic (None for a document without sentences);
        `docs` is a list of sentence lists. All sentences are embedded in one call."""
        sentences = [s for ss in docs for s in ss]
        vecs = self.enc.embed(sentences)
        cos = topic_max(vecs @ self.proto_vecs.T, self.bounds)  # sentences x topics
        z = (cos - self.mu) / self.sd
        for t, pats in enumerate(self.patterns):
            if pats:
                hit = [any(p.search(s) for p in pats) for s in sentences]
                z[:, t] += PATTERN_Z * np.array(hit, dtype=np.float32)
        best = z.max(axis=1, keepdims=True)
        z = z - ECHO_WEIGHT * np.maximum(best - z - ECHO_GAP, 0.0)
        out, at = [], 0
        for ss in docs:
            n = len(ss)
            if n:
                k = min(max(math.ceil(n / 4), 1), 5)
                top = -np.sort(-z[at : at + n], axis=0)[:k].mean(axis=0)
                out.append(1.0 / (1.0 + np.exp(-(top - Z_MID) / Z_SCALE)))
            else:
                out.append(None)
            at += n
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help="JSONL with {id, text} per line")
    ap.add_argument("--model-dir", required=True, help="directory with model.onnx, tokenizer.json")
    ap.add_argument("--topics", required=True, help="topic set TOML (models/topics/news.toml)")
    ap.add_argument("--background", required=True, help="models/topics/background.txt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", help="write one JSON record per article here")
    ap.add_argument("--threshold", type=float, help="report topics scoring at least this (default: each topic's own)")
    ap.add_argument("--sentences", help="sentences per article: `newstag segment` JSONL output")
    ap.add_argument("--spacy-model", help="en_core_web_sm directory: also run spaCy NER")
    args = ap.parse_args()

    t0 = time.perf_counter()
    enc = Encoder(
        f"{args.model_dir}/tokenizer.json",
        onnxruntime_run(f"{args.model_dir}/model.onnx", args.threads),
    )
    scorer = TopicScorer(args.topics, args.background, enc, args.threshold)

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
                docs.append((a["id"], ss))
                texts.append(a["text"])
    entities = [None] * len(docs)
    if nlp is not None:
        entities = [
            [[e.start_char, e.end_char, e.label_] for e in d.ents] for d in nlp.pipe(texts)
        ]
    scores = scorer.scores([ss for _, ss in docs])

    out = open(args.output, "w", encoding="utf-8") if args.output else None
    tagged = 0
    for (doc_id, ss), ents, score in zip(docs, entities, scores):
        rec = {"id": doc_id, "n_sentences": len(ss), "topics": []}
        if ents is not None:
            rec["entities"] = ents
        if score is not None:
            rec["topics"] = sorted(
                (
                    {"label": label, "score": round(float(score[t]), 4)}
                    for t, label in enumerate(scorer.labels)
                    if score[t] >= scorer.thresholds[t]
                ),
                key=lambda r: (-r["score"], r["label"]),
            )
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
                "sentences": sum(len(ss) for _, ss in docs),
                "articles_tagged": tagged,
                "prototypes": len(scorer.protos),
                "topics": len(scorer.labels),
                "import_s": round(t0 - T_START, 3),
                "load_s": round(t_loaded - t0, 3),
                "total_s": round(work, 3),
                "articles_per_s": round(len(docs) / work, 2) if work > 0 else None,
                "sentences_per_s": round(sum(len(ss) for _, ss in docs) / work, 2)
                if work > 0
                else None,
                "onnxruntime": ort.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
