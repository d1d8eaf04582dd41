#!/usr/bin/env python3
"""Dynamic int8 quantisation (ONNX Runtime) of a transformer model directory for newstag.

Reads MODEL_DIR/model.onnx (or MODEL_DIR/onnx/model.onnx) and writes the quantised graph next
to it as `model_quantized.onnx`, the file name Hugging Face / Xenova / Optimum int8 exports use.
Weights of MatMul (and Gather: the embedding tables) become int8, with one scale per
output channel; activations are quantised at run time (uint8, per tensor), so no calibration
data is needed. Logits, softmax, LayerNorm and attention arithmetic stay fp32.

Pinned reference environment (what the numbers in scripts/bench/bench_transformers were made with):
    Python 3.11.7, onnxruntime==1.32.0, onnx==1.23.2, numpy==2.4.6
    (the venv of scripts/gen/make_tiny_transformers.py has all of them)

Usage:
    /tmp/ttvenv/bin/python scripts/gen/quantize.py MODEL_DIR [--output NAME] [--full-range]
        [--no-per-channel] [--no-preprocess]

    --output NAME     file name of the result, beside the input (default model_quantized.onnx)
    --full-range      8-bit weights instead of 7-bit (see below); only for VNNI / ARM machines
    --no-per-channel  one scale per weight tensor instead of one per output channel
    --no-preprocess   skip onnxruntime.quantization.shape_inference.quant_pre_process

Settings, and why:
- per_channel=True: a weight matrix of a transformer has rows (output channels) of very
  different magnitude; one scale per tensor spends the 8 bits on the largest row and
  flattens the small ones. Per-channel scales cost nothing measurable at run time
  (DynamicQuantizeMatMul takes a scale vector).
- reduce_range=True (7-bit weights) by default: ONNX Runtime's u8s8 integer GEMM on x86 CPUs
  without VNNI (AVX2 / AVX-512 before Cascade Lake / Zen 4) adds pairs of u8*s8 products in
  16 bits (vpmaddubsw), which saturates with full-range weights and silently corrupts
  results. A model file is copied to machines we do not know, so the portable choice is 7-bit
  weights, which cannot saturate; the accuracy cost is one bit of weight precision.
  `--full-range` keeps 8 bits for machines known to have VNNI (or ARM).
  Measured on scripts/bench/bench_transformers' BERT-base NER (random weights, 24 sentences, per
  token, against fp32 on a VNNI CPU): argmax agreement / mean |logit diff| = 98.4% / 0.106
  (per-channel, 7-bit: the default), 98.5% / 0.072 (per-channel, 8-bit), 98.3% / 0.135
  (per-tensor, 7-bit).
- quant_pre_process (symbolic shape inference + ONNX Runtime's basic graph optimisations)
  first: ONNX Runtime's docs recommend it, and with shapes known the quantiser can treat
  more MatMuls. When symbolic shape inference fails, it runs with ONNX's shape inference
  instead; when that fails too, the graph is quantised as exported (said on stderr).
- Weight type QInt8 (signed, symmetric), activations QUInt8: quantize_dynamic's defaults.
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process


def find_model(model_dir: Path) -> Path:
    for candidate in (model_dir / "model.onnx", model_dir / "onnx" / "model.onnx"):
        if candidate.is_file():
            return candidate
    sys.exit(f"quantize: {model_dir} has no model.onnx (nor onnx/model.onnx)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--output", default="model_quantized.onnx")
    ap.add_argument("--full-range", action="store_true")
    ap.add_argument("--no-per-channel", action="store_true")
    ap.add_argument("--no-preprocess", action="store_true")
    args = ap.parse_args()

    src = find_model(args.model_dir).absolute()
    if "/" in args.output or args.output in ("", ".", ".."):
        sys.exit("quantize: --output is a file name, written beside the input model")
    dst = src.parent / args.output
    if dst.resolve() == src.resolve():
        sys.exit("quantize: --output would overwrite the input model")

    with tempfile.TemporaryDirectory(dir=src.parent, prefix=".quantize-") as tmp:
        graph = src
        if not args.no_preprocess:
            pre = Path(tmp) / "preprocessed.onnx"
            # Symbolic shape inference first; it gives up on some graphs (dynamo exports of
            # BERT, for one), and then ONNX's own shape inference is the next best.
            # When it gives up, symbolic shape inference dumps its partial graph (weights
            # included) into the working directory: run it inside the temporary one.
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                for symbolic in (True, False):
                    try:
                        quant_pre_process(str(src), str(pre),
                                          skip_symbolic_shape=not symbolic)
                        graph = pre
                        break
                    except Exception as e:  # noqa: BLE001 - any failure: try the next way
                        print(f"quantize: pre-processing (symbolic shapes: {symbolic}) failed "
                              f"({type(e).__name__}: {e})", file=sys.stderr)
            finally:
                os.chdir(cwd)
            if graph == src:
                print("quantize: quantising the graph as exported", file=sys.stderr)
        out = Path(tmp) / "quantized.onnx"
        quantize_dynamic(
            model_input=str(graph),
            model_output=str(out),
            per_channel=not args.no_per_channel,
            reduce_range=not args.full_range,
            weight_type=QuantType.QInt8,
            use_external_data_format=False,
        )
        onnx.checker.check_model(str(out))
        # Into place only when complete, so a killed run never leaves half a file.
        shutil.move(str(out), str(dst))
    mb = lambda p: p.stat().st_size / 1e6  # noqa: E731
    print(f"quantize: {src} ({mb(src):.1f} MB) -> {dst} ({mb(dst):.1f} MB); per_channel="
          f"{not args.no_per_channel}, reduce_range={not args.full_range}, "
          f"preprocessed={graph != src}", file=sys.stderr)


if __name__ == "__main__":
    main()
