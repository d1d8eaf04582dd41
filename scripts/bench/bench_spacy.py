#!/usr/bin/env python3
"""spaCy's single-process words/s over the held-out fixture (best of 3), for comparison
with `cargo run --release --example bench`. Same pinned environment as
make_spacy_expected.py. Usage: bench_spacy.py MODEL_DIR [FIXTURE]"""
import gzip
import json
import sys
import time

import spacy

model_dir = sys.argv[1]
fixture = sys.argv[2] if len(sys.argv) > 2 else "fixtures/spacy/heldout.jsonl.gz"
nlp = spacy.load(model_dir)
nlp = spacy.load(model_dir, exclude=[p for p in nlp.component_names if p != "ner"])
texts = [json.loads(line)["text"] for line in gzip.open(fixture, "rt", encoding="utf8")]
words = sum(1 for d in nlp.pipe(texts) for t in d if not t.is_space)
for label, run in [("nlp.pipe", lambda: list(nlp.pipe(texts))), ("nlp(text) each", lambda: [nlp(t) for t in texts])]:
    best = min(_timed for _timed in (
        (lambda s: (run(), time.perf_counter() - s)[1])(time.perf_counter()) for _ in range(3)))
    print(f"spaCy {spacy.__version__} ner only, {label}: {words / best:.0f} words/s ({words} words)")
