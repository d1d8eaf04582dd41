//! Sentence embeddings: a BERT-style encoder on ONNX Runtime, mean-pooled and L2-normalised,
//! as sentence-transformers computes them for all-MiniLM-L6-v2.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Result, anyhow};
use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::runtime::Runtime;

/// The model's `max_seq_length` in sentence-transformers' config; longer inputs are truncated
/// there too, so matching it keeps embeddings identical.
const MAX_TOKENS: usize = 256;
/// Padded tokens per forward pass; batches are cut by this budget after sorting by length, so a
/// batch of short sentences holds many and a long one few. Measured on the seed and a 200-article
/// corpus: 2048 tokens / 32 sequences keeps ONNX Runtime's arena at ~400 MB peak where 8192 / 128
/// reached ~640 MB, and starts faster; throughput did not drop.
const TOKENS_PER_BATCH: usize = 2048;
const MAX_BATCH: usize = 32;

pub struct SentenceEncoder {
    tokenizer: Tokenizer,
    session: Mutex<Session>,
    wants_token_type_ids: bool,
    dim: usize,
}

impl SentenceEncoder {
    /// Loads `model.onnx` and `tokenizer.json` from `dir`.
    pub fn load(runtime: &Runtime, dir: &Path) -> Result<Self> {
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| anyhow!("loading {}: {e}", dir.join("tokenizer.json").display()))?;
        // The packaged tokenizer.json pads every input to 128; we pad per batch instead and
        // pool with the attention mask, so padding never reaches the mean.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| anyhow!("{e}"))?;
        let session = runtime.session(&dir.join("model.onnx"))?;
        let (wants_token_type_ids, dim) = {
            let s = session
                .lock()
                .map_err(|_| anyhow!("session lock poisoned"))?;
            let tt = s.inputs().iter().any(|i| i.name() == "token_type_ids");
            let dim = s
                .outputs()
                .first()
                .and_then(|o| o.dtype().tensor_shape().and_then(|sh| sh.last().copied()))
                .filter(|d| *d > 0)
                .unwrap_or(384) as usize;
            (tt, dim)
        };
        Ok(SentenceEncoder {
            tokenizer,
            session,
            wants_token_type_ids,
            dim,
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Unit-length embeddings of `texts`, in the order given.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted ascending, so the last member of a batch sets its padded width.
            let mut end = start + 1;
            while end < order.len()
                && end - start < MAX_BATCH
                && (end - start + 1) * encodings[order[end]].len() <= TOKENS_PER_BATCH
            {
                end += 1;
            }
            let batch: Vec<&Encoding> = order[start..end].iter().map(|&i| &encodings[i]).collect();
            let vectors = self.forward(&batch)?;
            for (&i, v) in order[start..end].iter().zip(vectors) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }

    fn forward(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>> {
        let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::zeros((batch.len(), width));
        let mut mask = Array2::<i64>::zeros((batch.len(), width));
        let type_ids = Array2::<i64>::zeros((batch.len(), width));
        for (row, enc) in batch.iter().enumerate() {
            for (col, (&id, &m)) in enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .enumerate()
            {
                ids[[row, col]] = id as i64;
                mask[[row, col]] = m as i64;
            }
        }
        let mut session = self
            .session
            .lock()
            .map_err(|_| anyhow!("session lock poisoned"))?;
        let ids_t = TensorRef::from_array_view(ids.view())?;
        let mask_t = TensorRef::from_array_view(mask.view())?;
        let outputs = if self.wants_token_type_ids {
            let tt = TensorRef::from_array_view(type_ids.view())?;
            session.run(ort::inputs![
                "input_ids" => ids_t,
                "attention_mask" => mask_t,
                "token_type_ids" => tt
            ])?
        } else {
            session.run(ort::inputs!["input_ids" => ids_t, "attention_mask" => mask_t])?
        };
        let hidden = outputs[0].try_extract_array::<f32>()?;
        let dim = hidden.shape()[2];
        let mut vectors = Vec::with_capacity(batch.len());
        for row in 0..batch.len() {
            let mut v = vec![0f32; dim];
            let mut count = 0f32;
            for col in 0..width {
                if mask[[row, col]] == 0 {
                    continue;
                }
                count += 1.0;
                for (d, x) in v.iter_mut().enumerate() {
                    *x += hidden[[row, col, d]];
                }
            }
            let count = count.max(1e-9);
            v.iter_mut().for_each(|x| *x /= count);
            normalize(&mut v);
            vectors.push(v);
        }
        Ok(vectors)
    }
}

pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
