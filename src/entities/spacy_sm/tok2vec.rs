//! The NER's own tok2vec: MultiHashEmbed (NORM, PREFIX, SUFFIX, SHAPE) -> maxout ->
//! layernorm, then 4 residual window-1 maxout CNN layers, then a linear 96 -> 64
//! projection (the input layer of the parser model).

use crate::error::{Result, ensure, err};

use crate::entities::spacy_sm::hash::murmur3_128_u64;
use crate::entities::spacy_sm::model::{Array, Node};

/// Receptive field of the encoder on each side (one token per CNN layer).
pub const CONTEXT: usize = 4;

/// A dense layer `y = W x + b` with `W` stored (n_out, n_in) row-major.
#[derive(Debug, Clone)]
pub struct Dense {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub n_out: usize,
    pub n_in: usize,
}

impl Dense {
    pub fn from_arrays(w: &Array, b: &Array) -> Result<Self> {
        ensure!(w.shape.len() >= 2, "dense weight must be at least 2-D");
        let n_in = *w.shape.last().unwrap_or(&0);
        let n_out = w.data.len() / n_in.max(1);
        ensure!(
            b.data.len() == n_out,
            "bias size {} != {}",
            b.data.len(),
            n_out
        );
        Ok(Dense {
            w: w.data.clone(),
            b: b.data.clone(),
            n_out,
            n_in,
        })
    }

    /// `out[n, n_out] = x[n, n_in] * W^T + b`.
    pub fn forward(&self, x: &[f32], n: usize, out: &mut Vec<f32>) {
        debug_assert_eq!(x.len(), n * self.n_in);
        out.clear();
        out.reserve(n * self.n_out);
        for _ in 0..n {
            out.extend_from_slice(&self.b);
        }
        if n == 0 {
            return;
        }
        // SAFETY: the slices hold exactly m*k, k*n and m*n floats for the given strides.
        unsafe {
            matrixmultiply::sgemm(
                n,
                self.n_in,
                self.n_out,
                1.0,
                x.as_ptr(),
                self.n_in as isize,
                1,
                self.w.as_ptr(),
                1,
                self.n_in as isize,
                1.0,
                out.as_mut_ptr(),
                self.n_out as isize,
                1,
            );
        }
    }
}

#[derive(Debug, Clone)]
struct HashEmbed {
    table: Vec<f32>,
    rows: usize,
    seed: u32,
}

#[derive(Debug, Clone)]
struct MaxoutNorm {
    dense: Dense,
    pieces: usize,
    gain: Vec<f32>,
    bias: Vec<f32>,
}

impl MaxoutNorm {
    fn from_nodes(maxout: &Node, norm: &Node) -> Result<Self> {
        let w = maxout.param("W")?;
        ensure!(w.shape.len() == 3, "maxout W must be 3-D");
        let pieces = w.shape[1];
        Ok(MaxoutNorm {
            dense: Dense::from_arrays(w, maxout.param("b")?)?,
            pieces,
            gain: norm.param("G")?.data.clone(),
            bias: norm.param("b")?.data.clone(),
        })
    }

    fn width(&self) -> usize {
        self.dense.n_out / self.pieces
    }

    /// Maxout then layer normalisation; `tmp` is scratch space.
    fn forward(&self, x: &[f32], n: usize, tmp: &mut Vec<f32>, out: &mut Vec<f32>) {
        self.dense.forward(x, n, tmp);
        let width = self.width();
        out.clear();
        out.resize(n * width, 0.0);
        for (row, orow) in tmp
            .chunks_exact(self.dense.n_out)
            .zip(out.chunks_exact_mut(width))
        {
            for (o, pieces) in orow.iter_mut().zip(row.chunks_exact(self.pieces)) {
                let mut best = pieces[0];
                for &p in &pieces[1..] {
                    if p > best {
                        best = p;
                    }
                }
                *o = best;
            }
            layer_norm(orow, &self.gain, &self.bias);
        }
    }
}

fn layer_norm(x: &mut [f32], gain: &[f32], bias: &[f32]) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n + 1e-8;
    let inv = 1.0 / var.sqrt();
    for ((v, g), b) in x.iter_mut().zip(gain).zip(bias) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// Weights of the tok2vec + projection.
#[derive(Debug, Clone)]
pub struct Tok2Vec {
    embeds: Vec<HashEmbed>,
    width: usize,
    mix: MaxoutNorm,
    cnn: Vec<MaxoutNorm>,
    proj: Dense,
}

/// Scratch buffers reused across calls.
#[derive(Debug, Default)]
pub struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    d: Vec<f32>,
}

impl Tok2Vec {
    /// Builds the encoder from the model's nodes (identified by name and dimensions).
    pub fn from_nodes(nodes: &[Node]) -> Result<Self> {
        let mut embeds: Vec<(u64, HashEmbed)> = Vec::new();
        for n in nodes.iter().filter(|n| n.name == "hashembed") {
            let e = n.param("E")?;
            let seed = n
                .attr("seed")
                .and_then(|v| v.as_u64())
                .ok_or_else(|| err!("hashembed: no seed"))?;
            let column = n
                .attr("column")
                .and_then(|v| v.as_u64())
                .unwrap_or(embeds.len() as u64);
            embeds.push((
                column,
                HashEmbed {
                    table: e.data.clone(),
                    rows: e.shape[0],
                    seed: seed as u32,
                },
            ));
        }
        embeds.sort_by_key(|(c, _)| *c);
        ensure!(
            embeds.len() == 4,
            "expected 4 hashembed tables, found {}",
            embeds.len()
        );
        let width = nodes
            .iter()
            .find(|n| n.name == "hashembed")
            .and_then(|n| n.dim("nO"))
            .ok_or_else(|| err!("hashembed: no nO"))? as usize;
        let maxouts: Vec<&Node> = nodes.iter().filter(|n| n.name == "maxout").collect();
        let norms: Vec<&Node> = nodes.iter().filter(|n| n.name == "layernorm").collect();
        ensure!(
            maxouts.len() == 5 && norms.len() == 5,
            "expected 5 maxout+layernorm pairs"
        );
        let mix = MaxoutNorm::from_nodes(maxouts[0], norms[0])?;
        ensure!(mix.dense.n_in == 4 * width, "embedding mixer input width");
        let cnn = (1..5)
            .map(|i| MaxoutNorm::from_nodes(maxouts[i], norms[i]))
            .collect::<Result<Vec<_>>>()?;
        let proj_node = nodes
            .iter()
            .find(|n| n.name == "linear" && n.dim("nI") == Some(width as u64))
            .ok_or_else(|| err!("no tok2vec projection layer"))?;
        let proj = Dense::from_arrays(proj_node.param("W")?, proj_node.param("b")?)?;
        Ok(Tok2Vec {
            embeds: embeds.into_iter().map(|(_, e)| e).collect(),
            width,
            mix,
            cnn,
            proj,
        })
    }

    pub fn out_width(&self) -> usize {
        self.proj.n_out
    }

    /// Encodes tokens `lo..hi` of a document whose attribute ids are `feats` (four ids per
    /// token); writes (hi - lo) x 64 floats to `out`.
    ///
    /// thinc runs the CNN over each document with 4 zero rows of padding on both sides
    /// (`with_array(pad=4)`); the padding rows are transformed like tokens, so they are
    /// reproduced here. Only a window of `CONTEXT` rows around `lo..hi` is computed, which
    /// gives exact results because each CNN layer sees one row to each side.
    pub fn forward(
        &self,
        feats: &[[u64; 4]],
        lo: usize,
        hi: usize,
        s: &mut Scratch,
        out: &mut Vec<f32>,
    ) {
        let n = feats.len();
        let w = self.width;
        out.clear();
        if lo >= hi {
            return;
        }
        // Padded coordinates: token i is row i + CONTEXT; rows [p0, p1) are computed.
        let p0 = lo;
        let p1 = (hi + 2 * CONTEXT).min(n + 2 * CONTEXT);
        let rows = p1 - p0;
        let t0 = p0.max(CONTEXT) - CONTEXT; // first token inside the window
        let t1 = (p1 - CONTEXT).min(n); // one past the last token inside
        let nt = t1.saturating_sub(t0);
        // Embedding: sum of 4 hashed rows per table, tables concatenated.
        s.a.clear();
        s.a.resize(nt * 4 * w, 0.0);
        for (row, f) in s.a.chunks_exact_mut(4 * w).zip(&feats[t0..t1]) {
            for (t, emb) in self.embeds.iter().enumerate() {
                let dst = &mut row[t * w..(t + 1) * w];
                for key in murmur3_128_u64(f[t], emb.seed) {
                    let r = (key as usize) % emb.rows;
                    let src = &emb.table[r * w..(r + 1) * w];
                    for (d, v) in dst.iter_mut().zip(src) {
                        *d += v;
                    }
                }
            }
        }
        self.mix.forward(&s.a, nt, &mut s.b, &mut s.d); // nt x w
        s.c.clear();
        s.c.resize(rows * w, 0.0);
        let off = t0 + CONTEXT - p0; // row of token t0 within the window
        s.c[off * w..(off + nt) * w].copy_from_slice(&s.d[..nt * w]);
        for layer in &self.cnn {
            // expand_window(1): [x[i-1], x[i], x[i+1]] with zeros outside the window.
            s.a.clear();
            s.a.resize(rows * 3 * w, 0.0);
            for i in 0..rows {
                let row = &mut s.a[i * 3 * w..(i + 1) * 3 * w];
                if i > 0 {
                    row[..w].copy_from_slice(&s.c[(i - 1) * w..i * w]);
                }
                row[w..2 * w].copy_from_slice(&s.c[i * w..(i + 1) * w]);
                if i + 1 < rows {
                    row[2 * w..].copy_from_slice(&s.c[(i + 1) * w..(i + 2) * w]);
                }
            }
            layer.forward(&s.a, rows, &mut s.b, &mut s.d);
            for (x, y) in s.c.iter_mut().zip(&s.d) {
                *x += y;
            }
        }
        let r0 = lo + CONTEXT - p0;
        self.proj
            .forward(&s.c[r0 * w..(r0 + hi - lo) * w], hi - lo, out);
    }
}
