#!/usr/bin/env python3
"""newstag's transformer paths (token classification, NLI zero-shot; fp32 and int8) against
the Hugging Face `transformers` pipelines (PyTorch, fp32), on real-size architectures with
seeded random weights. Run it through scripts/bench/bench_transformers, which builds the Rust
example and unpacks the corpus.

Pinned reference environment (the venv of scripts/gen/make_tiny_transformers.py):
    Python 3.11.7, torch==2.15.0, transformers==5.24.0, tokenizers==0.23.3, onnx==1.23.2,
    onnxscript==0.7.2, onnxruntime==1.32.0, numpy==2.4.6

Models (built once, cached under CACHE; never in the repository):
    bert-base-ner/        BertForTokenClassification with bert-base-cased's shape (hidden 768,
                          12 layers, 12 heads, intermediate 3072, vocab 28996, 512 positions)
                          and dslim/bert-base-NER's 9 CoNLL labels in its id order
    deberta-v3-base-nli/  DebertaV2ForSequenceClassification with deberta-v3-base's config
                          (hidden 768, 12 layers, 12 heads, vocab 128100, relative attention,
                          256 position buckets, p2c+c2p, shared keys) and the two labels of
                          MoritzLaurer/deberta-v3-base-zeroshot-v2.0 (0 entailment,
                          1 not_entailment), newstag's default accurate-profile topic model
    *-int8/               the same directory with model.onnx = scripts/gen/quantize.py's output
Each holds config.json, tokenizer.json, tokenizer_config.json, model.safetensors (for
PyTorch), model.onnx (fp32, exported as make_tiny_transformers.py does and checked against
PyTorch) and model_quantized.onnx.

Weights: seeded random init; the classifier head is scaled (as make_tiny_transformers.py
does) so that predictions vary. Tokenizers are built deterministically from the whole
nlp-corpus text: a cased WordPiece of exactly 28996 pieces (BERT normaliser and
pre-tokeniser) and a Unigram/Metaspace one (NFKC) of ~32k pieces for DeBERTa (its embedding
matrix stays 128100 rows, as deberta-v3-base's).

Nothing here asserts on timings.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
sys.dont_write_bytecode = True  # no scripts/lib/__pycache__ from importing transformerlib

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    BertForTokenClassification,
    DebertaV2Config,
    DebertaV2ForSequenceClassification,
    PreTrainedTokenizerFast,
    pipeline,
)

# Shared with the parity fixtures' generator, scripts/gen/make_tiny_transformers.py.
import transformerlib  # noqa: E402

# Bump when anything below changes what is built; the cache is rebuilt when it differs.
RECIPE = "3"
MAX_LEN = 512
# dslim/bert-base-NER's id2label, in its order.
NER_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
# MoritzLaurer/deberta-v3-base-zeroshot-v2.0's id2label.
NLI_LABELS = ["entailment", "not_entailment"]
TEMPLATE = "This article is about {}."
DEFAULT_CANDIDATES = ["politics", "business", "sport", "health", "science", "culture",
                      "war", "weather"]
NER_NAME, NLI_NAME = "bert-base-ner", "deberta-v3-base-nli"
BERT_VOCAB = 28996
DEBERTA_VOCAB = 128100
DEBERTA_PIECES = 32000


def log(msg):
    print(f"bench_transformers: {msg}", file=sys.stderr, flush=True)


# --- corpus ------------------------------------------------------------------------------------

def corpus_files(builds: Path):
    return sorted(builds.glob("doc-*.json"), key=lambda p: int(re.search(r"(\d+)", p.name).group(1)))


def corpus_sentences(builds: Path, n=None):
    out = []
    for f in corpus_files(builds):
        out += [s.strip() for s in json.loads(f.read_text(encoding="utf-8")) if s.strip()]
        if n is not None and len(out) >= n:
            return out[:n]
    return out


# --- tokenizers ----------------------------------------------------------------------------

def counts_of(lines, pre_tokenizer):
    counts = {}
    for line in lines:
        for word, _ in pre_tokenizer.pre_tokenize_str(line):
            counts[word] = counts.get(word, 0) + 1
    return counts


def ranked(counts, n, exclude=()):
    out = []
    for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(out) >= n:
            break
        if w not in exclude:
            out.append(w)
    return out


def affixes(counts, lo=2, hi=5):
    """Word-frequency-weighted prefixes and suffixes of length lo..hi (of longer words)."""
    pre, suf = {}, {}
    for w, c in counts.items():
        for k in range(lo, min(hi, len(w) - 1) + 1):
            pre[w[:k]] = pre.get(w[:k], 0) + c
            suf[w[-k:]] = suf.get(w[-k:], 0) + c
    return pre, suf


def wrap(tok, input_names, **specials):
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=MAX_LEN, **specials)
    fast.model_input_names = input_names
    return fast


def bert_tokenizer(lines):
    """bert-base-cased's pipeline (BERT normaliser without lowercasing or accent stripping,
    BERT pre-tokeniser, WordPiece with ##, [CLS] A [SEP] B [SEP] template) with exactly
    BERT_VOCAB pieces chosen by frequency (ties by text, so reruns are identical): specials,
    every character alone and as ##, then 70% frequent words, 30% frequent prefixes and
    ##suffixes."""
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    pre = pre_tokenizers.BertPreTokenizer()
    counts = counts_of((normalizer.normalize_str(l) for l in lines), pre)
    chars = sorted({c for w in counts for c in w})
    vocab = {}
    for p in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars]:
        vocab.setdefault(p, len(vocab))
    room = BERT_VOCAB - len(vocab)
    for w in ranked({w: c for w, c in counts.items() if len(w) > 1 and c >= 2}, int(room * 0.7), vocab):
        vocab.setdefault(w, len(vocab))
    pre_c, suf_c = affixes(counts)
    pieces = dict(pre_c)
    pieces.update({"##" + s: c for s, c in suf_c.items()})
    for p in ranked(pieces, BERT_VOCAB - len(vocab), vocab):
        vocab.setdefault(p, len(vocab))
    assert len(vocab) == BERT_VOCAB, len(vocab)
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##")
    return wrap(tok, ["input_ids", "token_type_ids", "attention_mask"], unk_token="[UNK]",
                cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]")


def deberta_tokenizer(lines):
    """DeBERTa-v3's tokenizer.json layout (NFKC, Metaspace, Unigram, [CLS] A [SEP] B [SEP])
    with ~DEBERTA_PIECES pieces and log-frequency scores computed here: "▁word" for words seen
    3+ times, frequent "▁prefix" and suffix pieces, every character alone and after "▁"."""
    normalizer = normalizers.NFKC()
    counts = {}
    for w, c in counts_of((normalizer.normalize_str(l) for l in lines),
                          pre_tokenizers.WhitespaceSplit()).items():
        counts["▁" + w] = counts.get("▁" + w, 0) + c
    total = sum(counts.values())
    chars = sorted({c for w in counts for c in w})
    scored = {}
    for w in ranked({w: c for w, c in counts.items() if c >= 3 and len(w) > 1}, int(DEBERTA_PIECES * 0.75)):
        scored[w] = math.log(counts[w] / total)
    pre_c, suf_c = affixes(counts, 3, 6)  # "▁" + 2..5 characters; suffixes of 3..6
    pieces = {p: c for p, c in pre_c.items()}
    pieces.update(suf_c)
    for p in ranked(pieces, DEBERTA_PIECES - len(scored) - 2 * len(chars), scored):
        # Affix counts are summed over many words: scale them down so that a whole word in
        # the vocabulary beats its pieces.
        scored[p] = math.log(pieces[p] / total) - 4.0
    for c in chars:
        scored.setdefault(c, math.log(1 / total) - 2.0)
        if c != "▁":
            scored.setdefault("▁" + c, math.log(1 / total) - 1.0)
    vocab = [(p, 0.0) for p in ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]]
    vocab += sorted(((p, round(s, 4)) for p, s in scored.items()), key=lambda v: (-v[1], v[0]))
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return wrap(tok, ["input_ids", "attention_mask"], unk_token="[UNK]", cls_token="[CLS]",
                sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]")


# --- models ----------------------------------------------------------------------------------

def bert_base_ner_config():
    id2label, label2id = transformerlib.labels(NER_LABELS)
    return BertConfig(
        vocab_size=BERT_VOCAB, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, hidden_act="gelu", max_position_embeddings=MAX_LEN,
        type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0,
        id2label=id2label, label2id=label2id, attn_implementation="eager")


def deberta_v3_base_nli_config():
    id2label, label2id = transformerlib.labels(NLI_LABELS)
    # microsoft/deberta-v3-base's config.json, with the NLI labels.
    return DebertaV2Config(
        vocab_size=DEBERTA_VOCAB, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=0,
        initializer_range=0.02, layer_norm_eps=1e-7, relative_attention=True,
        max_relative_positions=-1, pad_token_id=0, position_biased_input=False,
        pos_att_type=["p2c", "c2p"], pooler_dropout=0, pooler_hidden_act="gelu",
        pooler_hidden_size=768, position_buckets=256, norm_rel_ebd="layer_norm",
        share_att_key=True, id2label=id2label, label2id=label2id)


def scale_ner_head(model):
    """At hidden 768 a random head gives logits of std ~0.4 (the tiny models' hidden 32
    needed x50); x6 spreads them to std ~2.2, and "O" is biased up (+6) so that about five
    tokens in six are outside entities (83% on the first 24 corpus sentences), roughly as
    in CoNLL news text."""
    with torch.no_grad():
        model.classifier.weight.mul_(6.0)
        bias = torch.zeros(len(NER_LABELS))
        bias[NER_LABELS.index("O")] = 6.0
        model.classifier.bias.copy_(bias)


def spread_nli_head(model):
    """As make_tiny_transformers.spread_nli: hypotheses differ by one word, so a random head
    scores all labels nearly alike; amplify the entailment row and let not_entailment follow
    it, so that multi-label scores stay inside (0, 1)."""
    with torch.no_grad():
        w = model.classifier.weight
        e, n = NLI_LABELS.index("entailment"), NLI_LABELS.index("not_entailment")
        w[e] *= 40.0
        w[n] = w[e] + w[n]


def export(model, tokenizer, d: Path, with_types, check_inputs, tolerance):
    """make_tiny_transformers.export's ONNX export (dynamo, opset 17, dynamic batch and
    sequence axes, one file), into `d`, checked against PyTorch on `check_inputs` (texts or
    text pairs) in batches of 8 with padding."""
    wrapper = transformerlib.Logits(model, with_types).eval()
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    enc = tokenizer(["a short example", "and a rather longer example sentence here"],
                    padding=True, return_tensors="pt")
    batch = torch.export.Dim("batch", min=1, max=1024)
    seq = torch.export.Dim("sequence", min=2, max=4096)
    t = time.perf_counter()
    program = torch.onnx.export(
        wrapper, tuple(enc[n] for n in names), dynamo=True, opset_version=17,
        input_names=names, output_names=["logits"],
        dynamic_shapes={n: {0: batch, 1: seq} for n in names}, optimize=True,
        external_data=False)
    program.save(str(d / "model.onnx"), external_data=False)
    log(f"{d.name}: exported in {time.perf_counter() - t:.0f}s, "
        f"{(d / 'model.onnx').stat().st_size / 1e6:.0f} MB")
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    worst = 0.0
    for i in range(0, len(check_inputs), 8):
        chunk = check_inputs[i:i + 8]
        if isinstance(chunk[0], tuple):
            enc = tokenizer([a for a, _ in chunk], [b for _, b in chunk], padding=True,
                            truncation="only_first", return_tensors="pt")
        else:
            enc = tokenizer(chunk, padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            ref = wrapper(*[enc[n] for n in names]).numpy()
        got = sess.run(["logits"], {n: enc[n].numpy() for n in names})[0]
        diff = np.abs(ref - got)
        if diff.ndim == 3:
            diff = diff[enc["attention_mask"].numpy().astype(bool)]
        worst = max(worst, float(diff.max()) / max(1.0, float(np.abs(ref).max())))
    log(f"{d.name}: onnx vs torch max relative |logit diff| = {worst:.2e} "
        f"({len(check_inputs)} inputs)")
    if worst > tolerance:
        sys.exit(f"bench_transformers: {d.name}: the ONNX export disagrees with PyTorch "
                 f"({worst:.2e} > {tolerance})")
    return worst


def save_dir(d: Path, model, tokenizer):
    d.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(d, safe_serialization=True)
    tokenizer.save_pretrained(d)
    for extra in ["special_tokens_map.json", "chat_template.jinja"]:
        if (d / extra).exists():
            (d / extra).unlink()


def quantize(d: Path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "quantize.py"), str(d)], check=True)
    q = d.parent / f"{d.name}-int8"
    if q.exists():
        shutil.rmtree(q)
    q.mkdir()
    for f in ["config.json", "tokenizer.json", "tokenizer_config.json"]:
        (q / f).symlink_to(Path("..") / d.name / f)
    (q / "model.onnx").symlink_to(Path("..") / d.name / "model_quantized.onnx")


def build(cache: Path, builds: Path):
    stamp = cache / "recipe.json"
    want = {"recipe": RECIPE, "torch": torch.__version__, "transformers": transformers.__version__,
            "onnxruntime": ort.__version__}
    if stamp.is_file() and json.loads(stamp.read_text()) == want and all(
            (cache / n / f).is_file() for n in (NER_NAME, NLI_NAME)
            for f in ("model.onnx", "model_quantized.onnx", "model.safetensors")):
        log(f"models cached in {cache}")
        return
    log(f"building models into {cache} (once; several minutes)")
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    torch.use_deterministic_algorithms(True)
    lines = corpus_sentences(builds)
    check = lines[:20] + [" ".join(lines[20:40])]  # one input truncated to 512 tokens
    info = {}

    t = time.perf_counter()
    btok = bert_tokenizer(lines)
    log(f"BERT WordPiece: {len(btok)} pieces ({time.perf_counter() - t:.0f}s)")
    torch.manual_seed(11)
    m = BertForTokenClassification(bert_base_ner_config())
    scale_ner_head(m)
    d = cache / NER_NAME
    save_dir(d, m, btok)
    info[NER_NAME] = {"onnx_vs_torch": export(m, btok, d, True, check, 1e-4)}
    quantize(d)
    del m

    t = time.perf_counter()
    dtok = deberta_tokenizer(lines)
    log(f"DeBERTa Unigram: {len(dtok)} pieces ({time.perf_counter() - t:.0f}s)")
    torch.manual_seed(12)
    m = DebertaV2ForSequenceClassification(deberta_v3_base_nli_config())
    spread_nli_head(m)
    d = cache / NLI_NAME
    save_dir(d, m, dtok)
    pairs = [(s, TEMPLATE.format(c)) for s in lines[:4] for c in DEFAULT_CANDIDATES[:4]]
    pairs.append((" ".join(lines[20:40]), TEMPLATE.format("politics")))
    info[NLI_NAME] = {"onnx_vs_torch": export(m, dtok, d, False, pairs, 1e-4)}
    quantize(d)
    del m
    (cache / "build_info.json").write_text(json.dumps(info, indent=1) + "\n")
    stamp.write_text(json.dumps(want) + "\n")


# --- measuring -------------------------------------------------------------------------------

def cpu_snapshot():
    """(wall s, CPU s busy on the whole machine, CPU s of this process and its children)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    busy = sum(ticks[i] for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")  # no idle/iowait/steal
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system


def others(start, end):
    """CPU time other processes took between two snapshots: the machine is shared, and this
    is how much they competed with the timed passes."""
    wall, busy, ours = (b - a for a, b in zip(start, end))
    other = max(0.0, busy - ours)
    return f"{other:.0f} CPU-s over {wall:.0f} s wall ({other / wall * 100:.0f}% of one core)"


def timed_passes(fn, runs):
    """One warm-up pass, then `runs` passes; returns (median seconds, all, last output)."""
    out = fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def run_newstag(example, task, model_dir, data, labels, threads, runs, out_path):
    cmd = [str(example), task, str(model_dir), str(data), "--threads", str(threads),
           "--runs", str(runs), "--output", str(out_path)]
    if labels:
        cmd += ["--labels", ",".join(labels)]
    log("$ " + " ".join(cmd))
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    outputs = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    return summary, outputs, cmd


def ner_key(e):
    return (e["word"], e["entity_group"], int(e["start"]), int(e["end"]))


def ner_agreement(ref, got):
    """Fraction of sentences with identical entity lists (word, group, start, end); the same
    on (group, start, end) only; max |score diff| over entities both have; a few entities
    whose span and group agree but whose word differs."""
    same = same_span = 0
    worst = 0.0
    words = []
    for r, g in zip(ref, got, strict=True):
        rk, gk = [ner_key(e) for e in r], [ner_key(e) for e in g]
        same += rk == gk
        same_span += [k[1:] for k in rk] == [k[1:] for k in gk]
        spans = {k[1:]: k[0] for k in rk}
        words += [(spans[k[1:]], k[0]) for k in gk if spans.get(k[1:], k[0]) != k[0]]
        scores = {k[1:]: e["score"] for k, e in zip(rk, r)}
        for k, e in zip(gk, g):
            if k[1:] in scores:
                worst = max(worst, abs(scores[k[1:]] - e["score"]))
    n = len(ref)
    return {"identical": same / n, "identical_spans": same_span / n, "max_score_diff": worst,
            "word_diffs": len(words), "word_examples": words[:4]}


def nli_agreement(ref, got):
    top = 0
    worst = 0.0
    for r, g in zip(ref, got, strict=True):
        top += r["labels"][0] == g["labels"][0]
        rs = dict(zip(r["labels"], r["scores"]))
        for label, s in zip(g["labels"], g["scores"]):
            worst = max(worst, abs(rs[label] - s))
    return {"top_label": top / len(ref), "max_score_diff": worst}


def pipeline_ner(model_dir, sentences, batch_size, runs, bs1):
    """The token-classification pipeline over all sentences: warm-up + `runs` passes at
    `batch_size`, then (when `bs1`) one pass at batch_size=1 (already warm)."""
    model = AutoModelForTokenClassification.from_pretrained(model_dir).eval()
    tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
    ner = pipeline("token-classification", model=model, tokenizer=tok, device="cpu",
                   aggregation_strategy="simple")
    # stride = max length / 4, as newstag windows long inputs (no nlp-corpus sentence here
    # is that long, so it changes nothing but makes the semantics identical).
    call = lambda b: ner(sentences, batch_size=b, stride=MAX_LEN // 4)  # noqa: E731
    median, times, out = timed_passes(lambda: call(batch_size), runs)
    rows = [[{"word": e["word"], "entity_group": e["entity_group"], "start": int(e["start"]),
              "end": int(e["end"]), "score": float(e["score"])} for e in ents] for ents in out]
    one = one_pass(lambda: call(1)) if bs1 else None
    return median, times, rows, one


def pipeline_nli(model_dir, premises, labels, batch_size, runs, bs1):
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
    zs = pipeline("zero-shot-classification", model=model, tokenizer=tok, device="cpu")
    call = lambda b: zs(premises, candidate_labels=labels, hypothesis_template=TEMPLATE,  # noqa: E731
                        multi_label=False, batch_size=b)
    median, times, out = timed_passes(lambda: call(batch_size), runs)
    rows = [{"labels": r["labels"], "scores": [float(s) for s in r["scores"]]} for r in out]
    one = one_pass(lambda: call(1)) if bs1 else None
    return median, times, rows, one


def one_pass(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def newstag_version():
    try:
        out = subprocess.run([str(ROOT / "target" / "release" / "newstag"), "--version"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = "newstag ?"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return f"{out.removeprefix('newstag ')} (commit {commit}{', dirty' if dirty else ''})"


def ort_library():
    """Which ONNX Runtime the example loads: the store's library, compared with the Python
    package's own (the example reads it from the store as newstag does)."""
    store = Path(os.environ.get("NEWSTAG_HOME") or
                 Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newstag")
    lib = store / "onnxruntime" / "libonnxruntime.so"
    py_libs = sorted((Path(ort.__file__).parent / "capi").glob("libonnxruntime.so*"))
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    if lib.is_file() and py_libs and digest(lib) == digest(py_libs[0]):
        return f"ONNX Runtime from the store ({lib}): the same binary as Python's onnxruntime {ort.__version__}"
    return f"ONNX Runtime from the store ({lib})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builds", type=Path, required=True, help="nlp-corpus package/builds")
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--example", type=Path, required=True, help="transformer_bench binary")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ner-sentences", type=int, default=400)
    ap.add_argument("--nli-premises", type=int, default=60)
    ap.add_argument("--labels", default=",".join(DEFAULT_CANDIDATES))
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--bs1", type=int, default=1, help="also time batch_size=1 (0: skip)")
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()

    build(args.cache, args.builds)
    if args.build_only:
        return
    torch.set_num_threads(args.threads)
    labels = args.labels.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    ner_sents = corpus_sentences(args.builds, args.ner_sentences)
    # NLI premises: the sentences after the NER ones, so the two sets do not overlap.
    premises = corpus_sentences(args.builds, args.ner_sentences + args.nli_premises)[args.ner_sentences:]
    ner_data, nli_data = args.work / "ner.jsonl", args.work / "nli.jsonl"
    for path, texts in [(ner_data, ner_sents), (nli_data, premises)]:
        path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts),
                        encoding="utf-8")
    ner_dir, nli_dir = args.cache / NER_NAME, args.cache / NLI_NAME
    rows, commands = [], []
    n_pairs = len(premises) * len(labels)

    def tokens(model_dir, inputs):
        tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
        if isinstance(inputs[0], tuple):
            return sum(len(tok(a, b)["input_ids"]) for a, b in inputs)
        return sum(len(tok(t)["input_ids"]) for t in inputs)

    ner_tokens = tokens(ner_dir, ner_sents)
    nli_tokens = tokens(nli_dir, [(p, TEMPLATE.format(l)) for p in premises for l in labels])

    # --- NER ---
    snap_ner = cpu_snapshot()
    log(f"NER: transformers pipeline, batch_size={args.batch_size}, {len(ner_sents)} sentences")
    med, hf_ner_times, hf_ner, bs1 = pipeline_ner(ner_dir, ner_sents, args.batch_size, args.runs,
                                                  args.bs1)
    rows.append(dict(path="NER", tool="transformers pipeline", precision="fp32",
                     batch=args.batch_size, s=med, n=len(ner_sents), ref=True))
    if bs1 is not None:
        rows.append(dict(path="NER", tool="transformers pipeline", precision="fp32", batch=1,
                         s=bs1, n=len(ner_sents)))
    sm32, ns_ner32, cmd = run_newstag(args.example, "ner", ner_dir, ner_data, None, args.threads,
                                      args.runs, args.work / "ner-fp32.jsonl")
    commands.append(cmd)
    rows.append(dict(path="NER", tool="newstag", precision="fp32", batch="auto",
                     s=sm32["median_s"], n=len(ner_sents),
                     agree=ner_agreement(hf_ner, ns_ner32), vs="transformers"))
    sm8, ns_ner8, cmd = run_newstag(args.example, "ner", args.cache / f"{NER_NAME}-int8", ner_data,
                                    None, args.threads, args.runs, args.work / "ner-int8.jsonl")
    commands.append(cmd)
    rows.append(dict(path="NER", tool="newstag", precision="int8", batch="auto",
                     s=sm8["median_s"], n=len(ner_sents),
                     agree=ner_agreement(ns_ner32, ns_ner8), vs="newstag fp32"))

    snap_nli = cpu_snapshot()
    # --- NLI ---
    log(f"NLI: transformers pipeline, batch_size={args.batch_size}, {len(premises)} premises "
        f"x {len(labels)} labels")
    med, hf_nli_times, hf_nli, b1 = pipeline_nli(nli_dir, premises, labels, args.batch_size,
                                                 args.runs, args.bs1)
    nli_rows = [dict(path="NLI", tool="transformers pipeline", precision="fp32",
                     batch=args.batch_size, s=med, n=len(premises), pairs=n_pairs, ref=True)]
    if b1 is not None:
        nli_rows.append(dict(path="NLI", tool="transformers pipeline", precision="fp32",
                             batch=1, s=b1, n=len(premises), pairs=n_pairs))
    sm32n, ns_nli32, cmd = run_newstag(args.example, "nli", nli_dir, nli_data, labels, args.threads,
                                       args.runs, args.work / "nli-fp32.jsonl")
    commands.append(cmd)
    nli_rows.append(dict(path="NLI", tool="newstag", precision="fp32", batch="auto",
                         s=sm32n["median_s"], n=len(premises), pairs=n_pairs,
                         agree=nli_agreement(hf_nli, ns_nli32), vs="transformers"))
    sm8n, ns_nli8, cmd = run_newstag(args.example, "nli", args.cache / f"{NLI_NAME}-int8", nli_data,
                                     labels, args.threads, args.runs, args.work / "nli-int8.jsonl")
    commands.append(cmd)
    nli_rows.append(dict(path="NLI", tool="newstag", precision="int8", batch="auto",
                         s=sm8n["median_s"], n=len(premises), pairs=n_pairs,
                         agree=nli_agreement(ns_nli32, ns_nli8), vs="newstag fp32"))
    rows += nli_rows

    snap_end = cpu_snapshot()
    for name, out in [("ner-transformers.jsonl", hf_ner), ("nli-transformers.jsonl", hf_nli)]:
        (args.work / name).write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out),
                                      encoding="utf-8")

    # --- report ---
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    build_info = json.loads((args.cache / "build_info.json").read_text())
    size = lambda p: p.resolve().stat().st_size / 1e6  # noqa: E731
    print()
    print("## newstag transformer paths vs transformers pipelines (random-weight real-size models)")
    print()
    print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S UTC}")
    print(f"- machine: nproc {os.cpu_count()}, CPU {cpu}; threads {args.threads} "
          f"(torch.set_num_threads / ONNX Runtime intra-op), one process at a time")
    print(f"- python {platform.python_version()}, torch {torch.__version__}, transformers "
          f"{transformers.__version__}, tokenizers {__import__('tokenizers').__version__}, "
          f"onnxruntime {ort.__version__} (quantisation), onnx {__import__('onnx').__version__}; "
          f"newstag {newstag_version()}, {ort_library()}")
    print(f"- NER model: {NER_NAME} (BERT-base-cased shape, 9 CoNLL labels), fp32 "
          f"{size(ner_dir / 'model.onnx'):.0f} MB, int8 {size(ner_dir / 'model_quantized.onnx'):.0f} MB; "
          f"onnx vs torch max rel. logit diff {build_info[NER_NAME]['onnx_vs_torch']:.1e}")
    print(f"- NLI model: {NLI_NAME} (DeBERTa-v3-base config, labels entailment/not_entailment), fp32 "
          f"{size(nli_dir / 'model.onnx'):.0f} MB, int8 {size(nli_dir / 'model_quantized.onnx'):.0f} MB; "
          f"onnx vs torch max rel. logit diff {build_info[NLI_NAME]['onnx_vs_torch']:.1e}")
    print(f"- NER: the first {len(ner_sents)} nlp-corpus sentences ({ner_tokens} tokens with "
          f"specials), aggregation_strategy simple, stride {MAX_LEN // 4}")
    print(f"- NLI: the next {len(premises)} sentences as premises x {len(labels)} labels "
          f"({','.join(labels)}) = {n_pairs} pairs ({nli_tokens} tokens), template "
          f"\"{TEMPLATE}\", multi_label false")
    print(f"- timing: in-process, after loading; one warm-up pass, then the median of "
          f"{args.runs} passes over all inputs (batch_size=1 rows: one pass, after the others). "
          "transformers: pipeline(list, batch_size=B); newstag: one predict / classify_pairs "
          "call (length-sorted batches of up to 512 padded tokens, 16 inputs: src/models/runtime.rs). Ratios: sequences/s "
          "against the fastest transformers row of the same path")
    print(f"- other processes on this machine during the timing: NER section "
          f"{others(snap_ner, snap_nli)}, NLI section {others(snap_nli, snap_end)} (from "
          "/proc/stat less this script's own CPU time; rows are comparable only when small)")
    print("- agreement: NER = sentences whose entity lists (word, group, start, end) are "
          "identical [same with (group, start, end) only], max |score diff| over entities both "
          "found; NLI = premises with the same top label, max |score diff| over all pairs. fp32 "
          "rows against the transformers pipeline, int8 rows against newstag fp32")
    print()
    print("| path | tool | precision | batch | sequences/s | pairs/s | ratio vs fastest "
          "transformers row | agreement | max abs score diff |")
    print("|---|---|---|---|---:|---:|---:|---|---:|")
    # Ratios against the fastest transformers row of the same path (batch_size B or 1).
    best = {}
    for r in rows:
        if r["tool"] == "transformers pipeline":
            best[r["path"]] = min(best.get(r["path"], r["s"]), r["s"])
    for r in rows:
        r["ref_s"] = best[r["path"]]
    for r in rows:
        seq = r["n"] / r["s"]
        pairs = f"{r['pairs'] / r['s']:.1f}" if "pairs" in r else "-"
        ratio = r["ref_s"] / r["s"]
        if "agree" not in r:
            agree, diff = "reference (agreement)" if r.get("ref") else "-", "-"
        elif r["path"] == "NER":
            a = r["agree"]
            agree = (f"{a['identical'] * 100:.1f}% identical [{a['identical_spans'] * 100:.1f}%] "
                     f"vs {r['vs']}")
            diff = f"{a['max_score_diff']:.1e}"
        else:
            a = r["agree"]
            agree = f"{a['top_label'] * 100:.1f}% same top label vs {r['vs']}"
            diff = f"{a['max_score_diff']:.1e}"
        print(f"| {r['path']} | {r['tool']} | {r['precision']} | {r['batch']} | {seq:.2f} | "
              f"{pairs} | {ratio:.2f}x | {agree} | {diff} |")
    print()
    a = rows[next(i for i, r in enumerate(rows) if r.get("vs") == "transformers")]["agree"]
    if a["word_diffs"]:
        print(f"- NER words: {a['word_diffs']} entities with the same span and group as "
              "transformers' differ only in `word` (transformers: the tokens decoded; the "
              "example: the text of the span, as newstag reports mentions), e.g. " +
              ", ".join(f"{t!r} vs {n!r}" for t, n in a["word_examples"]))
    n_ents = sum(len(x) for x in hf_ner)
    print(f"- entities found: transformers {n_ents}, newstag fp32 "
          f"{sum(len(x) for x in ns_ner32)}, newstag int8 {sum(len(x) for x in ns_ner8)}; "
          f"sentences with at least one: {sum(bool(x) for x in hf_ner)}/{len(hf_ner)}")
    tops = {}
    for r in hf_nli:
        tops[r["labels"][0]] = tops.get(r["labels"][0], 0) + 1
    margin = statistics.median(r["scores"][0] - r["scores"][1] for r in hf_nli)
    print(f"- NLI top labels (transformers): {dict(sorted(tops.items()))}; median margin top1-top2 "
          f"{margin:.3f}; median top score {statistics.median(r['scores'][0] for r in hf_nli):.3f}")
    print(f"- newstag load time (not in the rates): NER fp32 {sm32['load_s']:.2f}s, int8 "
          f"{sm8['load_s']:.2f}s; NLI fp32 {sm32n['load_s']:.2f}s, int8 {sm8n['load_s']:.2f}s")
    passes = [(f"transformers NER bs {args.batch_size}", hf_ner_times)]
    passes += [(f"newstag NER {p}", sm["pass_s"]) for p, sm in [("fp32", sm32), ("int8", sm8)]]
    passes += [(f"transformers NLI bs {args.batch_size}", hf_nli_times)]
    passes += [(f"newstag NLI {p}", sm["pass_s"]) for p, sm in [("fp32", sm32n), ("int8", sm8n)]]
    print("- timed passes (s): " + "; ".join(
        f"{name} {', '.join(f'{t:.2f}' for t in ts)}" for name, ts in passes))
    print()
    print("Commands (newstag rows):")
    for c in commands:
        print("    " + " ".join(str(x) for x in c))


if __name__ == "__main__":
    main()
