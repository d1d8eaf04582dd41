"""newstag: who and what is in news articles, from Python.

The Rust core of the ``newstag`` command line, loaded in process: an :class:`Annotator` loads the
models once and turns articles (str, or dicts ``{"id", "title", "text", ...}``) into the same
JSON records ``newstag annotate`` writes, as dicts::

    import newstag

    annotator = newstag.Annotator()                  # the fast profile, models from the store
    [record] = annotator.annotate(["Angela Merkel visited Paris on Monday."])
    record["people"][0]["name"]                      # 'Angela Merkel'

Models come from the CLI's store (``$NEWSTAG_HOME``, else ``$XDG_CACHE_HOME/newstag``, else
``~/.cache/newstag``) and are fetched there on first use unless ``offline=True``. Errors that stop
a run raise a :class:`NewstagError` subclass; an article that cannot be annotated gets an error
record ``{"id", "error": {"kind", "message"}}`` instead, as on the command line.

:mod:`newstag.spark` annotates a Spark DataFrame with the same records as typed columns.
"""

from ._newstag import (
    AnnotateIter,
    Annotator,
    ConfigError,
    InputError,
    ModelCorruptError,
    ModelMissingError,
    NetworkError,
    NewstagError,
    __version__,
)

__all__ = [
    "AnnotateIter",
    "Annotator",
    "ConfigError",
    "InputError",
    "ModelCorruptError",
    "ModelMissingError",
    "NetworkError",
    "NewstagError",
    "__version__",
]
