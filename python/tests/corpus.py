"""nlp-corpus articles, made as scripts/bench/bench makes them: the npm package nlp-corpus@4.4.0
(cached as ``$XDG_CACHE_HOME/newstag-bench/nlp-corpus-4.4.0.tgz``, fetched with ``npm pack``
when missing), consecutive groups of 20 of its sentences per article, ids ``nlp-corpus-N``.
Shared by the Spark tests and scripts/bench/bench_spark."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Dict, List

PACKAGE = "nlp-corpus@4.4.0"
TARBALL = "nlp-corpus-4.4.0.tgz"
SENTENCES_PER_ARTICLE = 20


def tarball() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newstag-bench"
    path = cache / TARBALL
    if not path.is_file() or path.stat().st_size == 0:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
    return path


def corpus_articles(n: int) -> List[Dict[str, Any]]:
    """The first ``n`` articles (n * 20 sentences must fit in the corpus: n up to ~5,000)."""
    docs = []
    with tarfile.open(tarball()) as tar:
        for member in tar.getmembers():
            m = re.fullmatch(r"package/builds/doc-(\d+)\.json", member.name)
            if m:
                docs.append((int(m.group(1)), member))
        docs.sort(key=lambda d: d[0])
        sentences: List[str] = []
        for _, member in docs:
            f = tar.extractfile(member)
            assert f is not None
            sentences += [s.strip() for s in json.loads(f.read().decode("utf-8")) if s.strip()]
            if len(sentences) >= n * SENTENCES_PER_ARTICLE:
                break
    per = SENTENCES_PER_ARTICLE
    if len(sentences) < n * per:
        raise ValueError(f"nlp-corpus has {len(sentences)} sentences, {n} articles need {n * per}")
    return [
        {"id": f"nlp-corpus-{i}", "text": " ".join(sentences[i * per:(i + 1) * per])}
        for i in range(n)
    ]
