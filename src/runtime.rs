//! ONNX Runtime, loaded once per process from the store and shared by every model session.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow};
use ndarray::{Array2, ArrayD};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use rayon::prelude::*;
use tokenizers::Encoding;

/// Model weights a process may duplicate to run passes side by side: a small model (MiniLM
/// int8, 23 MB) gets a session per thread, a large one (BERT-base fp32, 430 MB) one session
/// using every thread.
const LANE_MEMORY_BUDGET: u64 = 256 << 20;

/// How one model's forward passes share the thread budget: `lanes` sessions run side by side
/// on rayon's workers, each with `intra` ONNX Runtime threads, and `lanes × intra ≤ threads`,
/// so model passes never oversubscribe the cores.
///
/// Side-by-side single-threaded passes beat one pass on two threads for short sequences
/// (no intra-op synchronisation, and tokenising/pooling overlap the other lane's pass); a
/// session with one intra-op thread computes on the calling rayon worker, so model work and the
/// CPU stages (cleaning, segmenting, spaCy-port NER) share one pool of `threads` workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadPlan {
    pub lanes: usize,
    pub intra: usize,
}

impl ThreadPlan {
    /// The plan for a model whose weights take `model_bytes`, under a budget of `threads`.
    pub fn for_model(threads: usize, model_bytes: u64) -> Self {
        let threads = threads.max(1);
        let budget = std::env::var("XLANE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(LANE_MEMORY_BUDGET);
        let max_lanes = (budget / model_bytes.max(1)).clamp(1, threads as u64);
        let intra = threads.div_ceil(max_lanes as usize);
        ThreadPlan {
            lanes: threads / intra,
            intra,
        }
    }
}

/// An ONNX Runtime environment plus the thread budget its sessions share.
///
/// `ort` loads the shared library into the process once (a `dlopen` is process-wide whatever we
/// do); everything else — environment, sessions, thread counts — lives in values the caller owns.
pub struct Runtime {
    env: Environment,
    threads: usize,
}

impl Runtime {
    /// Loads `libonnxruntime.so` from `lib` and creates an environment whose model sessions
    /// share `threads` threads (see [`ThreadPlan`]).
    pub fn load(lib: &Path, threads: usize) -> Result<Self> {
        let builder = ort::init_from(lib)
            .map_err(|e| anyhow!("loading ONNX Runtime from {}: {e}", lib.display()))?;
        let env = builder
            .with_name("newstag")
            .with_telemetry(false)
            .build()
            .map_err(|e| anyhow!("creating the ONNX Runtime environment: {e}"))?;
        Ok(Runtime {
            env,
            threads: threads.max(1),
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Opens a BERT-style model (token ids in, first output out); `pad_id` fills padding.
    pub fn encoder_session(&self, model: &Path, pad_id: u32) -> Result<EncoderSession> {
        let plan = ThreadPlan::for_model(self.threads, weight_bytes(model));
        let lanes = (0..plan.lanes)
            .map(|_| self.session(model, plan.intra).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let (wants_token_type_ids, output_dim) = {
            let s = lanes[0]
                .lock()
                .map_err(|_| anyhow!("session lock poisoned"))?;
            let tt = s.inputs().iter().any(|i| i.name() == "token_type_ids");
            let dim = s
                .outputs()
                .first()
                .and_then(|o| o.dtype().tensor_shape().and_then(|sh| sh.last().copied()))
                .filter(|d| *d > 0)
                .map(|d| d as usize);
            (tt, dim)
        };
        Ok(EncoderSession {
            lanes,
            next: AtomicUsize::new(0),
            plan,
            wants_token_type_ids,
            pad_id: i64::from(pad_id),
            output_dim,
        })
    }

    /// Opens a model file as a session computing with `intra` threads.
    fn session(&self, model: &Path, intra: usize) -> Result<Session> {
        Session::builder(&self.env)
            .and_then(|b| {
                b.with_optimization_level(GraphOptimizationLevel::Level3)
                    .map_err(Into::into)
            })
            .and_then(|b| b.with_intra_threads(intra).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(model))
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("loading ONNX model {}", model.display()))
    }
}

/// The bytes of a model's weights: the graph file plus external data beside it that shares its
/// stem (`model.onnx_data`, or the `model.safetensors` a weight-less graph points into).
fn weight_bytes(model: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let stem = model
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model");
    let external = model
        .parent()
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| {
            p.file_stem().and_then(|s| s.to_str()) == Some(stem)
                && p.extension().and_then(|e| e.to_str()) != Some("onnx")
                && !p.extension().is_some_and(|e| e == "json")
        })
        .map(|p| size(&p))
        .sum::<u64>();
    size(model) + external
}

/// A transformer encoder on ONNX Runtime: `input_ids`, `attention_mask` (and `token_type_ids`
/// when the graph has it) in, the first output out. Shared by the sentence encoder, the token
/// classifier and the NLI classifier.
pub struct EncoderSession {
    /// One session per lane of the [`ThreadPlan`]; a pass takes whichever is free.
    lanes: Vec<Mutex<Session>>,
    next: AtomicUsize,
    plan: ThreadPlan,
    wants_token_type_ids: bool,
    pad_id: i64,
    output_dim: Option<usize>,
}

impl EncoderSession {
    /// The last dimension of the first output, when the graph fixes it.
    pub fn output_dim(&self) -> Option<usize> {
        self.output_dim
    }

    pub fn plan(&self) -> ThreadPlan {
        self.plan
    }

    /// A free lane's session, else (all busy) the next one in turn, waited for.
    fn lane(&self) -> Result<std::sync::MutexGuard<'_, Session>> {
        for lane in &self.lanes {
            if let Ok(session) = lane.try_lock() {
                return Ok(session);
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.lanes.len();
        self.lanes[i]
            .lock()
            .map_err(|_| anyhow!("session lock poisoned"))
    }

    /// Runs one batch, padded to its longest encoding; returns the first output
    /// (`[batch, tokens, dim]` or `[batch, labels]`).
    pub fn run(&self, batch: &[&Encoding]) -> Result<ArrayD<f32>> {
        let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::from_elem((batch.len(), width), self.pad_id);
        let mut mask = Array2::<i64>::zeros((batch.len(), width));
        let mut types = Array2::<i64>::zeros((batch.len(), width));
        for (row, enc) in batch.iter().enumerate() {
            let cols = enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .zip(enc.get_type_ids());
            for (col, ((&id, &m), &t)) in cols.enumerate() {
                ids[[row, col]] = i64::from(id);
                mask[[row, col]] = i64::from(m);
                types[[row, col]] = i64::from(t);
            }
        }
        let mut session = self.lane()?;
        let ids_t = TensorRef::from_array_view(ids.view())?;
        let mask_t = TensorRef::from_array_view(mask.view())?;
        let outputs = if self.wants_token_type_ids {
            let tt = TensorRef::from_array_view(types.view())?;
            session.run(ort::inputs![
                "input_ids" => ids_t,
                "attention_mask" => mask_t,
                "token_type_ids" => tt
            ])?
        } else {
            session.run(ort::inputs!["input_ids" => ids_t, "attention_mask" => mask_t])?
        };
        Ok(outputs[0].try_extract_array::<f32>()?.to_owned())
    }
}

/// Runs `forward` over `encodings` sorted by length, in batches cut by a padded-token budget
/// (so short inputs share a pass and long ones do not pad the rest), and returns its
/// per-encoding results in the original order. With more than one lane, batches run side by
/// side on rayon's workers.
pub fn in_length_batches<T: Default + Clone + Send>(
    encodings: &[&Encoding],
    tokens_per_batch: usize,
    max_batch: usize,
    lanes: usize,
    forward: impl Fn(&[&Encoding]) -> Result<Vec<T>> + Sync,
) -> Result<Vec<T>> {
    let mut order: Vec<usize> = (0..encodings.len()).collect();
    order.sort_by_key(|&i| encodings[i].len());
    let mut batches = Vec::new();
    let mut start = 0;
    while start < order.len() {
        // Sorted ascending, so the last member of a batch sets its padded width.
        let mut end = start + 1;
        while end < order.len()
            && end - start < max_batch
            && (end - start + 1) * encodings[order[end]].len() <= tokens_per_batch
        {
            end += 1;
        }
        batches.push(&order[start..end]);
        start = end;
    }
    let run = |members: &&[usize]| {
        let batch: Vec<&Encoding> = members.iter().map(|&i| encodings[i]).collect();
        forward(&batch)
    };
    let results: Vec<Result<Vec<T>>> = if lanes > 1 {
        batches.par_iter().map(run).collect()
    } else {
        batches.iter().map(run).collect()
    };
    let mut out = vec![T::default(); encodings.len()];
    for (members, result) in batches.iter().zip(results) {
        for (&i, value) in members.iter().zip(result?) {
            out[i] = value;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::ThreadPlan;

    #[test]
    fn plans_never_oversubscribe() {
        const MB: u64 = 1 << 20;
        let plan = |threads, mb| ThreadPlan::for_model(threads, mb * MB);
        // Small models: a session per thread; large ones: one session on every thread.
        assert_eq!(plan(2, 23), ThreadPlan { lanes: 2, intra: 1 });
        assert_eq!(plan(2, 430), ThreadPlan { lanes: 1, intra: 2 });
        assert_eq!(plan(1, 23), ThreadPlan { lanes: 1, intra: 1 });
        // 16 threads, room for 11 copies of a 23 MB model: 8 lanes of 2 threads.
        assert_eq!(plan(16, 23), ThreadPlan { lanes: 8, intra: 2 });
        for threads in 1..=64 {
            for mb in [1, 23, 90, 110, 430, 1500] {
                let p = plan(threads, mb);
                assert!(p.lanes >= 1 && p.intra >= 1);
                assert!(
                    p.lanes * p.intra <= threads,
                    "{threads} threads, {mb} MB: {p:?}"
                );
                assert!(p.lanes as u64 * mb * MB <= LANE_BUDGET.max(mb * MB));
            }
        }
    }
    const LANE_BUDGET: u64 = super::LANE_MEMORY_BUDGET;
}
