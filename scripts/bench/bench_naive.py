#!/usr/bin/env python3
"""The naive peer of `newstag annotate`: the pipeline a user writes in an afternoon, without
tuning, for the same job. Used by scripts/bench/bench (its "naive peer" row); not part of
newstag, and deliberately not optimised (bench_peer.py is the tuned peer).

What it does, per run (everything inside the timed process, as for newstag):
  * spaCy's en_core_web_sm (--spacy-model) with the parser left out and the rule-based
    `sentencizer` added, as spaCy's documentation suggests when only sentences and entities
    are wanted; `nlp.pipe` over the article texts gives each article's sentences and entities;
  * all-MiniLM-L6-v2 int8 (--model-dir: model.onnx and tokenizer.json, the store's
    all-minilm-l6-v2-int8) on ONNX Runtime at --threads intra-op threads, one `session.run` per
    sentence (truncated at 256 tokens), mean pooling over the attention mask, L2 norm;
  * the topic prototypes: each topic of --topics (models/topics/news.toml: the 17 IPTC
    subjects and the desk topics) embedded from its label and description, once per run;
  * per article, the cosine of the mean sentence vector with each prototype; the topics with a
    cosine of at least --threshold, at most --top, best first (the best one always).

Records (id, entities as [start, end, label] in code points, topics with label and score) go to
--output when given. The last line on stdout is a JSON summary with articles_per_s.
"""

import argparse
import json
import sys
import time
import tomllib

import numpy as np


def embed(tok, session, names, text):
    enc = tok.encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.array([enc.attention_mask], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, {k: v for k, v in feed.items() if k in names})[0][0]
    m = mask[0][:, None].astype(np.float32)
    vec = (hidden * m).sum(axis=0) / max(m.sum(), 1e-9)
    return vec / max(np.linalg.norm(vec), 1e-12)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", help="JSONL articles with id and text")
    ap.add_argument("--model-dir", required=True, help="model.onnx (int8) and tokenizer.json")
    ap.add_argument("--spacy-model", required=True, help="en_core_web_sm directory")
    ap.add_argument("--topics", required=True, help="topic set TOML (models/topics/news.toml)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--output")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import onnxruntime as ort
    import spacy
    from tokenizers import Tokenizer

    nlp = spacy.load(args.spacy_model, exclude=["parser"])
    nlp.add_pipe("sentencizer")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    session = ort.InferenceSession(f"{args.model_dir}/model.onnx", opts, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    tok = Tokenizer.from_file(f"{args.model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(max_length=256)

    with open(args.topics, "rb") as f:
        topics = tomllib.load(f)["topic"]
    labels = [t["label"] for t in topics]
    protos = np.stack([embed(tok, session, names, f"{t['label']}. {t.get('description', '')}") for t in topics])

    with open(args.corpus, encoding="utf-8") as f:
        articles = [json.loads(line) for line in f if line.strip()]
    out = open(args.output, "w", encoding="utf-8") if args.output else None
    n_sents = 0
    for art, doc in zip(articles, nlp.pipe(a["text"] for a in articles)):
        sents = [s.text for s in doc.sents if s.text.strip()]
        n_sents += len(sents)
        vecs = [embed(tok, session, names, s) for s in sents]
        topics_out = []
        if vecs:
            mean = np.mean(vecs, axis=0)
            mean /= max(np.linalg.norm(mean), 1e-12)
            sims = protos @ mean
            order = np.argsort(-sims)[: args.top]
            topics_out = [
                {"label": labels[i], "score": round(float(sims[i]), 4)}
                for rank, i in enumerate(order)
                if rank == 0 or sims[i] >= args.threshold
            ]
        if out:
            # spaCy's character offsets are code points, as newstag's are.
            ents = [[e.start_char, e.end_char, e.label_] for e in doc.ents]
            out.write(json.dumps({"id": art["id"], "entities": ents, "topics": topics_out}) + "\n")
    if out:
        out.close()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"articles": len(articles), "sentences": n_sents, "articles_per_s": len(articles) / elapsed}))


if __name__ == "__main__":
    sys.exit(main())
