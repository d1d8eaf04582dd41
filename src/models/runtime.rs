//! ONNX Runtime, loaded once per process from the store and shared by every model session,
//! and the ONNX pieces the models share: sessions, length-sorted batches, the export
//! [`Precision`], and the transformer model (tokenizer, config, session) under both the
//! token classifier ([`crate::entities::transformer`]) and the NLI classifier
//! ([`crate::topics::nli`]).

use std::path::Path;
use std::sync::Mutex;

use crate::error::{Context, Result, bail, err};
use ndarray::{Array2, ArrayD, ArrayViewD};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use tokenizers::{
    EncodeInput, Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy,
};

/// An ONNX Runtime environment plus the thread budget its sessions get.
///
/// `ort` loads the shared library into the process once (a `dlopen` is process-wide whatever we
/// do); everything else — environment, sessions, thread counts — lives in values the caller owns.
/// ONNX Runtime allows one environment per process, ever (`ort` refuses a second one even
/// after the first is dropped), so the first `Runtime::load` creates it and keeps it for the
/// life of the process, and every later `Runtime` shares it: any number of runtimes (and
/// pipelines) can be loaded, used and dropped in one process. The library is loaded from the
/// first `lib` given; later calls reuse it.
///
/// The thread plan: one session per model, each forward pass on `intra_threads` (= `--threads`)
/// threads, and the pipeline's stages take turns on a batch ([`crate::pipeline`]), so model
/// passes and rayon's `--threads` workers are never busy at the same time. Measured on 2 cores
/// (docs/annotate.md, "Threads"): a session per thread with one intra-op thread each, run side by side,
/// was no faster and cost ~200 MB per extra session (with the int8 MiniLM export, whose int8
/// weights ONNX Runtime folds back to fp32 at load); running entities and topics side by side
/// was no faster than in turn.
#[derive(Clone)]
pub struct Runtime {
    env: Environment,
    intra_threads: usize,
}

impl Runtime {
    /// Loads `libonnxruntime.so` from `lib` and creates an environment whose sessions each use
    /// `intra_threads` threads for one forward pass.
    pub fn load(lib: &Path, intra_threads: usize) -> Result<Self> {
        static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);
        let mut shared = ENVIRONMENT.lock().unwrap_or_else(|e| e.into_inner());
        let env = match &*shared {
            Some(env) => env.clone(),
            None => {
                let builder = ort::init_from(lib)
                    .map_err(|e| err!("loading ONNX Runtime from {}: {e}", lib.display()))?;
                let env = builder
                    .with_name("newstag")
                    .with_telemetry(false)
                    .build()
                    .map_err(|e| err!("creating the ONNX Runtime environment: {e}"))?;
                shared.insert(env).clone()
            }
        };
        Ok(Runtime {
            env,
            intra_threads: intra_threads.max(1),
        })
    }

    pub fn intra_threads(&self) -> usize {
        self.intra_threads
    }

    /// Opens a BERT-style model (token ids in, first output out); `pad_id` fills padding.
    pub fn encoder_session(&self, model: &Path, pad_id: u32) -> Result<EncoderSession> {
        let session = self.session(model)?;
        let wants_token_type_ids = session
            .inputs()
            .iter()
            .any(|i| i.name() == "token_type_ids");
        let output_dim = session
            .outputs()
            .first()
            .and_then(|o| o.dtype().tensor_shape().and_then(|sh| sh.last().copied()))
            .filter(|d| *d > 0)
            .map(|d| d as usize);
        Ok(EncoderSession::new(
            session,
            wants_token_type_ids,
            i64::from(pad_id),
            output_dim,
        ))
    }

    /// Opens a model file as a session. `Session::run` needs `&mut self`, so an
    /// [`EncoderSession`] shares it behind a mutex; one forward pass already uses every thread
    /// of the plan.
    fn session(&self, model: &Path) -> Result<Session> {
        Session::builder(&self.env)
            .and_then(|b| {
                b.with_optimization_level(GraphOptimizationLevel::Level3)
                    .map_err(Into::into)
            })
            .and_then(|b| b.with_intra_threads(self.intra_threads).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            // ONNX Runtime 1.32's CPU SkipLayerNormalization kernel is slower than the Add, Add
            // and LayerNormalization it replaces: 410 against 134 ms in a MiniLM graph, and
            // without the fusion BERT-base NER runs 4% faster, DeBERTa-v3-base NLI 4%.
            .and_then(|b| {
                b.with_disabled_optimizers("SkipLayerNormFusion")
                    .map_err(Into::into)
            })
            .and_then(|mut b| b.commit_from_file(model))
            .map_err(|e| err!("{}", name_os_errors(&e.to_string())))
            .with_context(|| format!("loading ONNX model {}", model.display()))
    }
}

/// ONNX Runtime reports a failed system call as "system error number 24", without the
/// error's name; the OS's own description is appended so that a user reads "Too many open
/// files", as every other failure of newstag's says it.
fn name_os_errors(message: &str) -> String {
    const MARK: &str = "system error number ";
    let code = message.find(MARK).and_then(|at| {
        let rest = &message[at + MARK.len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse::<i32>().ok()
    });
    let Some(code) = code else {
        return message.to_string();
    };
    let os = std::io::Error::from_raw_os_error(code).to_string();
    // "Too many open files (os error 24)": the name without the number it repeats.
    let name = os.split(" (os error").next().unwrap_or(&os);
    format!("{message} ({name})")
}

/// A transformer encoder on ONNX Runtime: `input_ids`, `attention_mask` (and `token_type_ids`
/// when the graph has it) in, the first output out. Shared by the sentence encoder, the token
/// classifier and the NLI classifier.
pub struct EncoderSession {
    state: Mutex<SessionState>,
    wants_token_type_ids: bool,
    pad_id: i64,
    output_dim: Option<usize>,
}

/// The session and the input buffers it is fed from: kept between batches (behind the one lock
/// a forward pass takes anyway), so a run allocates no inputs once the largest batch was seen.
struct SessionState {
    session: Session,
    inputs: InputBuffers,
}

impl EncoderSession {
    fn new(
        session: Session,
        wants_token_type_ids: bool,
        pad_id: i64,
        output_dim: Option<usize>,
    ) -> Self {
        EncoderSession {
            state: Mutex::new(SessionState {
                session,
                inputs: InputBuffers::default(),
            }),
            wants_token_type_ids,
            pad_id,
            output_dim,
        }
    }

    /// The last dimension of the first output, when the graph fixes it.
    pub fn output_dim(&self) -> Option<usize> {
        self.output_dim
    }

    /// Runs one batch, padded to its longest encoding; returns the first output
    /// (`[batch, tokens, dim]` or `[batch, labels]`).
    pub fn run(&self, batch: &[&Encoding]) -> Result<ArrayD<f32>> {
        self.run_with(batch, |out| out.to_owned())
    }

    /// Runs one batch, padded to its longest encoding, and hands the first output to `read`
    /// where ONNX Runtime wrote it, so a caller that reduces it (mean pooling) copies nothing.
    pub fn run_with<T>(
        &self,
        batch: &[&Encoding],
        read: impl FnOnce(ArrayViewD<f32>) -> T,
    ) -> Result<T> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| err!("session lock poisoned"))?;
        let SessionState { session, inputs } = &mut *state;
        let shape = inputs.fill(batch, self.pad_id);
        let ids_t = TensorRef::from_array_view((shape, &inputs.ids[..]))?;
        let mask_t = TensorRef::from_array_view((shape, &inputs.mask[..]))?;
        let outputs = if self.wants_token_type_ids {
            let tt = TensorRef::from_array_view((shape, &inputs.types[..]))?;
            session.run(ort::inputs![
                "input_ids" => ids_t,
                "attention_mask" => mask_t,
                "token_type_ids" => tt
            ])?
        } else {
            session.run(ort::inputs!["input_ids" => ids_t, "attention_mask" => mask_t])?
        };
        Ok(read(outputs[0].try_extract_array::<f32>()?))
    }
}

impl Forward for EncoderSession {
    fn forward(&self, batch: &[&Encoding], read: &mut dyn FnMut(ArrayViewD<f32>)) -> Result<()> {
        self.run_with(batch, |hidden| read(hidden))
    }
}

/// One forward pass of a BERT-style encoder over a batch: the first output (`[batch, tokens,
/// dim]`) handed to `read` where the runtime wrote it. The sentence encoder runs on ONNX
/// Runtime ([`EncoderSession`]) or, in bf16, on OpenVINO (`crate::models::openvino`).
pub trait Forward: Send + Sync {
    fn forward(&self, batch: &[&Encoding], read: &mut dyn FnMut(ArrayViewD<f32>)) -> Result<()>;
}

/// An encoder's three inputs for one pass, row-major: reused from pass to pass, so a run
/// allocates no inputs once the largest batch was seen (ONNX Runtime reads them in place;
/// OpenVINO copies them into its own tensors).
#[derive(Default)]
pub(crate) struct InputBuffers {
    pub(crate) ids: Vec<i64>,
    pub(crate) mask: Vec<i64>,
    pub(crate) types: Vec<i64>,
}

impl InputBuffers {
    /// `batch` padded to its longest encoding (`pad_id`, 0, 0 in the padding); returns the
    /// shape, `[inputs, width]`.
    pub(crate) fn fill(&mut self, batch: &[&Encoding], pad_id: i64) -> [usize; 2] {
        let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        for (buf, fill) in [
            (&mut self.ids, pad_id),
            (&mut self.mask, 0),
            (&mut self.types, 0),
        ] {
            buf.clear();
            buf.resize(batch.len() * width, fill);
        }
        for (row, enc) in batch.iter().enumerate() {
            let at = row * width;
            let cols = enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .zip(enc.get_type_ids());
            for (col, ((&id, &m), &t)) in cols.enumerate() {
                self.ids[at + col] = i64::from(id);
                self.mask[at + col] = i64::from(m);
                self.types[at + col] = i64::from(t);
            }
        }
        [batch.len(), width]
    }
}

/// Padded tokens per forward pass: [`in_length_batches`] cuts length-sorted inputs by this
/// budget, so a pass holds many short inputs or few long ones. Small passes are faster, not
/// slower: their activations stay in the cores' caches (MiniLM's 1536-wide FFN intermediate is
/// 3 MB at 512 tokens, 12 MB at 2048). Measured on 2 threads, fast profile end to end on 100
/// nlp-corpus articles: 512 tokens 3.27 s and 256 MB peak, 1024 3.43 s, 2048 3.52 s / 298 MB,
/// 256 3.41 s (too little work per pass to spread over the threads); real-size BERT-base NER
/// (400 sentences) and DeBERTa-v3-base NLI (480 pairs): 8192 tokens 7.90 s / 11.40 s, 2048
/// 6.81 / 10.35, 1024 6.26 / 9.59, 512 5.97 / 8.86, 256 6.07 / 8.91.
pub const TOKENS_PER_PASS: usize = 512;
/// At most this many inputs per pass, however short (with the budget above, 8, 16 and 32 were
/// within a few percent of each other on all three models).
pub const INPUTS_PER_PASS: usize = 16;

/// Runs `forward` over `encodings` sorted by length, in batches cut by [`TOKENS_PER_PASS`]
/// padded tokens and [`INPUTS_PER_PASS`] inputs (so short inputs share a pass and long ones do
/// not pad the rest), and returns its per-encoding results in the original order.
pub fn in_length_batches<T: Default + Clone>(
    encodings: &[&Encoding],
    mut forward: impl FnMut(&[&Encoding]) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let mut order: Vec<usize> = (0..encodings.len()).collect();
    order.sort_by_key(|&i| encodings[i].len());
    let mut out = vec![T::default(); encodings.len()];
    let mut start = 0;
    while start < order.len() {
        // Sorted ascending, so the last member of a batch sets its padded width.
        let mut end = start + 1;
        while end < order.len()
            && end - start < INPUTS_PER_PASS
            && (end - start + 1) * encodings[order[end]].len() <= TOKENS_PER_PASS
        {
            end += 1;
        }
        let batch: Vec<&Encoding> = order[start..end].iter().map(|&i| encodings[i]).collect();
        for (&i, result) in order[start..end].iter().zip(forward(&batch)?) {
            out[i] = result;
        }
        start = end;
    }
    Ok(out)
}

/// When neither `tokenizer_config.json` nor `config.json` says.
const DEFAULT_MAX_LEN: usize = 512;

/// Which export of a model to run. Hugging Face ONNX repositories (Optimum, Xenova) ship the
/// int8 one as `model_quantized.onnx` beside `model.onnx`; `scripts/gen/quantize.py` makes it for a
/// local directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    /// Weights in int8, activations quantised on the fly (ONNX Runtime dynamic quantisation).
    Int8,
}

impl Precision {
    /// The graph's file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Precision::Fp32 => "model.onnx",
            Precision::Int8 => "model_quantized.onnx",
        }
    }

    /// Where the graph may be in a model directory: beside the tokenizer, or in `onnx/` as
    /// Hub repositories exported with Optimum keep it.
    pub fn candidates(self) -> [String; 2] {
        [
            self.file_name().to_string(),
            format!("onnx/{}", self.file_name()),
        ]
    }
}

/// An ONNX sequence model with its tokenizer and config: what the token classifier and the NLI
/// classifier share.
pub(crate) struct TransformerModel {
    pub(crate) tokenizer: Tokenizer,
    /// The same tokenizer truncating sentence pairs to `max_len` by cutting the first text
    /// (the premise), as the zero-shot pipeline does; made once, not per batch.
    pair_tokenizer: Tokenizer,
    session: EncoderSession,
    /// Tokens per input, special tokens included.
    pub(crate) max_len: usize,
    pub(crate) config: serde_json::Value,
    pub(crate) name: String,
    precision: Precision,
}

impl TransformerModel {
    /// The model's name for records, marked when it runs the int8 export.
    pub(crate) fn id(&self) -> String {
        match self.precision {
            Precision::Fp32 => self.name.clone(),
            Precision::Int8 => format!("{} (int8)", self.name),
        }
    }

    pub(crate) fn load(runtime: &Runtime, dir: &Path, precision: Precision) -> Result<Self> {
        let config_path = dir.join("config.json");
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&config_path)
                .with_context(|| format!("reading {}", config_path.display()))?,
        )
        .with_context(|| format!("parsing {}", config_path.display()))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| err!("loading {}: {e}", dir.join("tokenizer.json").display()))?;
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| err!("{e}"))?;
        let tokenizer_max = std::fs::read_to_string(dir.join("tokenizer_config.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("model_max_length").and_then(|m| m.as_f64()))
            .filter(|m| (8.0..1e6).contains(m))
            .map(|m| m as usize);
        let position_max = config
            .get("max_position_embeddings")
            .and_then(|m| m.as_u64())
            .filter(|&m| m >= 8)
            .map(|m| m as usize);
        let max_len = match (tokenizer_max, position_max) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => DEFAULT_MAX_LEN,
        };
        let pad_id = config
            .get("pad_token_id")
            .and_then(|p| p.as_u64())
            .map(|p| p as u32)
            .or_else(|| {
                ["[PAD]", "<pad>", "<PAD>"]
                    .iter()
                    .find_map(|t| tokenizer.token_to_id(t))
            })
            .unwrap_or(0);
        let [top, nested] = precision.candidates();
        let onnx = [dir.join(&top), dir.join(&nested)]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| match precision {
                Precision::Fp32 => err!("{}: no {top} (nor {nested})", dir.display()),
                Precision::Int8 => err!(
                    "{}: no int8 export ({top} or {nested}); make one with `python3 scripts/gen/quantize.py {}`",
                    dir.display(),
                    dir.display()
                ),
            })?;
        let session = runtime.encoder_session(&onnx, pad_id)?;
        // The directory's name; callers that know better (a Hub repository id) use `with_name`.
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        let mut pair_tokenizer = tokenizer.clone();
        pair_tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::OnlyFirst,
                stride: 0,
            }))
            .map_err(|e| err!("{e}"))?;
        Ok(TransformerModel {
            tokenizer,
            pair_tokenizer,
            session,
            max_len,
            config,
            name,
            precision,
        })
    }

    /// `id2label` of the config, in id order.
    pub(crate) fn id2label(&self) -> Result<Vec<String>> {
        let map = self
            .config
            .get("id2label")
            .and_then(|m| m.as_object())
            .ok_or_else(|| err!("config.json of {} has no id2label", self.name))?;
        let mut labels = vec![String::new(); map.len()];
        for (id, label) in map {
            let i: usize = id
                .parse()
                .map_err(|_| err!("id2label key {id:?} is not a number"))?;
            let slot = labels
                .get_mut(i)
                .ok_or_else(|| err!("id2label ids are not 0..{}", map.len()))?;
            *slot = label
                .as_str()
                .ok_or_else(|| err!("id2label value of {id} is not a string"))?
                .to_string();
        }
        Ok(labels)
    }

    /// Encodes, truncating pairs to the model's length (premise first) when `truncate`.
    pub(crate) fn encode<'s, E: Into<EncodeInput<'s>> + Send>(
        &self,
        inputs: Vec<E>,
        truncate: bool,
    ) -> Result<Vec<Encoding>> {
        let tokenizer = if truncate {
            &self.pair_tokenizer
        } else {
            &self.tokenizer
        };
        tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| err!("tokenizing: {e}"))
    }

    /// Logits of every encoding: `[tokens, labels]` for token classifiers, `[1, labels]` for
    /// sequence classifiers. Inputs are sorted by length and batched by a padded-token budget.
    pub(crate) fn logits(&self, encodings: &[&Encoding]) -> Result<Vec<Array2<f32>>> {
        in_length_batches(encodings, |batch| self.forward(batch))
    }

    fn forward(&self, batch: &[&Encoding]) -> Result<Vec<Array2<f32>>> {
        let logits = self.session.run(batch)?;
        let shape = logits.shape().to_vec();
        let mut rows = Vec::with_capacity(batch.len());
        match shape.len() {
            3 => {
                for (row, enc) in batch.iter().enumerate() {
                    let n = enc.len();
                    let mut a = Array2::<f32>::zeros((n, shape[2]));
                    for t in 0..n {
                        for l in 0..shape[2] {
                            a[[t, l]] = logits[[row, t, l]];
                        }
                    }
                    rows.push(a);
                }
            }
            2 => {
                for row in 0..batch.len() {
                    let mut a = Array2::<f32>::zeros((1, shape[1]));
                    for l in 0..shape[1] {
                        a[[0, l]] = logits[[row, l]];
                    }
                    rows.push(a);
                }
            }
            _ => bail!("{}: unexpected logits shape {shape:?}", self.name),
        }
        Ok(rows)
    }
}

/// Softmax of one row, shifted by its maximum (as transformers' token pipeline computes it).
pub(crate) fn softmax(row: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let max = row.clone().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = row.map(|x| (x - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::{INPUTS_PER_PASS, TOKENS_PER_PASS, in_length_batches, name_os_errors};
    use tokenizers::{Encoding, Token};

    /// Passes under the budget: length-sorted, within its tokens (padded to the longest member)
    /// and inputs, every result back in the input's order.
    #[test]
    fn passes_keep_their_budget_and_results_their_order() {
        let lengths: Vec<usize> = (0..29).map(|i| 5 + (i * 37) % 61).collect();
        let encodings: Vec<Encoding> = lengths
            .iter()
            .map(|&n| Encoding::from_tokens(vec![Token::new(1, "a".into(), (0, 1)); n], 0))
            .collect();
        let refs: Vec<&Encoding> = encodings.iter().collect();
        let mut shapes = Vec::new();
        let out = in_length_batches(&refs, |batch| {
            let width = batch.iter().map(|e| e.len()).max().unwrap();
            shapes.push((batch.len(), width));
            Ok(batch.iter().map(|e| e.len()).collect::<Vec<usize>>())
        })
        .unwrap();
        assert_eq!(out, lengths, "results in the input's order");
        for &(n, width) in &shapes {
            assert!(n <= INPUTS_PER_PASS && (n == 1 || n * width <= TOKENS_PER_PASS));
        }
        // Short inputs share passes (fewer passes than inputs), and the budget cuts (more than one).
        assert!(
            shapes.len() < lengths.len() && shapes.len() > 1,
            "{shapes:?}"
        );
    }

    #[test]
    fn onnx_runtime_system_errors_are_named() {
        let got = name_os_errors("Load model from /m/model.onnx failed:system error number 24");
        assert_eq!(
            got,
            "Load model from /m/model.onnx failed:system error number 24 (Too many open files)"
        );
        assert_eq!(
            name_os_errors("failed:system error number 2"),
            "failed:system error number 2 (No such file or directory)"
        );
        // Anything else is left as it is.
        assert_eq!(
            name_os_errors("Protobuf parsing failed"),
            "Protobuf parsing failed"
        );
        assert_eq!(
            name_os_errors("system error number x"),
            "system error number x"
        );
    }
}
