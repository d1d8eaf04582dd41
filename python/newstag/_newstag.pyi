"""Types of newstag's compiled half (re-exported by ``newstag``)."""

import os
from typing import Any, Dict, Iterable, Iterator, List, Literal, Mapping, Optional, Sequence, Union

__version__: str

#: An article: its text, or ``{"id", "title", "text", ...}`` (other fields come back under "meta").
Item = Union[str, Mapping[str, Any]]
#: One record as ``newstag annotate`` writes it (see schema/record.schema.json): an annotation
#: record, or an error record ``{"id", "error": {"kind", "message"}}``.
Record = Dict[str, Any]
PathLike = Union[str, "os.PathLike[str]"]

class NewstagError(Exception):
    """Base of newstag's errors: the run could not start or go on."""

    #: "model_missing", "model_corrupt", "network", "config", "input" or "other".
    kind: str
    #: The model the failure is about (a store name, or ``repo@revision``), or None.
    model: Optional[str]

class ModelMissingError(NewstagError):
    """A model is not in the store and may not be fetched, or the Hub has no such model."""

class ModelCorruptError(NewstagError):
    """A model's files fail their sha256 check."""

class NetworkError(NewstagError):
    """A model could not be fetched: the network or the Hub failed."""

class ConfigError(NewstagError):
    """The options cannot describe a run."""

class InputError(NewstagError):
    """Input handed to the library cannot be read."""

class Annotator:
    """Newstag's models, loaded once, and the run's options.

    Each option is the CLI flag (and ``--config`` file field) of the same name; one left None keeps
    the ``config`` file's value, else the default. ``store`` is the model store's directory
    (default: ``$NEWSTAG_HOME``, else ``~/.cache/newstag``, as the CLI). Shareable across threads.
    """

    def __init__(
        self,
        profile: Optional[Literal["fast", "accurate"]] = None,
        *,
        ner: Optional[str] = None,
        topic_model: Optional[str] = None,
        topics: Optional[PathLike] = None,
        labels: Optional[Sequence[str]] = None,
        entity_rules: Optional[PathLike] = None,
        vocabulary: Optional[PathLike] = None,
        threads: Optional[int] = None,
        offline: Optional[bool] = None,
        batch_size: Optional[int] = None,
        threshold: Optional[float] = None,
        depth: Optional[int] = None,
        topic_sentences: Optional[int] = None,
        aggregation: Optional[Literal["simple", "first", "average", "max"]] = None,
        precision: Optional[Literal["fp32", "int8"]] = None,
        cascade: Optional[int] = None,
        vocabulary_only: Optional[bool] = None,
        max_article_bytes: Optional[int] = None,
        config: Optional[PathLike] = None,
        store: Optional[PathLike] = None,
    ) -> None: ...
    def annotate(self, items: Iterable[Item], /) -> List[Record]:
        """One record per item, in order, as ``newstag annotate`` writes them."""
    def annotate_iter(
        self, iterable: Iterable[Item], /, batch_size: Optional[int] = None
    ) -> "AnnotateIter":
        """Records streamed one batch of items at a time."""
    def tags(self, items: Iterable[Item], /, top: int = 15) -> List[Record]:
        """``{"id", "tags"}`` per item (or its error record), as ``newstag tags --json``."""
    def topics(self) -> Dict[str, Any]:
        """The topics reported, as the server's ``GET /v1/topics``: ``{"set", "iptc",
        "threshold", "depth", "topics": [{"label", "code", "description", "path", "level",
        "set"}]}``."""
    def models(self) -> Dict[str, str]:
        """Which model makes which layer: ``{"entities": ..., "topics": ...}``."""
    def config(self) -> Dict[str, Any]:
        """The effective options, by the library's Config field names."""

class AnnotateIter(Iterator[Record]):
    """Records from ``Annotator.annotate_iter``."""

    def __iter__(self) -> "AnnotateIter": ...
    def __next__(self) -> Record: ...
