#!/usr/bin/env python3
"""How close the fast profile's encoder already runs to what this host's cores can do, for one
article: the MiniLM pass over its sentences (as newstag batches them: length-sorted, 512 padded
tokens and 16 inputs a pass) timed on ONNX Runtime with newstag's own model file, its
arithmetic counted from the model's shape, and the same number of multiply-adds timed as plain
float32 matrix products (numpy's BLAS, the FFN's shapes) on the same threads. It backs
docs/limits.md on the server's lone-article latency: if the encoder is near the matrix-product
rate, a faster lone article needs fewer tokens, not faster kernels. A measurement, not a test;
nothing asserts on timings.

Usage (from the repository root; the eval venv of scripts/eval/eval_topics has what it needs):
    /tmp/newstag-eval-venv/bin/python scripts/bench/encoder_floor.py [--article bbc/business/015] [--threads 2] [--runs 30]
The article is read from ../shared/data/bbc-news-dev.jsonl.gz (research data, read in place);
without it, the seed fixture.
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))

# all-MiniLM-L6-v2's config.json: 6 layers, hidden 384, FFN 1536. Multiply-adds per token per
# layer: Q, K, V and the output projection (4 h^2), the FFN's two matrices (2 h f); attention
# scores and their weighted sum add 2 h w per token for a pass padded to w tokens.
LAYERS, HIDDEN, FFN = 6, 384, 1536
DENSE_MACS_PER_TOKEN = LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)
SEED = os.path.join(ROOT, "fixtures", "articles", "000_96f95457316a6f2e.txt")


def article(wanted):
    data = os.path.join(ROOT, "..", "shared", "data", "bbc-news-dev.jsonl.gz")
    if os.path.exists(data):
        with gzip.open(data, "rt", encoding="utf-8") as f:
            for line in f:
                a = json.loads(line)
                if a["id"] == wanted:
                    return {"id": a["id"], "title": a.get("title") or "", "text": a["text"]}
    print(f"({wanted} not found: the seed fixture instead)", file=sys.stderr)
    return {"id": SEED, "title": "", "text": open(SEED, encoding="utf-8").read()}


def median_seconds(f, runs):
    f()  # warm: first-run allocations and thread start
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--article", default="bbc/business/015")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--newstag", default=os.path.join(ROOT, "target", "release", "newstag"))
    args = ap.parse_args()
    # numpy's BLAS reads its thread count when it loads.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import topiclib

    enc = topiclib.store_encoder(args.newstag, args.threads)
    a = article(args.article)
    texts, _, _ = topiclib.units(args.newstag, [a])
    lengths = [len(e.ids) for e in enc.tok.encode_batch(texts)]
    shape = [(len(idx), max(lengths[i] for i in idx)) for idx in topiclib.length_batches(lengths)]
    padded = sum(b * w for b, w in shape)
    macs = padded * DENSE_MACS_PER_TOKEN + sum(LAYERS * 2 * HIDDEN * b * w * w for b, w in shape)
    encoder_s = median_seconds(lambda: enc.embed(texts), args.runs)

    # The same multiply-adds as float32 products of the FFN's shapes, 512 rows a product (a
    # pass's padded tokens), on the same threads.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, HIDDEN), dtype=np.float32)
    w1 = rng.standard_normal((HIDDEN, FFN), dtype=np.float32)
    w2 = rng.standard_normal((FFN, HIDDEN), dtype=np.float32)
    reps = max(1, round(macs / (2 * 512 * HIDDEN * FFN)))
    gemm_s = median_seconds(lambda: [(x @ w1) @ w2 for _ in range(reps)], args.runs)
    gemm_macs = reps * 2 * 512 * HIDDEN * FFN

    enc_rate = 2 * macs / encoder_s / 1e9
    gemm_rate = 2 * gemm_macs / gemm_s / 1e9
    print(f"article {a['id']}: {len(texts)} units, {sum(lengths)} tokens, {padded} padded in {len(shape)} passes")
    print(f"encoder (ONNX Runtime, {args.threads} threads, median of {args.runs}): {encoder_s * 1e3:.1f} ms, "
          f"{2 * macs / 1e9:.1f} GFLOP, {enc_rate:.0f} GFLOP/s")
    print(f"float32 matrix products, same FLOPs, {args.threads} threads: {gemm_s * 1e3:.1f} ms, {gemm_rate:.0f} GFLOP/s")
    print(f"encoder / matrix-product rate: {enc_rate / gemm_rate:.0%}; "
          f"the encoder at that rate would take {2 * macs / gemm_rate / 1e6:.1f} ms")
    per_token_ms = encoder_s * 1e3 / padded
    print(f"encoder time per padded token: {per_token_ms:.3f} ms; "
          f"a 50 ms encoder budget reads about {50 / per_token_ms:.0f} tokens")


if __name__ == "__main__":
    main()
