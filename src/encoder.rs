//! Sentence embeddings: a BERT-style encoder on ONNX Runtime, mean-pooled and L2-normalised,
//! as sentence-transformers computes them for all-MiniLM-L6-v2.

use std::path::Path;

use anyhow::{Result, anyhow};
use ndarray::ArrayD;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::runtime::{EncoderSession, Runtime, in_length_batches};

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
    session: EncoderSession,
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
        let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(0);
        let session = runtime.encoder_session(&dir.join("model.onnx"), pad_id)?;
        let dim = session.output_dim().unwrap_or(384);
        Ok(SentenceEncoder {
            tokenizer,
            session,
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
        let refs: Vec<&Encoding> = encodings.iter().collect();
        in_length_batches(&refs, TOKENS_PER_BATCH, MAX_BATCH, |batch| {
            let hidden = self.session.run(batch)?;
            Ok(batch
                .iter()
                .enumerate()
                .map(|(row, enc)| mean_pool(&hidden, row, enc.get_attention_mask()))
                .collect())
        })
    }
}

/// Mean of the token vectors of one row where the attention mask is 1, L2-normalised: the
/// sentence-transformers pooling for this model.
fn mean_pool(hidden: &ArrayD<f32>, row: usize, mask: &[u32]) -> Vec<f32> {
    let dim = hidden.shape()[2];
    let mut v = vec![0f32; dim];
    let mut count = 0f32;
    for (col, _) in mask.iter().enumerate().filter(|(_, m)| **m != 0) {
        count += 1.0;
        for (d, x) in v.iter_mut().enumerate() {
            *x += hidden[[row, col, d]];
        }
    }
    let count = count.max(1e-9);
    v.iter_mut().for_each(|x| *x /= count);
    normalize(&mut v);
    v
}

pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
