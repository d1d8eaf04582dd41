#!/usr/bin/env python3
"""Build tiny random-weight transformer models and record what the Hugging Face pipelines say
about them, for the Rust parity tests (`tests/integration/transformers_parity.rs`, `fixtures/tiny/`).

Pinned reference environment (what the committed fixtures were made with):
    Python 3.11.7
    torch==2.15.0, transformers==5.24.0, tokenizers==0.23.3, onnx==1.23.2, onnxscript==0.7.2,
    onnxruntime==1.32.0, numpy==2.4.6

Setup:
    python3 -m venv /tmp/ttvenv
    /tmp/ttvenv/bin/pip install torch==2.15.0 transformers==5.24.0 tokenizers==0.23.3 \
        onnx==1.23.2 onnxscript==0.7.2 onnxruntime==1.32.0 numpy==2.4.6

Usage (from the repository root, after `cargo build --release`):
    /tmp/ttvenv/bin/python scripts/gen/make_tiny_transformers.py

What it writes, under fixtures/tiny/:
    bert-ner/, deberta-ner/, bert-nli/, deberta-nli/   config.json, tokenizer.json,
        tokenizer_config.json, model.onnx (opset 17, dynamic batch and sequence axes;
        inputs input_ids, attention_mask and, for BERT, token_type_ids; output logits)
    expected_ner.json       per model, per aggregation strategy (simple, first, average, max),
                            per sentence: entities {word, entity_group, start, end, score};
                            start/end are Python str (code point) offsets into the sentence
    expected_zeroshot.json  per model, per sentence, multi_label false and true: labels, scores

The models are real architectures (BertFor*/DebertaV2For*, hidden 32, 2 layers, 2 heads,
max_position_embeddings 64) with seeded random weights; the classifier weights are scaled up
so that predictions vary. Tokenizers are tiny, with vocabularies built (deterministically) from
the fixture text: a cased WordPiece for BERT (the all-MiniLM-L6-v2 pipeline with ~2000 pieces:
with its full 30522-piece vocabulary the embedding alone would be 4 MB) and a Unigram/Metaspace
one for DeBERTa-v2 (SentencePiece-like, as DeBERTa-v3 uses). Reruns write identical files.

Sentences: every sentence of fixtures/articles/* as `newstag segment` splits them, plus long
sentences over the 64-token limit. The NER pipeline runs with stride=16 (max length / 4), so
long inputs are split into overlapping windows the way transformers does it (overflowing
tokens, per-window aggregation, then `aggregate_overlapping_entities`); the Rust side
reimplements exactly that.
"""

import json
import math
import subprocess
import sys
from pathlib import Path


import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    DebertaV2Config,
    DebertaV2ForSequenceClassification,
    DebertaV2ForTokenClassification,
    PreTrainedTokenizerFast,
    pipeline,
)

ROOT = Path(__file__).resolve().parents[2]
# The label maps and the module the ONNX export traces, shared with scripts/bench/bench_transformers.py.
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
from transformerlib import Logits, labels  # noqa: E402

OUT = ROOT / "fixtures" / "tiny"
NEWSTAG = ROOT / "target" / "release" / "newstag"
MAX_LEN = 64
STRIDE = MAX_LEN // 4
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
NLI_LABELS = ["contradiction", "neutral", "entailment"]
TEMPLATE = "This article is about {}."
CANDIDATES = ["Arctic", "trade", "sport", "health", "defense"]
STRATEGIES = ["simple", "first", "average", "max"]

LONG_SENTENCES = [
    # Over 64 tokens for both tokenizers: windows overlap by 16 tokens.
    "The delegation from Norway met officials of the European Union in Brussels on Monday, "
    "then travelled with representatives of the United Nations, the World Health Organization "
    "and the International Monetary Fund to Geneva, where Prime Minister Jonas Gahr Støre and "
    "President Emmanuel Macron discussed Arctic shipping, fishing quotas in the Barents Sea, "
    "the Northern Sea Route, vaccine supplies for hospitals in Oslo, Tromsø and Murmansk, and "
    "the central bank's interest rate decision, before flying to Beijing to meet Xi Jinping "
    "and Vladimir Putin about trade with China and Russia.",
    "Officials said that the Arctic Council, NATO, the Russian Federation, the People's "
    "Republic of China, Denmark, Greenland, Iceland, Finland, Sweden, Canada and the United "
    "States of America would all send delegations to Reykjavík next spring, while the football "
    "final in London between Arsenal and Chelsea, the hospital vaccine campaign in Manchester "
    "and the markets in New York, Tokyo and Frankfurt kept reporters busy for the whole week.",
]


def sentences():
    out = subprocess.run(
        [str(NEWSTAG), "segment", str(ROOT / "fixtures" / "articles")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    sents = []
    for line in out.splitlines():
        rec = json.loads(line)
        sents.extend(s["text"] for s in rec.get("sentences", []))
    return sents + LONG_SENTENCES


def training_text():
    texts = []
    for p in sorted((ROOT / "fixtures" / "articles").iterdir()):
        texts.append(p.read_text(encoding="utf-8"))
    texts.append((ROOT / "models" / "topics" / "background.txt").read_text(encoding="utf-8"))
    texts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    texts.extend(LONG_SENTENCES)
    texts.append(" ".join(TEMPLATE.format(c) for c in CANDIDATES))
    lines = []
    for t in texts:
        lines.extend(line for line in t.splitlines() if line.strip())
    return lines


def wrap(tok: Tokenizer, input_names):
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_max_length=MAX_LEN,
    )
    fast.model_input_names = input_names
    return fast


SUFFIXES = ["s", "es", "ed", "ing", "ly", "er", "ers", "ion", "ions", "al", "ic", "an", "ian",
            "ment", "ness", "ity", "ive", "ous", "ish", "ist", "ern", "est", "n", "d", "'s"]


def word_counts(pre_tokenizer):
    """Word frequencies of the training text, as the tokenizer's pre-tokeniser splits it."""
    counts = {}
    for line in training_text():
        for word, _ in pre_tokenizer.pre_tokenize_str(line):
            counts[word] = counts.get(word, 0) + 1
    return counts


def frequent(counts, n):
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def bert_tokenizer():
    # all-MiniLM-L6-v2's pipeline (BERT normaliser, pre-tokeniser, WordPiece, template), cased,
    # with a small vocabulary built deterministically from the fixture text (the tokenizers
    # trainers break ties in hash order, so reruns would differ): every character, alone and
    # as a ## continuation, common suffixes, and the 1500 most frequent words.
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    pre = pre_tokenizers.BertPreTokenizer()
    counts = word_counts(pre)
    chars = sorted({c for w in counts for c in w})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = chars + ["##" + c for c in chars] + ["##" + x for x in SUFFIXES]
    pieces += [w for w in frequent(counts, 1500) if len(w) > 1]
    vocab = {}
    for p in specials + pieces:
        vocab.setdefault(p, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return wrap(tok, ["input_ids", "token_type_ids", "attention_mask"])


def deberta_tokenizer():
    # SentencePiece-like, as DeBERTa-v3's tokenizer.json: NFKC, Metaspace, Unigram. Pieces and
    # log-frequency scores are computed here (deterministic): the 700 most frequent words as
    # "▁word", common suffixes, and every character alone and after "▁". Words of fewer than
    # three occurrences are left out so that they split into pieces.
    pre = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    counts = {}
    for w, c in word_counts(pre_tokenizers.WhitespaceSplit()).items():
        w = "▁" + w
        counts[w] = counts.get(w, 0) + c
    total = sum(counts.values())
    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    chars = sorted({c for w in counts for c in w})
    scored = {}
    for w in frequent(counts, 700):
        if counts[w] >= 3 and len(w) > 1:
            scored[w] = math.log(counts[w] / total)
    for x in SUFFIXES:
        scored.setdefault(x, math.log(2 / total))
    for c in chars:
        scored.setdefault(c, math.log(1 / total) - 2.0)
        if c != "▁":
            scored.setdefault("▁" + c, math.log(1 / total) - 1.0)
    vocab = [(p, 0.0) for p in specials]
    vocab += sorted(((p, round(sc, 4)) for p, sc in scored.items()), key=lambda v: (-v[1], v[0]))
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return wrap(tok, ["input_ids", "attention_mask"])


def bert_config(vocab, names):
    id2label, label2id = labels(names)
    return BertConfig(
        vocab_size=vocab,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_LEN,
        type_vocab_size=2,
        id2label=id2label,
        label2id=label2id,
        attn_implementation="eager",
    )


def deberta_config(vocab, names):
    id2label, label2id = labels(names)
    return DebertaV2Config(
        vocab_size=vocab,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_LEN,
        type_vocab_size=0,
        relative_attention=True,
        position_buckets=16,
        max_relative_positions=-1,
        pos_att_type=["p2c", "c2p"],
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        position_biased_input=False,
        pad_token_id=0,
        id2label=id2label,
        label2id=label2id,
    )


def spread_nli(model):
    """A random NLI head barely tells one hypothesis from another (one token of thirty
    differs), so the single-label scores would all be about 1/n. Amplify the entailment row,
    and let the contradiction row follow it, so that the multi-label score (entailment against
    contradiction) stays inside (0, 1)."""
    with torch.no_grad():
        w = model.classifier.weight
        entail, contra = NLI_LABELS.index("entailment"), NLI_LABELS.index("contradiction")
        w[entail] *= 40.0
        w[contra] = w[entail] + w[contra]


def scale_classifier(model, seed_bias=None):
    with torch.no_grad():
        model.classifier.weight.mul_(50.0)
        # BERT's pooler squashes the [CLS] state through tanh of a small random projection,
        # which leaves every label's logits nearly tied; spread it.
        pooler = getattr(getattr(model, "bert", None), "pooler", None)
        if pooler is not None:
            pooler.dense.weight.mul_(30.0)
        if seed_bias is not None:
            model.classifier.bias.copy_(torch.tensor(seed_bias, dtype=torch.float32))


def export(model, tokenizer, name, with_types, check_texts):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.config.to_json_file(d / "config.json")
    tokenizer.save_pretrained(d)
    for extra in ["special_tokens_map.json", "chat_template.jinja"]:
        if (d / extra).exists():
            (d / extra).unlink()
    wrapper = Logits(model, with_types).eval()
    enc = tokenizer(["a short example", "and a rather longer example sentence here"],
                    padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    args = tuple(enc[n] for n in names)
    batch = torch.export.Dim("batch", min=1, max=1024)
    seq = torch.export.Dim("sequence", min=2, max=4096)
    onnx_program = torch.onnx.export(
        wrapper,
        args,
        dynamo=True,
        opset_version=17,
        input_names=names,
        output_names=["logits"],
        dynamic_shapes={n: {0: batch, 1: seq} for n in names},
        optimize=True,
        external_data=False,
    )
    onnx_program.save(str(d / "model.onnx"), external_data=False)
    # The exported graph must agree with PyTorch at other lengths and batch sizes.
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    worst = 0.0
    for i in range(0, len(check_texts), 7):
        batch = check_texts[i : i + 7]
        enc = tokenizer(batch, padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            ref = wrapper(*[enc[n] for n in names]).numpy()
        got = sess.run(["logits"], {n: enc[n].numpy() for n in names})[0]
        mask = enc["attention_mask"].numpy().astype(bool)
        diff = np.abs(ref - got)
        if diff.ndim == 3:
            diff = diff[mask]
        # Relative to the logits' size: the NLI heads are amplified (see spread_nli).
        worst = max(worst, float(diff.max()) / max(1.0, float(np.abs(ref).max())))
    print(f"{name}: onnx vs torch max relative |diff| = {worst:.2e}, "
          f"{(d / 'model.onnx').stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    assert worst < 1e-5, f"{name}: ONNX export disagrees with PyTorch ({worst})"


def f(x):
    return float(round(float(x), 7))


def record_ner(model, tokenizer, sents):
    ner = pipeline("token-classification", model=model, tokenizer=tokenizer, device="cpu")
    out = {}
    counts = {}
    for strategy in STRATEGIES:
        rows = []
        for s in sents:
            ents = ner(s, aggregation_strategy=strategy, stride=STRIDE)
            rows.append(
                {
                    "sentence": s,
                    "entities": [
                        {
                            "word": e["word"],
                            "entity_group": e["entity_group"],
                            "start": int(e["start"]),
                            "end": int(e["end"]),
                            "score": f(e["score"]),
                        }
                        for e in ents
                    ],
                }
            )
        out[strategy] = rows
        counts[strategy] = sum(len(r["entities"]) for r in rows)
    print(f"  entities per strategy: {counts}", file=sys.stderr)
    return out


def record_zeroshot(model, tokenizer, sents):
    zs = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer, device="cpu")
    rows = []
    tops = {}
    for s in sents:
        row = {"sentence": s}
        for multi in (False, True):
            r = zs(s, candidate_labels=CANDIDATES, hypothesis_template=TEMPLATE, multi_label=multi)
            row["multi_label" if multi else "single_label"] = {
                "labels": r["labels"],
                "scores": [f(x) for x in r["scores"]],
            }
            if not multi:
                tops[r["labels"][0]] = tops.get(r["labels"][0], 0) + 1
        rows.append(row)
    print(f"  top labels: {tops}", file=sys.stderr)
    return rows


def main():
    torch.use_deterministic_algorithms(True)
    sents = sentences()
    OUT.mkdir(parents=True, exist_ok=True)
    btok = bert_tokenizer()
    dtok = deberta_tokenizer()
    for name, t in [("bert", btok), ("deberta", dtok)]:
        lens = [len(t(s)["input_ids"]) for s in sents]
        print(f"{name} tokenizer: vocab {len(t)}, longest sentence {max(lens)} tokens, "
              f"{sum(n > MAX_LEN for n in lens)} over {MAX_LEN}", file=sys.stderr)

    # Bias "O" up so that about half the tokens are outside entities.
    o_bias = [4.0] + [0.0] * (len(NER_LABELS) - 1)
    expected_ner = {"max_length": MAX_LEN, "stride": STRIDE, "models": {}}
    expected_zs = {"template": TEMPLATE, "candidate_labels": CANDIDATES, "models": {}}

    torch.manual_seed(1)
    m = BertForTokenClassification(bert_config(len(btok), NER_LABELS))
    scale_classifier(m, o_bias)
    export(m, btok, "bert-ner", True, sents)
    expected_ner["models"]["bert-ner"] = record_ner(m, btok, sents)

    torch.manual_seed(2)
    m = DebertaV2ForTokenClassification(deberta_config(len(dtok), NER_LABELS))
    scale_classifier(m, o_bias)
    export(m, dtok, "deberta-ner", False, sents)
    expected_ner["models"]["deberta-ner"] = record_ner(m, dtok, sents)

    short = [s for s in sents if s not in LONG_SENTENCES]
    torch.manual_seed(3)
    m = BertForSequenceClassification(bert_config(len(btok), NLI_LABELS))
    scale_classifier(m)
    spread_nli(m)
    pairs = [(s, TEMPLATE.format(c)) for s in short[:8] for c in CANDIDATES]
    export(m, btok, "bert-nli", True, pairs)
    expected_zs["models"]["bert-nli"] = record_zeroshot(m, btok, sents)

    torch.manual_seed(4)
    m = DebertaV2ForSequenceClassification(deberta_config(len(dtok), NLI_LABELS))
    scale_classifier(m)
    spread_nli(m)
    export(m, dtok, "deberta-nli", False, pairs)
    expected_zs["models"]["deberta-nli"] = record_zeroshot(m, dtok, sents)

    (OUT / "expected_ner.json").write_text(json.dumps(expected_ner, ensure_ascii=False, indent=1) + "\n")
    (OUT / "expected_zeroshot.json").write_text(json.dumps(expected_zs, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
