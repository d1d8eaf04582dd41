#!/usr/bin/env python3
"""Stage-by-stage check of the Rust port against spaCy/thinc (same pinned environment as
make_spacy_expected.py). Reads texts (one per line) from a file, runs the Rust
`dump_features` example on them, and compares per token:
  - NORM/PREFIX/SUFFIX/SHAPE ids (doc.to_array), exact;
  - the parser's 64-wide input vectors (NER tok2vec >> linear), max abs difference.
Usage: compare_stages.py MODEL_DIR TEXTS.txt"""
import json
import subprocess
import sys

import numpy
import spacy
from spacy.attrs import NORM, PREFIX, SHAPE, SUFFIX

model_dir, texts_path = sys.argv[1:3]
nlp = spacy.load(model_dir)
nlp = spacy.load(model_dir, exclude=[p for p in nlp.component_names if p != "ner"])
texts = [t for t in open(texts_path, encoding="utf8").read().split("\n") if t]
rust = subprocess.run(
    ["cargo", "run", "--release", "-q", "--example", "dump_features"],
    input="\n".join(texts) + "\n", capture_output=True, text=True, check=True,
    env={**__import__("os").environ, "SPACY_SM_DIR": model_dir},
).stdout.splitlines()
tok2vec = nlp.get_pipe("ner").model.get_ref("tok2vec")
feat_bad = 0
max_diff = 0.0
n_tok = 0
for text, line in zip(texts, rust):
    r = json.loads(line)
    doc = nlp.make_doc(text)
    want = doc.to_array([NORM, PREFIX, SUFFIX, SHAPE]).astype("uint64").tolist()
    got = [[int(x) for x in f] for f in r["feats"]]
    feat_bad += sum(1 for a, b in zip(want, got) if a != b) + abs(len(want) - len(got))
    vecs = tok2vec.predict([doc])
    vecs = vecs[0] if isinstance(vecs, list) else vecs
    rv = numpy.array(r["vecs"], dtype="float32").reshape(len(got), -1)
    if rv.shape == vecs.shape and len(got):
        max_diff = max(max_diff, float(numpy.abs(rv - vecs).max()))
    n_tok += len(want)
print(f"{len(texts)} texts, {n_tok} tokens: attribute-id mismatches {feat_bad}, "
      f"max |parser input difference| {max_diff:.3g}")
