//! ONNX Runtime, loaded once per process from the store and shared by every model session.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow};
use ndarray::{ArrayD, ArrayViewD};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use tokenizers::Encoding;

/// An ONNX Runtime environment plus the thread budget its sessions get.
///
/// `ort` loads the shared library into the process once (a `dlopen` is process-wide whatever we
/// do); everything else — environment, sessions, thread counts — lives in values the caller owns.
/// ONNX Runtime allows one environment per process, so a second `Runtime::load` fails: a
/// program (a server, a test binary) loads one `Runtime` and shares it.
///
/// The thread plan: one session per model, each forward pass on `intra_threads` (= `--threads`)
/// threads, and the pipeline's stages take turns on a batch ([`crate::pipeline`]), so model
/// passes and rayon's `--threads` workers are never busy at the same time. Measured on 2 cores
/// (README, "Threads"): a session per thread with one intra-op thread each, run side by side,
/// was no faster and cost ~200 MB per extra session (with the int8 MiniLM export, whose int8
/// weights ONNX Runtime folds back to fp32 at load); running entities and topics side by side
/// was no faster than in turn.
pub struct Runtime {
    env: Environment,
    intra_threads: usize,
}

impl Runtime {
    /// Loads `libonnxruntime.so` from `lib` and creates an environment whose sessions each use
    /// `intra_threads` threads for one forward pass.
    pub fn load(lib: &Path, intra_threads: usize) -> Result<Self> {
        let builder = ort::init_from(lib)
            .map_err(|e| anyhow!("loading ONNX Runtime from {}: {e}", lib.display()))?;
        let env = builder
            .with_name("newstag")
            .with_telemetry(false)
            .build()
            .map_err(|e| anyhow!("creating the ONNX Runtime environment: {e}"))?;
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
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("loading ONNX model {}", model.display()))
    }
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
    ids: Vec<i64>,
    mask: Vec<i64>,
    types: Vec<i64>,
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
                ids: Vec::new(),
                mask: Vec::new(),
                types: Vec::new(),
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
        let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let shape = [batch.len(), width];
        let mut state = self
            .state
            .lock()
            .map_err(|_| anyhow!("session lock poisoned"))?;
        let SessionState {
            session,
            ids,
            mask,
            types,
        } = &mut *state;
        for (buf, fill) in [(&mut *ids, self.pad_id), (&mut *mask, 0), (&mut *types, 0)] {
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
                ids[at + col] = i64::from(id);
                mask[at + col] = i64::from(m);
                types[at + col] = i64::from(t);
            }
        }
        let ids_t = TensorRef::from_array_view((shape, &ids[..]))?;
        let mask_t = TensorRef::from_array_view((shape, &mask[..]))?;
        let outputs = if self.wants_token_type_ids {
            let tt = TensorRef::from_array_view((shape, &types[..]))?;
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
