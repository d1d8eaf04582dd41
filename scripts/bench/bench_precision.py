#!/usr/bin/env python3
"""What lower precision would buy the fast profile, and what it would cost: MiniLM embeddings
(tokenization, forward pass, pooling: the bulk of a fast-profile run; topiclib's Encoder, as
bench_peer.py runs it) of the sentences `newstag segment` finds, on
  * ONNX Runtime fp32, the torch.onnx export (what the Python peer runs) and newstag's fused graph;
  * OpenVINO fp32 and bf16 (bf16 runs on AMX or AVX512-BF16 where the CPU has them; ONNX
    Runtime's CPU provider has no bf16 arithmetic),
then the topic probabilities of every article (bench_peer.py's scoring of the article's mean
sentence vector: the 17 top-level subjects and the desk topics of models/topics/news.toml)
with bf16 embeddings against fp32 ones. Not part of newstag; it backs docs/limits.md on
reaching 3x the Python pipeline. Nothing here asserts on timings.

Pinned environment:
    python3 -m venv /tmp/precvenv
    /tmp/precvenv/bin/pip install onnxruntime==1.32.0 openvino==2026.4.1 tokenizers==0.23.3 numpy==2.4.6 \
        openpyxl==3.1.5 scipy==1.17.1

Usage (from the repository root; the store must hold all-minilm-l6-v2-fp32):
    target/release/newstag segment -q CORPUS.jsonl > SEGMENTS.jsonl
    /tmp/precvenv/bin/python scripts/bench/bench_precision.py SEGMENTS.jsonl [--threads 2] [--runs 3]
(scripts/bench/bench's corpus: 100 articles of 20 nlp-corpus sentences; the run in docs/benchmarks.md used it.)
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
from bench_peer import TopicScorer  # noqa: E402
from topiclib import Encoder, onnxruntime_run, ov_runner  # noqa: E402
TOPICS = os.path.join(ROOT, "models/topics/news.toml")
BACKGROUND = os.path.join(ROOT, "models/topics/background.txt")
CALIBRATION = os.path.join(ROOT, "models/topics/iptc-calibration.json")


def store_dir(name):
    store = os.environ.get("NEWSTAG_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstag")
    return os.path.join(store, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("segments", help="`newstag segment` JSONL of the corpus")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    model = store_dir("all-minilm-l6-v2-fp32")
    taxonomy = os.path.join(store_dir("iptc-mediatopics"), "IPTC-MediaTopic-NewsCodes.xlsx")
    docs = []
    with open(args.segments, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                docs.append([s["text"] for s in json.loads(line).get("sentences", [])])
    sentences = [s for d in docs for s in d]
    tokenizer = os.path.join(model, "tokenizer.json")

    with tempfile.TemporaryDirectory() as tmp:
        # Both graphs beside one copy of the weights (ONNX Runtime refuses external data reached
        # through a symlink out of the model's directory).
        shutil.copy(os.path.join(model, "model.safetensors"), tmp)
        fused = shutil.copy(os.path.join(ROOT, "models/onnx/all-minilm-l6-v2-fp32.onnx"),
                            os.path.join(tmp, "fused.onnx"))
        export = shutil.copy(os.path.join(ROOT, "models/onnx/all-minilm-l6-v2-fp32.export.onnx"),
                             os.path.join(tmp, "export.onnx"))
        bf16 = ov_runner(export, args.threads, "bf16")
        encoders = {
            "onnxruntime fp32, torch.onnx export":
                Encoder(tokenizer, onnxruntime_run(export, args.threads)),
            "onnxruntime fp32, newstag's fused graph":
                Encoder(tokenizer, onnxruntime_run(fused, args.threads)),
            "openvino fp32, torch.onnx export": Encoder(tokenizer, ov_runner(export, args.threads, "f32")),
            "openvino bf16, torch.onnx export": Encoder(tokenizer, bf16),
            # AMX works on larger tiles: bf16 is also timed at 2048-token, 64-input passes.
            "openvino bf16, torch.onnx export, 2048-token passes": Encoder(tokenizer, bf16, 2048, 64),
        }
        times, vecs = {}, {}
        for name, enc in encoders.items():
            enc.embed(sentences[:64])  # warm-up
            walls = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                vecs[name] = enc.embed(sentences)
                walls.append(time.perf_counter() - t0)
            times[name] = sorted(walls)[len(walls) // 2]
        ref_name = "onnxruntime fp32, torch.onnx export"
        tokens = sum(len(e.ids) for e in encoders[ref_name].tok.encode_batch(sentences))
        print(f"MiniLM tokenization, forward pass and pooling over {len(sentences)} sentences "
              f"({tokens} tokens), {args.threads} threads, median of {args.runs}:\n")
        print("| runtime, graph | seconds | speed vs ONNX Runtime fp32 export | min cosine to it |")
        print("|---|---:|---:|---:|")
        for name in encoders:
            a, b = vecs[name].astype(np.float64), vecs[ref_name].astype(np.float64)
            a /= np.linalg.norm(a, axis=1, keepdims=True)
            b /= np.linalg.norm(b, axis=1, keepdims=True)
            cos = (a * b).sum(axis=1).min()
            print(f"| {name} | {times[name]:.2f} | {times[ref_name] / times[name]:.2f}x | {cos:.7f} |")

        # Prototypes and background embedded once, in fp32: only the articles' vectors differ.
        scorer = TopicScorer(taxonomy, TOPICS, BACKGROUND, CALIBRATION, encoders[ref_name])

        def doc_scores(name):
            rows, start = [], 0
            for d in docs:
                mean = vecs[name][start : start + len(d)].sum(axis=0)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
                start += len(d)
            units = np.array(rows, dtype=np.float32)
            tops, _, outside, *_ = scorer.score(units, np.zeros((len(units), len(scorer.topics))))
            return np.hstack([tops, outside])

        fp32 = doc_scores("onnxruntime fp32, newstag's fused graph")
        low = doc_scores("openvino bf16, torch.onnx export")
    diff = np.abs(fp32 - low)
    flips = int(((fp32 >= 0.5) != (low >= 0.5)).sum())
    print(f"\nTopic scores, bf16 against fp32 embeddings ({diff.size} = {len(docs)} articles x "
          f"{diff.shape[1]} topics): max |difference| {diff.max():.4f}, 99th percentile "
          f"{np.quantile(diff, 0.99):.4f}, {(diff > 1e-3).sum()} over 1e-3; "
          f"{flips} reported/not-reported decisions at 0.5 change")


if __name__ == "__main__":
    main()
