//! The greedy BILUO transition-based NER (spaCy's `BiluoPushDown` with beam width 1):
//! state features (B0, E0, B0-1), precomputed affine maxout hidden layer, linear output
//! layer over the 74 actions, best valid action at each step.

use crate::error::{Context, Result, bail, ensure, err};

use crate::entities::spacy_sm::model::Node;
use crate::entities::spacy_sm::tok2vec::Dense;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Begin,
    In,
    Last,
    Unit,
    Out,
}

/// One action: a move and a label index (`None` for the empty label).
#[derive(Debug, Clone, Copy)]
pub struct Action {
    pub mv: Move,
    pub label: Option<usize>,
}

/// Parses `ner/moves` into the action list in spaCy's class order and the label names.
pub fn load_moves(bytes: &[u8]) -> Result<(Vec<Action>, Vec<String>)> {
    let v = rmpv::decode::read_value(&mut &bytes[..]).context("decoding moves msgpack")?;
    let map = v.as_map().ok_or_else(|| err!("moves: expected a map"))?;
    let json = map
        .iter()
        .find(|(k, _)| k.as_str() == Some("moves"))
        .and_then(|(_, v)| v.as_str())
        .ok_or_else(|| err!("moves: missing 'moves'"))?;
    let parsed: serde_json::Value = serde_json::from_str(json).context("moves JSON")?;
    let obj = parsed
        .as_object()
        .ok_or_else(|| err!("moves: expected an object"))?;
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    let mut labels: Vec<String> = Vec::new();
    let mut actions = Vec::new();
    for key in keys {
        let mv = match key.as_str() {
            "0" => continue, // MISSING
            "1" => Move::Begin,
            "2" => Move::In,
            "3" => Move::Last,
            "4" => Move::Unit,
            "5" => Move::Out,
            other => bail!("moves: unknown move {other}"),
        };
        let freqs = obj[key]
            .as_object()
            .ok_or_else(|| err!("moves: bad label map"))?;
        // spaCy sorts (freq, label) pairs in descending order.
        let mut sorted: Vec<(i64, &String)> = freqs
            .iter()
            .map(|(l, f)| (f.as_i64().unwrap_or(0), l))
            .collect();
        sorted.sort();
        sorted.reverse();
        for (_, label) in sorted {
            if mv == Move::Out && !label.is_empty() {
                continue;
            }
            let label = if label.is_empty() {
                None
            } else {
                Some(match labels.iter().position(|l| l == label) {
                    Some(i) => i,
                    None => {
                        labels.push(label.clone());
                        labels.len() - 1
                    }
                })
            };
            actions.push(Action { mv, label });
        }
    }
    Ok((actions, labels))
}

/// Parser weights: precomputable affine (nF=3, nO=64, nP=2) and the output layer.
#[derive(Debug, Clone)]
pub struct ParserModel {
    /// (nF * nO * nP) x nI, rows ordered `[f][o][p]`.
    pub lower: Dense,
    pub lower_bias: Vec<f32>,
    pub pad: Vec<f32>,
    pub upper: Dense,
    pub n_feats: usize,
    pub n_hidden: usize,
    pub n_pieces: usize,
}

impl ParserModel {
    pub fn from_nodes(nodes: &[Node], n_actions: usize) -> Result<Self> {
        let pa = nodes
            .iter()
            .find(|n| n.name == "precomputable_affine")
            .ok_or_else(|| err!("no precomputable_affine node"))?;
        let w = pa.param("W")?;
        ensure!(w.shape.len() == 4, "precomputable_affine W must be 4-D");
        let (nf, no, np, ni) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
        ensure!(nf == 3, "only nF = 3 (NER state features) is supported");
        ensure!((1..=8).contains(&np), "maxout pieces must be 1..=8");
        let b = pa.param("b")?;
        let pad = pa.param("pad")?;
        ensure!(
            b.data.len() == no * np && pad.data.len() == nf * no * np,
            "precomputable_affine sizes"
        );
        let zero_bias = crate::entities::spacy_sm::model::Array {
            shape: vec![nf * no * np],
            data: vec![0.0; nf * no * np],
        };
        let lower = Dense::from_arrays(
            &crate::entities::spacy_sm::model::Array {
                shape: vec![nf * no * np, ni],
                data: w.data.clone(),
            },
            &zero_bias,
        )?;
        let up = nodes
            .iter()
            .find(|n| n.name == "linear" && n.dim("nO") == Some(n_actions as u64))
            .ok_or_else(|| err!("no output layer with {n_actions} classes"))?;
        let upper = Dense::from_arrays(up.param("W")?, up.param("b")?)?;
        ensure!(upper.n_in == no, "output layer input width");
        Ok(ParserModel {
            lower,
            lower_bias: b.data.clone(),
            pad: pad.data.clone(),
            upper,
            n_feats: nf,
            n_hidden: no,
            n_pieces: np,
        })
    }

    /// Width of one precomputed row (all features).
    pub fn row_width(&self) -> usize {
        self.n_feats * self.n_hidden * self.n_pieces
    }

    /// Width of one feature slot of a precomputed row.
    pub fn slot_width(&self) -> usize {
        self.n_hidden * self.n_pieces
    }

    /// Scores of all actions given the three feature slots (each `slot_width` floats).
    pub fn scores(&self, feats: [&[f32]; 3], hidden: &mut Vec<f32>, scores: &mut Vec<f32>) {
        let sw = self.slot_width();
        hidden.clear();
        hidden.resize(self.n_hidden, 0.0);
        let mut unmaxed = [0f32; 8];
        for (o, h) in hidden.iter_mut().enumerate() {
            let mut best = f32::NEG_INFINITY;
            for (p, u) in unmaxed.iter_mut().enumerate().take(self.n_pieces) {
                let i = o * self.n_pieces + p;
                debug_assert!(i < sw);
                *u = feats[0][i] + feats[1][i] + feats[2][i] + self.lower_bias[i];
                if p == 0 || *u > best {
                    best = *u;
                }
            }
            *h = best;
        }
        scores.clear();
        scores.extend_from_slice(&self.upper.b);
        for (s, row) in scores
            .iter_mut()
            .zip(self.upper.w.chunks_exact(self.n_hidden))
        {
            let mut acc = 0.0f32;
            for (a, b) in row.iter().zip(hidden.iter()) {
                acc += a * b;
            }
            *s += acc;
        }
    }
}
