//! `newstag._newstag`: the compiled half of the `newstag` Python package.
//!
//! A thin front end on the core library, as the command line is one: options map onto the
//! library's [`Config`] (through its own serde field names, so a profile, an aggregation or a
//! precision is parsed exactly as a `--config` file's), [`Pipeline::load`] loads the models
//! once per `Annotator`, articles become [`Input`]s by the rules a JSONL line follows
//! ([`input_from_value`]), and every record is the library's rendered JSON line
//! ([`render`]) parsed by Python's `json.loads`: byte for byte the record the CLI writes, and
//! its fields in the CLI's order. The GIL is released while Rust annotates.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use newstag::article::DocErrorKind;
use newstag::{
    Config, DocError, Error, ErrorKind, Input, Outcome, Overrides, Pipeline, ReadOptions, Shape,
    Store, input_from_value, render,
};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

create_exception!(
    newstag,
    NewstagError,
    PyException,
    "Base of newstag's errors: the run could not start or go on (not a bad article, which \
     gets an error record). `kind` names the library's error kind; `model` the model it is \
     about, or None."
);
create_exception!(
    newstag,
    ModelMissingError,
    NewstagError,
    "A model is not in the store and may not be fetched (offline=True), or the Hugging Face \
     Hub has no such model or file."
);
create_exception!(
    newstag,
    ModelCorruptError,
    NewstagError,
    "A model's files fail their sha256 check."
);
create_exception!(
    newstag,
    NetworkError,
    NewstagError,
    "A model could not be fetched: the network or the Hub failed."
);
create_exception!(
    newstag,
    ConfigError,
    NewstagError,
    "The options cannot describe a run: a value out of range or of the wrong kind, options \
     that exclude each other, or a topic set, rules, vocabulary or config file that cannot be \
     read."
);
create_exception!(
    newstag,
    InputError,
    NewstagError,
    "Input the library was handed cannot be read."
);

/// The library's error as the Python exception of its kind, with `kind` and `model`
/// attributes; the message is the whole chain (`outer: inner: cause`), as the CLI prints it.
fn py_error(py: Python<'_>, error: Error, offline: bool) -> PyErr {
    let (kind, model) = (error.kind(), error.model().map(str::to_string));
    let mut message = format!("{error:#}");
    // What to do about it, as the CLI says it, with the package's name for the switch.
    if let Some(hint) = error.remedy(offline.then_some("offline=True")) {
        message.push_str(&hint);
    }
    let err = match kind {
        ErrorKind::ModelMissing => ModelMissingError::new_err(message),
        ErrorKind::ModelCorrupt => ModelCorruptError::new_err(message),
        ErrorKind::Network => NetworkError::new_err(message),
        ErrorKind::Config => ConfigError::new_err(message),
        ErrorKind::Input => InputError::new_err(message),
        _ => NewstagError::new_err(message),
    };
    let value = err.value(py);
    // Attributes on a fresh exception object cannot fail but for memory; the message stands.
    let _ = value.setattr("kind", kind.as_str());
    let _ = value.setattr("model", model);
    err
}

fn config_error(message: impl Into<String>) -> PyErr {
    let err = ConfigError::new_err(message.into());
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("kind", ErrorKind::Config.as_str());
        let _ = value.setattr("model", py.None());
    });
    err
}

/// A Python value as JSON, as `json.dumps` would write it, or why it is not JSON. NaN and
/// infinities (which JSON cannot hold) become null, as serde_json writes them.
fn to_json(obj: &Bound<'_, PyAny>) -> Result<Value, String> {
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(s) = obj.cast::<PyString>() {
        s.to_cow()
            .map(|s| Value::String(s.into_owned()))
            .map_err(|e| e.to_string())
    } else if let Ok(b) = obj.cast::<PyBool>() {
        // Before int: a bool is an int in Python.
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            Ok(Value::from(i))
        } else if let Ok(u) = obj.extract::<u64>() {
            Ok(Value::from(u))
        } else {
            Err("an int too large for JSON".into())
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Ok(serde_json::Number::from_f64(f.value()).map_or(Value::Null, Value::Number))
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| "a dict with a key that is not a str".to_string())?
                .to_cow()
                .map_err(|e| e.to_string())?
                .to_string();
            map.insert(key, to_json(&v)?);
        }
        Ok(Value::Object(map))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for item in obj.try_iter().map_err(|e| e.to_string())? {
            out.push(to_json(&item.map_err(|e| e.to_string())?)?);
        }
        Ok(Value::Array(out))
    } else {
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        Err(format!("a {type_name} is not JSON"))
    }
}

/// One item of the caller's as an article, read as a JSONL line is read
/// ([`input_from_value`]): a str is the article's text; a dict is `{"id", "title", "text",
/// ...}`, other fields passed through under `meta`. `position` (from 1) is the id of an item
/// without one. What cannot be read becomes the item's error record, not an exception: a bad
/// article never stops a run.
fn to_input(item: &Bound<'_, PyAny>, position: usize, opts: ReadOptions) -> Input {
    let default_id = position.to_string();
    let failed = |id: String, message: String| Input::Failed {
        id,
        error: DocError::new(DocErrorKind::MalformedJson, message),
    };
    if let Ok(text) = item.cast::<PyString>() {
        return match text.to_cow() {
            Ok(text) => {
                let mut obj = Map::new();
                obj.insert("text".into(), Value::String(text.into_owned()));
                input_from_value(Value::Object(obj), default_id, opts)
            }
            Err(e) => failed(default_id, format!("item is not valid text: {e}")),
        };
    }
    let Ok(dict) = item.cast::<PyDict>() else {
        let type_name = item
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        return failed(
            default_id,
            format!("item is a {type_name}, not a str or a dict"),
        );
    };
    // Field by field, so that a field that is not JSON is named, and the record still carries
    // the item's own id.
    let mut obj = Map::new();
    let mut bad = None;
    for (k, v) in dict.iter() {
        let Ok(key) = k.cast::<PyString>().map(|k| k.to_string()) else {
            bad.get_or_insert_with(|| "a key that is not a str".to_string());
            continue;
        };
        match to_json(&v) {
            Ok(value) => {
                obj.insert(key, value);
            }
            Err(why) => {
                bad.get_or_insert_with(|| format!("field \"{key}\": {why}"));
            }
        }
    }
    let input = input_from_value(Value::Object(obj), default_id, opts);
    match bad {
        Some(why) => failed(input.id().to_string(), format!("item is not JSON: {why}")),
        None => input,
    }
}

/// Renders outcomes as JSON lines (without the GIL).
fn render_all(
    outcomes: Vec<Outcome>,
    shape: Shape,
    models: &BTreeMap<&'static str, String>,
) -> Result<Vec<String>, String> {
    outcomes
        .iter()
        .map(|o| {
            render(o, shape, models)
                .map_err(|e| e.to_string())
                .and_then(|line| String::from_utf8(line).map_err(|e| e.to_string()))
        })
        .collect()
}

/// JSON lines as Python objects, through `json.loads` (the CLI's record, fields in its order).
fn parse_lines(py: Python<'_>, lines: Vec<String>) -> PyResult<Vec<Py<PyAny>>> {
    let loads = py.import("json")?.getattr("loads")?;
    lines
        .into_iter()
        .map(|line| Ok(loads.call1((line,))?.unbind()))
        .collect()
}

/// Newstag's models, loaded once, and the run's options: annotates articles into the records
/// `newstag annotate` writes.
///
/// Every option is the CLI flag (and `--config` file field) of the same name; those left None
/// keep the config file's value or the default. Models come from the same store as the CLI's
/// (`$NEWSTAG_HOME`, else `$XDG_CACHE_HOME/newstag`, else `~/.cache/newstag`), fetched there on
/// first use unless `offline=True`; `store` names another store directory (one shipped to a
/// Spark executor, say).
///
/// One Annotator can be shared by any number of Python threads: the GIL is released while Rust
/// annotates, and each call runs on the Annotator's own worker threads.
///
/// Raises ConfigError for options that cannot describe a run, ModelMissingError,
/// ModelCorruptError or NetworkError when a model cannot be had.
#[pyclass(frozen, module = "newstag")]
struct Annotator {
    pipeline: Arc<Pipeline>,
    config: Config,
    models: Arc<BTreeMap<&'static str, String>>,
}

impl Annotator {
    /// Annotates `items` (any iterable), numbered from `first` for those without an id, in
    /// `shape`; the records in input order.
    fn run(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        first: usize,
        shape: Shape,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let opts = self.config.read_options();
        let mut inputs = Vec::new();
        for (i, item) in items.try_iter()?.enumerate() {
            inputs.push(to_input(&item?, first + i, opts));
        }
        run_inputs(
            py,
            &self.pipeline,
            &self.models,
            inputs,
            shape,
            self.config.batch_size,
        )
    }
}

/// Runs `inputs` batch by batch with the GIL released, and parses the records.
fn run_inputs(
    py: Python<'_>,
    pipeline: &Pipeline,
    models: &BTreeMap<&'static str, String>,
    inputs: Vec<Input>,
    shape: Shape,
    batch_size: usize,
) -> PyResult<Vec<Py<PyAny>>> {
    let lines = py.detach(|| -> Result<Vec<String>, String> {
        let mut lines = Vec::with_capacity(inputs.len());
        for batch in pipeline.annotate_stream(inputs, batch_size) {
            lines.extend(render_all(batch, shape, models)?);
        }
        Ok(lines)
    });
    let lines = lines.map_err(|e| NewstagError::new_err(format!("rendering a record: {e}")))?;
    parse_lines(py, lines)
}

#[pymethods]
impl Annotator {
    #[new]
    #[pyo3(signature = (
        profile = None, *, ner = None, topic_model = None, topics = None, labels = None,
        entity_rules = None, vocabulary = None, threads = None, offline = None,
        batch_size = None, threshold = None, depth = None, topic_sentences = None, aggregation = None,
        precision = None, cascade = None, vocabulary_only = None, max_article_bytes = None,
        config = None, store = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        profile: Option<String>,
        ner: Option<String>,
        topic_model: Option<String>,
        topics: Option<PathBuf>,
        labels: Option<Vec<String>>,
        entity_rules: Option<PathBuf>,
        vocabulary: Option<PathBuf>,
        threads: Option<usize>,
        offline: Option<bool>,
        batch_size: Option<usize>,
        threshold: Option<f32>,
        depth: Option<usize>,
        topic_sentences: Option<usize>,
        aggregation: Option<String>,
        precision: Option<String>,
        cascade: Option<usize>,
        vocabulary_only: Option<bool>,
        max_article_bytes: Option<usize>,
        config: Option<PathBuf>,
        store: Option<PathBuf>,
    ) -> PyResult<Self> {
        // The options given, by the Config's field names, written over the config file (or
        // the defaults) by the core, which parses and checks them as a `--config` file's
        // values and as the command line's flags.
        let mut given = Overrides::default();
        given
            .set("profile", profile)
            .set("ner", ner)
            .set("topic_model", topic_model)
            .set_path("topics", topics.as_deref())
            .set("labels", labels)
            .set_path("entity_rules", entity_rules.as_deref())
            .set_path("vocabulary", vocabulary.as_deref())
            .set("threads", threads)
            .set("offline", offline)
            .set("batch_size", batch_size)
            .set("threshold", threshold)
            .set("depth", depth)
            .set("topic_sentences", topic_sentences)
            .set("aggregation", aggregation)
            .set("precision", precision)
            .set("cascade", cascade)
            .set("vocabulary_only", vocabulary_only)
            .set("max_article_bytes", max_article_bytes);
        let base = match &config {
            Some(file) => Config::from_file(file).map_err(|e| config_error(e.0))?,
            None => Config::default(),
        };
        let config = base
            .with_overrides(given)
            .map_err(|e| py_error(py, Error::from(e), false))?;
        let pipeline = py
            .detach(|| {
                let store = match store {
                    Some(dir) => Store::new(dir),
                    None => Store::from_env()?,
                };
                Pipeline::load(&config, &store, &mut |msg| eprintln!("newstag: {msg}"))
            })
            .map_err(|e| py_error(py, e, config.offline))?;
        let models = Arc::new(pipeline.models());
        Ok(Annotator {
            pipeline: Arc::new(pipeline),
            config,
            models,
        })
    }

    /// Annotates articles: one record per item, in order, each exactly the JSON object
    /// `newstag annotate` writes for that article.
    ///
    /// An item is a str (the article's text) or a dict `{"id", "title", "text", ...}` read as
    /// a line of a JSONL file is (other fields come back under "meta"). An item without an id
    /// gets its position, "1", "2", ... An item that cannot be annotated (empty text, no
    /// "text", a text that is not a str, a value that is not JSON) gets an error record
    /// `{"id", "error": {"kind", "message"}}` in its place; the others are annotated.
    #[pyo3(signature = (items, /))]
    fn annotate(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        self.run(py, items, 1, Shape::Annotate)
    }

    /// Streams records: pulls `batch_size` items (default: the Annotator's batch_size, 64) from
    /// `iterable`, annotates them and yields their records before pulling more, so memory holds
    /// one batch whatever the stream's length. Items and records as in `annotate`; ids by
    /// position count on across batches. An iterator is for one thread at a time.
    #[pyo3(signature = (iterable, /, batch_size = None))]
    fn annotate_iter(
        slf: &Bound<'_, Self>,
        iterable: &Bound<'_, PyAny>,
        batch_size: Option<usize>,
    ) -> PyResult<AnnotateIter> {
        let this = slf.get();
        if batch_size == Some(0) {
            return Err(config_error("batch_size must be at least 1"));
        }
        Ok(AnnotateIter {
            pipeline: Arc::clone(&this.pipeline),
            models: Arc::clone(&this.models),
            opts: this.config.read_options(),
            source: iterable.try_iter()?.into_any().unbind(),
            batch_size: batch_size.unwrap_or(this.config.batch_size),
            next_position: 1,
            pending: VecDeque::new(),
            exhausted: false,
        })
    }

    /// Ranked tag suggestions, as `newstag tags --json` prints them: `{"id", "tags"}` per item
    /// with at most `top` tags (the CLI's default, 15), or the item's error record.
    #[pyo3(signature = (items, /, top = newstag::DEFAULT_TOP_TAGS))]
    fn tags(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        top: usize,
    ) -> PyResult<Vec<Py<PyAny>>> {
        self.run(py, items, 1, Shape::Tags { top, json: true })
    }

    /// The topics this Annotator reports, as the server's `GET /v1/topics` answers:
    /// `{"set", "iptc", "threshold", "depth", "topics"}`, each topic
    /// `{"label", "code", "description", "path", "level", "set"}`. With the shipped set, the
    /// IPTC Media Topics tree is listed (`"iptc": {"updated"}`) before the set's desk topics;
    /// a `topics` file or `labels` are listed alone. `threshold` and `depth` are the ones
    /// asked for (None: the defaults).
    fn topics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let catalog = self.pipeline.topic_catalog();
        let json =
            serde_json::to_string(&catalog).map_err(|e| NewstagError::new_err(e.to_string()))?;
        Ok(py
            .import("json")?
            .getattr("loads")?
            .call1((json,))?
            .unbind())
    }

    /// Which model makes which layer, as each record's "models" field says:
    /// `{"entities": ..., "topics": ...}`.
    fn models(&self) -> BTreeMap<&'static str, String> {
        (*self.models).clone()
    }

    /// The effective options (the library's Config, its field names), as a dict.
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let json = serde_json::to_string(&self.config)
            .map_err(|e| NewstagError::new_err(e.to_string()))?;
        Ok(py
            .import("json")?
            .getattr("loads")?
            .call1((json,))?
            .unbind())
    }

    /// `Annotator(profile="fast", entities="...", topics="...")`: the profile and the models.
    fn __repr__(&self) -> String {
        let models: Vec<String> = self
            .models
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!(
            "Annotator(profile={:?}, {})",
            format!("{:?}", self.config.profile).to_lowercase(),
            models.join(", ")
        )
    }
}

/// The iterator `Annotator.annotate_iter` returns: records, one batch of items at a time.
#[pyclass(module = "newstag")]
struct AnnotateIter {
    pipeline: Arc<Pipeline>,
    models: Arc<BTreeMap<&'static str, String>>,
    opts: ReadOptions,
    source: Py<PyAny>,
    batch_size: usize,
    next_position: usize,
    pending: VecDeque<Py<PyAny>>,
    exhausted: bool,
}

#[pymethods]
impl AnnotateIter {
    /// The iterator itself.
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next record: from the batch in hand, or from the next `batch_size` items, pulled
    /// and annotated (with the GIL released) when the batch in hand is used up.
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if self.pending.is_empty() && !self.exhausted {
            let source = self.source.bind(py);
            let mut inputs = Vec::with_capacity(self.batch_size);
            while inputs.len() < self.batch_size {
                match source.call_method0("__next__") {
                    Ok(item) => {
                        inputs.push(to_input(&item, self.next_position, self.opts));
                        self.next_position += 1;
                    }
                    Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => {
                        self.exhausted = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            let n = inputs.len();
            let records = run_inputs(py, &self.pipeline, &self.models, inputs, Shape::Annotate, n)?;
            self.pending.extend(records);
        }
        Ok(self.pending.pop_front())
    }
}

/// The compiled half of `newstag`; the package's `__init__` re-exports it.
#[pymodule]
fn _newstag(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Annotator>()?;
    m.add_class::<AnnotateIter>()?;
    m.add("NewstagError", py.get_type::<NewstagError>())?;
    m.add("ModelMissingError", py.get_type::<ModelMissingError>())?;
    m.add("ModelCorruptError", py.get_type::<ModelCorruptError>())?;
    m.add("NetworkError", py.get_type::<NetworkError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
