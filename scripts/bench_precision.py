#!/usr/bin/env python3
"""What lower precision would buy the fast profile, and what it would cost: the MiniLM forward
pass (the bulk of a fast-profile run) over the sentences `newstag segment` finds, on
  * ONNX Runtime fp32, the torch.onnx export (what the Python peer runs) and newstag's fused graph;
  * OpenVINO fp32 and bf16 (bf16 runs on AMX or AVX512-BF16 where the CPU has them; ONNX
    Runtime's CPU provider has no bf16 arithmetic),
then the topic scores of every article (bench_peer.py's scoring, threshold 0, all 35 topics)
with bf16 embeddings against fp32 ones. Not part of newstag; it backs the README's
*Known limits* on the 3x target. Nothing here asserts on timings.

Pinned environment:
    python3 -m venv /tmp/precvenv
    /tmp/precvenv/bin/pip install onnxruntime==1.32.0 openvino==2026.4.1 tokenizers==0.23.3 numpy==2.4.6

Usage (from the repository root; the store must hold all-minilm-l6-v2-fp32):
    target/release/newstag segment -q CORPUS.jsonl > SEGMENTS.jsonl
    /tmp/precvenv/bin/python scripts/bench_precision.py SEGMENTS.jsonl [--threads 2] [--runs 3]
(scripts/bench's corpus: 100 articles of 20 nlp-corpus sentences; the README's run used it.)
"""

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peer  # noqa: E402  (prototypes, constants, topic_max)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def store_dir():
    store = os.environ.get("NEWSTAG_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstag")
    return os.path.join(store, "all-minilm-l6-v2-fp32")


def batches(encs, tokens=None, inputs=None):
    """bench_peer.py's batching: length-sorted, 512 padded tokens, at most 16 a batch (or the
    budget given)."""
    tokens = tokens or bench_peer.TOKENS_PER_BATCH
    inputs = inputs or bench_peer.MAX_BATCH
    lens = np.array([len(e.ids) for e in encs])
    order = np.argsort(lens, kind="stable")
    out, start = [], 0
    while start < len(order):
        end = start + 1
        while (end < len(order) and end - start < inputs
               and (end - start + 1) * lens[order[end]] <= tokens):
            end += 1
        idx = order[start:end]
        width = int(lens[idx].max())
        ids = np.zeros((len(idx), width), np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(idx):
            ids[row, :lens[i]] = encs[i].ids
            mask[row, :lens[i]] = 1
        out.append((idx, ids, mask))
        start = end
    return out


def embed_all(run, encs, budget=(None, None)):
    vecs = np.zeros((len(encs), 384), np.float32)
    for idx, ids, mask in batches(encs, *budget):
        hidden = run({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        m = mask[:, :, None].astype(np.float32)
        v = (hidden * m).sum(1) / m.sum(1)
        vecs[idx] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return vecs


def ort_runner(path, threads):
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
    s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
    return lambda feed: s.run(["last_hidden_state"], feed)[0]


def ov_runner(path, threads, precision):
    import openvino as ov
    core = ov.Core()
    compiled = core.compile_model(core.read_model(path), "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1})
    req = compiled.create_infer_request()
    out = compiled.outputs[0]
    return lambda feed: req.infer(feed)[out]


def topic_scores(embed, docs):
    """Every article's score for every topic, as bench_peer.py computes them."""
    with open(os.path.join(ROOT, "models/topics/news.toml"), "rb") as f:
        topics = tomllib.load(f)["topic"]
    protos, bounds, patterns = [], [], []
    for t in topics:
        desc = t.get("description") or bench_peer.LABEL_TEMPLATE.replace("{label}", t["label"])
        bounds.append(len(protos))
        protos.extend(bench_peer.prototypes(t["label"], desc))
        patterns.append([re.compile(p) for p in t.get("patterns", [])])
    bounds = np.array(bounds)
    with open(os.path.join(ROOT, "models/topics/background.txt"), encoding="utf-8") as f:
        background = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    proto_vecs = embed(protos)
    bg = bench_peer.topic_max(embed(background) @ proto_vecs.T, bounds)
    mu = np.median(bg, axis=0)
    sd = np.maximum(1.4826 * np.median(np.abs(bg - mu), axis=0), bench_peer.MIN_SD)
    sentences = [s for d in docs for s in d]
    z = (bench_peer.topic_max(embed(sentences) @ proto_vecs.T, bounds) - mu) / sd
    for t, pats in enumerate(patterns):
        if pats:
            z[:, t] += bench_peer.PATTERN_Z * np.array([any(p.search(s) for p in pats) for s in sentences])
    best = z.max(axis=1, keepdims=True)
    z = z - bench_peer.ECHO_WEIGHT * np.maximum(best - z - bench_peer.ECHO_GAP, 0.0)
    out, at = [], 0
    for d in docs:
        n = len(d)
        k = min(max(math.ceil(n / 4), 1), 5)
        top = -np.sort(-z[at:at + n], axis=0)[:k].mean(axis=0)
        out.append(1.0 / (1.0 + np.exp(-(top - bench_peer.Z_MID) / bench_peer.Z_SCALE)))
        at += n
    return np.array(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("segments", help="`newstag segment` JSONL of the corpus")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from tokenizers import Tokenizer

    model = store_dir()
    docs = []
    with open(args.segments, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                docs.append([s["text"] for s in json.loads(line).get("sentences", [])])
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=bench_peer.MAX_TOKENS)
    sentences = [s for d in docs for s in d]
    encs = tok.encode_batch(sentences)

    with tempfile.TemporaryDirectory() as tmp:
        # Both graphs beside one copy of the weights (ONNX Runtime refuses external data reached
        # through a symlink out of the model's directory).
        shutil.copy(os.path.join(model, "model.safetensors"), tmp)
        fused = shutil.copy(os.path.join(ROOT, "models/onnx/all-minilm-l6-v2-fp32.onnx"),
                            os.path.join(tmp, "fused.onnx"))
        export = shutil.copy(os.path.join(ROOT, "models/onnx/all-minilm-l6-v2-fp32.export.onnx"),
                             os.path.join(tmp, "export.onnx"))
        runners = {
            "onnxruntime fp32, torch.onnx export": ort_runner(export, args.threads),
            "onnxruntime fp32, newstag's fused graph": ort_runner(fused, args.threads),
            "openvino fp32, torch.onnx export": ov_runner(export, args.threads, "f32"),
            "openvino bf16, torch.onnx export": ov_runner(export, args.threads, "bf16"),
        }
        # AMX works on larger tiles: bf16 is also timed at 2048-token, 64-input passes.
        big = "openvino bf16, torch.onnx export, 2048-token passes"
        runners[big] = runners["openvino bf16, torch.onnx export"]
        budgets = {big: (2048, 64)}
        times, vecs = {}, {}
        for name, run in runners.items():
            budget = budgets.get(name, (None, None))
            embed_all(run, encs[:64], budget)  # warm-up
            walls = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                vecs[name] = embed_all(run, encs, budget)
                walls.append(time.perf_counter() - t0)
            times[name] = sorted(walls)[len(walls) // 2]
        ref_name = "onnxruntime fp32, torch.onnx export"
        print(f"MiniLM forward pass + pooling over {len(sentences)} sentences "
              f"({sum(len(e.ids) for e in encs)} tokens), {args.threads} threads, median of "
              f"{args.runs}:\n")
        print("| runtime, graph | seconds | speed vs ONNX Runtime fp32 export | min cosine to it |")
        print("|---|---:|---:|---:|")
        for name in runners:
            a, b = vecs[name].astype(np.float64), vecs[ref_name].astype(np.float64)
            a /= np.linalg.norm(a, axis=1, keepdims=True)
            b /= np.linalg.norm(b, axis=1, keepdims=True)
            cos = (a * b).sum(axis=1).min()
            print(f"| {name} | {times[name]:.2f} | {times[ref_name] / times[name]:.2f}x | {cos:.7f} |")

        def embedder(run):
            return lambda texts: embed_all(run, tok.encode_batch(texts))

        fp32 = topic_scores(embedder(runners["onnxruntime fp32, newstag's fused graph"]), docs)
        bf16 = topic_scores(embedder(runners["openvino bf16, torch.onnx export"]), docs)
    diff = np.abs(fp32 - bf16)
    flips = int(((fp32 >= 0.5) != (bf16 >= 0.5)).sum())
    print(f"\nTopic scores, bf16 against fp32 embeddings ({diff.size} = {len(docs)} articles x "
          f"{diff.shape[1]} topics): max |difference| {diff.max():.4f}, 99th percentile "
          f"{np.quantile(diff, 0.99):.4f}, {(diff > 1e-3).sum()} over 1e-3; "
          f"{flips} reported/not-reported decisions at 0.5 change")


if __name__ == "__main__":
    main()
