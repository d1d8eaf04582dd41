#!/usr/bin/env python3
"""What lower precision would cost the topics (issue 22, "lower precision where this processor
gains"), on held-out articles: the store's fused fp32 graph quantised to int8 with ONNX
Runtime's dynamic quantisation (int8 weights, one scale per output channel; activations
quantised at run time), and, where the `openvino` package is installed, the exported graph in
bf16 on OpenVINO (ONNX Runtime's CPU provider has no bf16 arithmetic). Each one's embedding of
the held-out articles' sentences and titles (tokenization, forward pass, pooling: one pass) is
timed against fp32's, and the held-out metrics of eval_topics (per source and subject: r@1,
r@3, recall and precision of the default output) are computed with its vectors, scored by
eval_topics' Python replica of src/topics/embedding.rs with the shipped calibration (refitted
here exactly as scripts/gen/fit_topics.py fits it).

Variants: int8 with 8-bit weights (needs VNNI, or ONNX Runtime's u8s8 products can saturate;
see scripts/gen/quantize.py), 7-bit weights (safe anywhere), and 8-bit with the prototypes and
background (embedded once per model, cached by newstag) kept in fp32, so only the articles'
vectors carry the int8 error; bf16 with fp32 prototypes. Not part of newstag: nothing in the
product runs these; this backs docs/benchmarks.md and docs/limits.md. Nothing here asserts.

Environment: the venv of scripts/eval/eval_topics plus onnx==1.23.2 (and openvino==2026.4.1
for bf16). Usage (from anywhere):
    $VENV/bin/python scripts/eval/precision_topics.py [--newstag BIN] [--threads 2]
"""

import argparse
import functools
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)
import topiclib as tl  # noqa: E402
from eval_topics import python_reported  # noqa: E402


def quantise(fused, out_dir):
    """{name: path} of the int8 graphs. The fused graph's weights reach its MatMuls through
    Transpose and Concat nodes; ONNX Runtime's basic optimisations fold them into constants
    first, or the quantiser finds no weight to quantise (it then leaves every MatMul fp32)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    whole = os.path.join(out_dir, "fused.onnx")
    onnx.save(onnx.load(fused, load_external_data=True), whole)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = os.path.join(out_dir, "folded.onnx")
    ort.InferenceSession(whole, opts, providers=["CPUExecutionProvider"])
    paths = {}
    for name, reduce_range in (("int8", False), ("int8 7-bit", True)):
        paths[name] = os.path.join(out_dir, name.replace(" ", "-") + ".onnx")
        quantize_dynamic(opts.optimized_model_filepath, paths[name], weight_type=QuantType.QInt8,
                         per_channel=True, reduce_range=reduce_range,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return paths


def metrics(p, arts, codes):
    """{(source, code): (n, r@1, r@3, recall, precision)} as eval_topics reports them."""
    src = np.array([a["source"] for a in arts])
    labelled = np.array([[c in a["subjects"] for c in codes] for a in arts])
    informs = np.array([[c in a["informs"] for c in codes] for a in arts])
    rank = np.argsort(-p, 1)
    rep = np.zeros(p.shape, bool)
    for i, r in enumerate(python_reported(p)):
        rep[i, list(r)] = True
    out = {}
    for s in sorted(set(src)):
        for t, c in enumerate(codes):
            pos = labelled[:, t] & (src == s)
            if not pos.any():
                continue
            sel = rep[:, t] & informs[:, t] & (src == s)
            out[s, c] = (int(pos.sum()), (rank[pos, 0] == t).mean(), (rank[pos, :3] == t).any(1).mean(),
                         rep[pos, t].mean(), pos[sel].mean() if sel.any() else float("nan"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    data = tl.Data(args.newstag)
    model, layer, main_layer = data.fit(), data.fit_share(args.newstag), data.fit_main()
    arts = [a for a in tl.load_sources() if tl.split_of(a["id"]) == "eval" and a["informs"]]
    texts, owner, _ = tl.units(args.newstag, arts)
    n = len(arts)
    store = tl.store_path(args.newstag, "all-minilm-l6-v2-fp32")
    tokenizer = os.path.join(store, "tokenizer.json")
    print(f"{n} held-out articles, {len(texts)} units (sentences and titles), {args.threads} threads\n")
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {"fp32": os.path.join(store, "model.onnx"), **quantise(os.path.join(store, "model.onnx"), tmp)}
        runners = {name: functools.partial(tl.onnxruntime_run, path, args.threads) for name, path in graphs.items()}
        try:
            import openvino

            # Without bf16 arithmetic OpenVINO ignores the hint and runs fp32: not a bf16 row.
            if "BF16" not in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
                raise ImportError("no bf16 on this CPU")
            # The exported graph (OpenVINO does not run ONNX Runtime's contrib kernels), beside
            # a copy of the weights: external data is not followed through a symlink.
            shutil.copy(os.path.join(store, "model.safetensors"), tmp)
            export = shutil.copy(os.path.join(tl.ROOT, "models/onnx/all-minilm-l6-v2-fp32.export.onnx"), tmp)
            runners["bf16"] = functools.partial(tl.ov_runner, export, args.threads, "bf16")
        except ImportError as e:
            print(f"(bf16 not measured: {e})\n")
        vecs, trees, seconds = {}, {}, {}
        for name, runner in runners.items():
            enc = tl.Encoder(tokenizer, runner())
            enc.embed(texts[:64])
            start = time.perf_counter()
            vecs[name] = enc.embed(texts)
            seconds[name] = time.perf_counter() - start
            if name != "bf16":
                trees[name] = tl.Tree(data.tree.concepts, enc)
    runs = {name: (name, name) for name in graphs}
    runs["int8, fp32 prototypes"] = ("int8", "fp32")
    if "bf16" in vecs:
        runs["bf16, fp32 prototypes"] = ("bf16", "fp32")
    results = {}
    print("| vectors | prototypes | embedding (s) | speed-up | unit cosine to fp32: min / 1st percentile / mean | largest score change |")
    print("|---|---|---:|---:|---|---:|")
    p_fp32 = None
    timed = set()  # vectors whose pass is already printed: a run that reuses them shows none
    for run, (v, proto) in runs.items():
        tree = trees[proto]
        x = tl.mean_vectors(vecs[v], owner, n).astype(np.float64)
        f_units = np.concatenate([tree.features(vecs[v][i : i + 8192]) for i in range(0, len(texts), 8192)])
        p = tl.scores(model, layer, main_layer, x, tree.features(x), tl.share(f_units, owner, n, layer["zero_shot"]))
        p_fp32 = p if p_fp32 is None else p_fp32
        results[run] = metrics(p, arts, data.codes)
        cos = (vecs[v] * vecs["fp32"]).sum(1)
        timing = f"(the {v} pass above) |" if v in timed else f"{seconds[v]:.0f} | {seconds['fp32'] / seconds[v]:.2f}x"
        timed.add(v)
        print(f"| {v} | {proto} | {timing} | "
              f"{cos.min():.4f} / {np.percentile(cos, 1):.4f} / {cos.mean():.4f} | {np.abs(p - p_fp32).max():.3f} |")
    names = {data.tree.concepts[t]["code"]: data.tree.concepts[t]["name"].split(",")[0] for t in data.tree.tops}
    others = [r for r in runs if r != "fp32"]
    print("\nHeld-out metrics, fp32 (what ships), and each other run's change in points (r@1, r@3, recall, precision; "
          "* where a change exceeds 1 point, n/a* where only one side has a value):\n")
    print("| source | subject | articles | fp32 r@1 / r@3 / recall / precision | " + " | ".join(others) + " |")
    print("|---|---|---:|---|" + "---|" * len(others))
    worst = {r: 0.0 for r in others}
    for key, (count, *base) in results["fp32"].items():
        cells = []
        for r in others:
            d = [100 * (b - a) for a, b in zip(base, results[r][key][1:])]
            worst[r] = max([worst[r]] + [abs(x) for x in d if x == x])
            # NaN: a precision defined on one side only (a subject never reported on the
            # other); flagged, since losing a subject altogether is the largest change.
            cells.append(" / ".join("n/a*" if x != x else f"{x:+.1f}{'*' if abs(x) > 1 else ''}" for x in d))
        print(f"| {key[0]} | {names[key[1]]} | {count} | " + " / ".join(f"{100 * x:.1f}" for x in base) + " | " + " | ".join(cells) + " |")
    print("\nLargest change in any cell: " + ", ".join(f"{r} {w:.1f} points" for r, w in worst.items()))


if __name__ == "__main__":
    main()
