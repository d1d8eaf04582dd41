//! Sentence embeddings: a BERT-style encoder on ONNX Runtime (or, in bf16, on OpenVINO),
//! mean-pooled and L2-normalised, as sentence-transformers computes them for all-MiniLM-L6-v2.

use std::path::{Path, PathBuf};

use crate::error::{Result, err};
use ndarray::{ArrayViewD, Axis};
use sha2::{Digest, Sha256};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::runtime::{Forward, Runtime, in_length_batches};

/// The model's `max_seq_length` in sentence-transformers' config; longer inputs are truncated
/// there too, so matching it keeps embeddings identical.
const MAX_TOKENS: usize = 256;

pub struct SentenceEncoder {
    tokenizer: Tokenizer,
    /// Embeds the articles.
    session: Box<dyn Forward>,
    /// Embeds the fixed texts (topic prototypes, the calibration background) when `session`
    /// computes in a lower precision: those stay fp32, as the calibration was fitted on them
    /// (measured with int8: lower-precision prototypes moved held-out values by up to 6.9
    /// points, fp32 ones by up to 2.9). Opened only when the embedding cache misses (the first
    /// run: once per call, three calls) and dropped after, so a run does not hold a second
    /// copy of the model. Since the fixed texts are fp32 either way, the cache is the fp32
    /// model's, shared.
    exact: Option<ExactLoader>,
    dim: usize,
    /// Identifies the model files (names, sizes, modification times): a cache key part.
    identity: String,
    cache: Option<PathBuf>,
}

/// Opens the fp32 session on ONNX Runtime for [`SentenceEncoder::embed_fixed`].
type ExactLoader = Box<dyn Fn() -> Result<Box<dyn Forward>> + Send + Sync>;

impl SentenceEncoder {
    /// Loads `model.onnx` and `tokenizer.json` from `dir`, on ONNX Runtime.
    pub fn load(runtime: &Runtime, dir: &Path) -> Result<Self> {
        let (tokenizer, pad_id) = load_tokenizer(dir)?;
        let session = runtime.encoder_session(&dir.join("model.onnx"), pad_id)?;
        let dim = session.output_dim().unwrap_or(384);
        Ok(SentenceEncoder {
            tokenizer,
            session: Box::new(session),
            exact: None,
            dim,
            identity: files_identity(dir),
            cache: None,
        })
    }

    /// The model of `dir` in bf16 on OpenVINO for the articles, with fp32 on ONNX Runtime for
    /// the fixed texts.
    #[cfg(feature = "openvino")]
    pub fn load_bf16(
        runtime: &Runtime,
        openvino: crate::models::openvino::OpenVino,
        dir: &Path,
    ) -> Result<Self> {
        let (tokenizer, pad_id) = load_tokenizer(dir)?;
        let model = dir.join("model.onnx");
        let session = openvino.bf16_encoder(&model, pad_id, runtime.intra_threads())?;
        let runtime = runtime.clone();
        let exact: ExactLoader = Box::new(move || {
            Ok(Box::new(runtime.encoder_session(&model, pad_id)?) as Box<dyn Forward>)
        });
        Ok(SentenceEncoder {
            tokenizer,
            session: Box::new(session),
            exact: Some(exact),
            // all-MiniLM-L6-v2's width: this loader serves the store's model only.
            dim: 384,
            identity: files_identity(dir),
            cache: None,
        })
    }

    /// Keeps embeddings of fixed texts ([`Self::embed_fixed`]) under `dir` between runs.
    pub fn with_cache(mut self, dir: PathBuf) -> Self {
        self.cache = Some(dir);
        self
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Unit-length embeddings of `texts`, in the order given.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_on(&*self.session, texts)
    }

    fn embed_on(&self, session: &dyn Forward, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.encode(texts)?;
        let refs: Vec<&Encoding> = encodings.iter().collect();
        in_length_batches(&refs, |batch| {
            let mut pooled = Vec::with_capacity(batch.len());
            session.forward(batch, &mut |hidden| {
                pooled.extend(
                    batch
                        .iter()
                        .enumerate()
                        .map(|(row, enc)| mean_pool(&hidden, row, enc.get_attention_mask())),
                );
            })?;
            Ok(pooled)
        })
    }

    /// The fixed texts' embeddings, in fp32 whatever precision embeds the articles.
    fn embed_exact(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        match &self.exact {
            Some(load) => self.embed_on(&*load()?, texts),
            None => self.embed(texts),
        }
    }

    /// The model's input for `texts`: unpadded, truncated at the model's maximum length.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Encoding>> {
        self.tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| err!("tokenizing: {e}"))
    }

    /// [`Self::embed`] for texts that are the same run after run (topic prototypes, the
    /// calibration background): read from the cache when it has them, else embedded and
    /// stored. Saves re-embedding a few hundred texts at every start (about a second on two
    /// cores). The key covers the model files and every text, so any change misses; a cache
    /// that cannot be read or written is only a slower start.
    pub fn embed_fixed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let Some(dir) = &self.cache else {
            return self.embed_exact(texts);
        };
        let mut key = Sha256::new();
        key.update(CACHE_FORMAT.as_bytes());
        key.update(self.identity.as_bytes());
        for text in texts {
            key.update(text.as_bytes());
            key.update([0u8]);
        }
        let path = dir.join(format!("{}.f32", hex::encode(key.finalize())));
        if let Some(vecs) = read_vectors(&path, texts.len(), self.dim) {
            return Ok(vecs);
        }
        let vecs = self.embed_exact(texts)?;
        let _ = write_vectors(&path, &vecs);
        Ok(vecs)
    }
}

/// `tokenizer.json` of `dir`, set up as sentence-transformers runs it, and its padding id.
fn load_tokenizer(dir: &Path) -> Result<(Tokenizer, u32)> {
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
        .map_err(|e| err!("loading {}: {e}", dir.join("tokenizer.json").display()))?;
    // The packaged tokenizer.json pads every input to 128; we pad per batch instead and
    // pool with the attention mask, so padding never reaches the mean.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))
        .map_err(|e| err!("{e}"))?;
    let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(0);
    Ok((tokenizer, pad_id))
}

/// Bumped when the cached embedding computation changes (pooling, truncation, file layout).
const CACHE_FORMAT: &str = "newstag-embeddings-v1\n";

/// Names, sizes and modification times of a model directory's files.
fn files_identity(dir: &Path) -> String {
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            Some(format!(
                "{}:{}:{}",
                e.file_name().to_string_lossy(),
                meta.len(),
                modified.as_nanos()
            ))
        })
        .collect();
    entries.sort();
    format!("{}|{}", dir.display(), entries.join("|"))
}

/// `n` little-endian f32 vectors of `dim`, or `None` when the file is missing or the wrong size.
fn read_vectors(path: &Path, n: usize, dim: usize) -> Option<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).ok()?;
    if dim == 0 || bytes.len() != n * dim * 4 {
        return None;
    }
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(floats.chunks(dim).map(<[f32]>::to_vec).collect())
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_vectors(path: &Path, vecs: &[Vec<f32>]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let bytes: Vec<u8> = vecs
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Mean of the token vectors of one row where the attention mask is 1, L2-normalised: the
/// sentence-transformers pooling for this model. `hidden` is `[batch, tokens, dim]`.
fn mean_pool(hidden: &ArrayViewD<f32>, row: usize, mask: &[u32]) -> Vec<f32> {
    let dim = hidden.shape()[2];
    let mut v = vec![0f32; dim];
    let mut count = 0f32;
    let tokens = hidden.index_axis(Axis(0), row);
    for (token, _) in tokens.outer_iter().zip(mask).filter(|(_, m)| **m != 0) {
        count += 1.0;
        v.iter_mut().zip(token.iter()).for_each(|(x, t)| *x += t);
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
