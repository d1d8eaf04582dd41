//! Topics by embedding similarity, over the IPTC Media Topics tree, with a calibration fitted on
//! labelled news (`models/topics/iptc-calibration.json`, written by `scripts/gen/fit_topics.py`).
//!
//! Scoring, in full (all of it deterministic):
//! 1. Every sentence and the title are embedded; the document vector `d` is their normalised
//!    mean.
//! 2. Every IPTC concept has two prototypes, its name in the zero-shot template and its
//!    definition; a topic outside the tree (a desk topic of `news.toml`, a `--label`, an entry of
//!    `--topics FILE`) has its label in the template, its description and the description's
//!    `;`-clauses. For a vector `v` and a topic: `cos` = cosine with its nearest prototype, and
//!    `z` = the same measured against a background of varied news sentences (per prototype:
//!    `(cos - median) / (1.4826 MAD)`), so a wordy prototype that is near everything does not
//!    win by being wordy.
//! 3. Scores roll up the tree: `cos_sub` and `z_sub` are the maxima over a concept's subtree, so
//!    an article about sailing reaches *sport* through *sailing*.
//! 4. One logit per topic, `w·(z, z_sub, cos, cos_sub)`, with the four weights fitted (shared by
//!    every topic, so topics without training data are calibrated too), plus, for a top-level
//!    topic, a fitted bias and a fitted linear head on `d` where labelled news covers the
//!    subject, and, for a topic with patterns, `PATTERN_LOGIT` when its patterns match.
//! 5. Each top-level topic has its own probability, `sigmoid(logit)` (one-vs-rest): an article
//!    can be about several subjects, and a subject fitted on labelled news cannot take
//!    probability away from one without data, as it would in a softmax. A top-level topic
//!    without a head takes the mean of that logit and the share layer's: the same features,
//!    refitted with a fifth, the log of the topic's share of the article's units (each unit's
//!    softmax over the top-level topics' zero-shot logits, averaged), so that a subject a few
//!    paragraphs cover is found though the document vector dilutes it. The article's main
//!    topic is the best of a third layer, the same model fitted in one stage (see
//!    `main_topic`), unless the best of the fitted probabilities is a topic without a head;
//!    every other top-level topic's score is kept a printed step under the main one's, so it
//!    stays first (BBC's desks, fitted, are what an article is mainly about). A topic outside the tree
//!    is scored against the top-level topics' zero-shot logits from their own prototypes (no
//!    heads, no subtree): `p = e^l / (e^l + Σ e^l_t)`, how much more the article is about it
//!    than about the subjects of the taxonomy, capped by its own one-vs-rest probability on the
//!    shared prior (`weights`, `bias`), so that it does not score high where every subject is
//!    weak and it merely beats them.
//! 6. Reported: the best top-level topic always, every other one when `p >= REPORT` (more likely
//!    than not); under each reported top-level topic, the most specific concept that carries
//!    it, found by descending while one child holds `DESCEND_SHARE` of its siblings' softmax (no
//!    deeper than `depth`), scored `p` times those shares and reported from `FLOOR`. Desk topics
//!    beside the tree from `SECONDARY`; a user's own set (labels, a topic file): its best topic
//!    always, the others from `SECONDARY`. An explicit threshold replaces all of these bars, and
//!    then nothing is reported below it. Evidence: the sentences ranked by the same probability
//!    computed on each sentence alone, from the same bar.

use std::path::Path;
use std::sync::Arc;

use crate::error::{Context, Result, err};
use serde::Deserialize;

use super::encoder::{SentenceEncoder, dot, normalize};
use super::iptc::Taxonomy;
use super::{LABEL_TEMPLATE, Topic, TopicCatalog, TopicClassifier, TopicSet, round4, sort_topics};
use crate::document::{Document, Evidence, TopicScore};
use crate::runtime::softmax;

/// Background sentences for the per-prototype baselines, shipped with the topic sets.
const BACKGROUND: &str = include_str!("../../models/topics/background.txt");
/// The fitted calibration (see the module comment and `scripts/gen/fit_topics.py`).
pub const CALIBRATION: &str = include_str!("../../models/topics/iptc-calibration.json");

/// A concept found below a reported top-level topic is reported when its score (the topic's
/// probability times the descent's shares) reaches this. Set a priori, not tuned on the
/// evaluation.
pub const FLOOR: f32 = 0.12;
/// Top-level topics other than the best are reported from this calibrated probability up: more
/// likely than not. Set a priori, not tuned on the evaluation.
pub const REPORT: f32 = 0.5;
/// Topics outside the tree (desk topics, a user's labels) are reported from this score up: a
/// topic must hold a third of the article against the taxonomy's subjects. Set a priori, not
/// tuned on the evaluation.
pub const SECONDARY: f32 = 0.33;
/// A child concept carries its parent when it holds at least this share of its siblings.
pub const DESCEND_SHARE: f32 = 0.5;
/// Logit added when a topic's patterns match (on the document: scaled by the share of matching
/// units, full from `PATTERN_UNITS` up). Desk topics have no labelled data to fit it on; a
/// pattern is a high-precision name, so it counts for e² ≈ 7x the odds.
const PATTERN_LOGIT: f32 = 2.0;
const PATTERN_UNITS: f32 = 2.0;
/// Floor for the background spread, so a prototype unlike every background sentence does not
/// get an exploding z-score.
const MIN_SD: f32 = 0.05;
/// Evidence sentences listed per topic, at most.
const MAX_EVIDENCE: usize = 5;
/// Concepts reported below a top-level topic go no deeper than this unless asked.
pub const DEFAULT_DEPTH: usize = 6;

/// What `scripts/gen/fit_topics.py` writes.
#[derive(Debug, Clone, Deserialize)]
pub struct Calibration {
    pub fitted: String,
    /// The top-level topics' one-vs-rest logits.
    pub weights: Weights,
    /// Common to every top-level topic's logit.
    pub bias: f32,
    /// The softmax competition among topics without heads: which child concept carries its
    /// parent, and topics outside the tree against the top-level subjects.
    pub zero_shot: Weights,
    /// Scores the top-level topics without a head, with the weights above.
    pub share: ShareLayer,
    /// Picks the main topic (see `main_topic`): any top-level topic, unless the fitted layer's
    /// best is one without a head.
    pub main: MainLayer,
    pub heads: Vec<Head>,
}

/// The one-vs-rest layer fitted in one stage, its shared weights jointly with its heads: it
/// separates the subjects with labelled data better than the two stages above, whose shared
/// weights are also all a subject without data has. It only picks the main topic; it scores
/// nothing.
#[derive(Debug, Clone, Deserialize)]
pub struct MainLayer {
    pub weights: Weights,
    pub bias: f32,
    pub heads: Vec<Head>,
}

/// The one-vs-rest logit of a top-level topic without a head: the four features, plus the
/// topic's share of the article's units (the mean of each unit's zero-shot softmax over the
/// top-level topics), `share * ln(s + epsilon)`, plus the bias.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ShareLayer {
    pub weights: Weights,
    pub share: f32,
    pub epsilon: f32,
    pub bias: f32,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Weights {
    pub z_own: f32,
    pub z_sub: f32,
    pub cos_own: f32,
    pub cos_sub: f32,
}

impl Weights {
    fn logit(&self, z: f32, z_sub: f32, cos: f32, cos_sub: f32) -> f32 {
        self.z_own * z + self.z_sub * z_sub + self.cos_own * cos + self.cos_sub * cos_sub
    }
}

/// A linear head on the document vector for one top-level topic.
#[derive(Debug, Clone, Deserialize)]
pub struct Head {
    pub code: String,
    pub bias: f32,
    pub weights: Vec<f32>,
}

impl Calibration {
    pub fn shipped() -> Self {
        serde_json::from_str(CALIBRATION).expect("the shipped calibration is valid")
    }

    /// The zero-shot prior of a topic with these features: the one-vs-rest logit without a
    /// head, all that a subject without labelled data (or a topic outside the tree) has.
    fn prior(&self, z: f32, z_sub: f32, cos: f32, cos_sub: f32) -> f32 {
        self.weights.logit(z, z_sub, cos, cos_sub) + self.bias
    }
}

/// Prototype embeddings with their background baselines, grouped by owner (topic).
struct Prototypes {
    /// Row-major `[n, dim]`, unit rows.
    vecs: Vec<f32>,
    mu: Vec<f32>,
    sd: Vec<f32>,
    /// `owner[p]` = the topic prototype `p` belongs to.
    owner: Vec<usize>,
    owners: usize,
}

impl Prototypes {
    fn new(
        encoder: &SentenceEncoder,
        texts: &[Vec<String>],
        background: &[Vec<f32>],
    ) -> Result<Self> {
        let flat: Vec<&str> = texts.iter().flatten().map(String::as_str).collect();
        let rows = encoder.embed_fixed(&flat)?;
        let owner: Vec<usize> = texts
            .iter()
            .enumerate()
            .flat_map(|(t, p)| std::iter::repeat_n(t, p.len()))
            .collect();
        let (mut mu, mut sd) = (Vec::new(), Vec::new());
        for p in &rows {
            // Median and MAD, not mean and deviation: the background covers every subject, so
            // a few of its sentences are on any given topic and must not set its baseline.
            let sims: Vec<f32> = background.iter().map(|b| dot(b, p)).collect();
            let mid = median(sims.clone());
            let mad = median(sims.iter().map(|s| (s - mid).abs()).collect());
            mu.push(mid);
            sd.push((1.4826_f32 * mad).max(MIN_SD));
        }
        Ok(Prototypes {
            vecs: rows.concat(),
            mu,
            sd,
            owner,
            owners: texts.len(),
        })
    }

    /// Per owner, for each of `n` unit vectors (row-major in `units`): the best z and the best
    /// cosine over its prototypes, as `[n, owners]` each.
    fn features(&self, units: &[f32], n: usize, dim: usize) -> (Vec<f32>, Vec<f32>) {
        let m = self.owner.len();
        let sims = matmul_nt(units, n, &self.vecs, m, dim);
        let mut z = vec![f32::NEG_INFINITY; n * self.owners];
        let mut cos = vec![f32::NEG_INFINITY; n * self.owners];
        for i in 0..n {
            let row = &sims[i * m..(i + 1) * m];
            for (p, &s) in row.iter().enumerate() {
                let o = i * self.owners + self.owner[p];
                z[o] = z[o].max((s - self.mu[p]) / self.sd[p]);
                cos[o] = cos[o].max(s);
            }
        }
        (z, cos)
    }
}

/// The IPTC tree with its prototypes and the fitted heads of its top-level topics.
struct Tree {
    taxonomy: Taxonomy,
    prototypes: Prototypes,
    /// Concept indices, children before parents.
    bottom_up: Vec<usize>,
    tops: Vec<usize>,
    /// Per top-level topic (index into `tops`), its fitted head.
    heads: Vec<Option<Head>>,
    /// The same for the main layer.
    main_heads: Vec<Option<Head>>,
}

/// A topic outside the tree: desk topics, labels, a user's topic file.
struct Outside {
    topics: Vec<Topic>,
    prototypes: Prototypes,
}

pub struct EmbeddingClassifier {
    encoder: Arc<SentenceEncoder>,
    model_name: String,
    tree: Tree,
    outside: Outside,
    set_name: String,
    /// Report the tree's topics (the default) or only the topics outside it (a user's set).
    report_tree: bool,
    calibration: Calibration,
    /// What the user asked for: a threshold replaces every default bar; depth defaults to
    /// [`DEFAULT_DEPTH`] (kept as asked, for the catalog).
    reporting: Reporting,
    /// Read at most this many sentences of an article, spread over it (`None`: every one).
    sentence_budget: Option<usize>,
}

/// Scores of one vector (the document or one sentence) against every topic.
struct Scored {
    /// Probability of each top-level topic (index into `tops`): the fitted one-vs-rest layer
    /// where the topic has a head, the share layer where it has none.
    tops: Vec<f32>,
    /// Shared logits (no heads) of every concept, from its own and its subtree's features.
    concept_logits: Vec<f32>,
    /// Probability of each outside topic against the tree's zero-shot logits.
    outside: Vec<f32>,
}

impl EmbeddingClassifier {
    /// Embeds the prototypes and the background once (cached by the encoder when it has a
    /// cache). `topics` with `taxonomy` set are reported beside the tree; any other set is
    /// reported alone, scored against the tree.
    pub fn new(
        encoder: Arc<SentenceEncoder>,
        model_name: &str,
        taxonomy: Taxonomy,
        topics: TopicSet,
        reporting: Reporting,
    ) -> Result<Self> {
        let calibration = Calibration::shipped();
        let background: Vec<&str> = BACKGROUND
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let bg = encoder.embed_fixed(&background)?;
        let concept_texts: Vec<Vec<String>> = taxonomy
            .concepts
            .iter()
            .map(|c| {
                vec![
                    LABEL_TEMPLATE.replace("{label}", &c.name),
                    if c.definition.is_empty() {
                        c.name.clone()
                    } else {
                        c.definition.clone()
                    },
                ]
            })
            .collect();
        let prototypes = Prototypes::new(&encoder, &concept_texts, &bg)?;
        let mut bottom_up: Vec<usize> = (0..taxonomy.concepts.len()).collect();
        bottom_up.sort_by_key(|&i| std::cmp::Reverse(taxonomy.concepts[i].level));
        let tops: Vec<usize> = taxonomy.top_level().collect();
        let heads = place_heads(&calibration.heads, &taxonomy, &tops, encoder.dim())?;
        let main_heads = place_heads(&calibration.main.heads, &taxonomy, &tops, encoder.dim())?;
        let report_tree = topics.taxonomy;
        // Beside the tree, a desk set's own copies of the top-level subjects would only echo
        // them.
        let outside_topics: Vec<Topic> = topics
            .topics
            .iter()
            .filter(|t| {
                let is_top = t
                    .code
                    .as_deref()
                    .and_then(|c| taxonomy.by_code(c))
                    .is_some_and(|i| taxonomy.concepts[i].level == 1);
                !(report_tree && is_top)
            })
            .cloned()
            .collect();
        let outside_texts: Vec<Vec<String>> =
            outside_topics.iter().map(Topic::prototypes).collect();
        let outside = Outside {
            prototypes: Prototypes::new(&encoder, &outside_texts, &bg)?,
            topics: outside_topics,
        };
        Ok(EmbeddingClassifier {
            encoder,
            model_name: model_name.to_string(),
            tree: Tree {
                taxonomy,
                prototypes,
                bottom_up,
                tops,
                heads,
                main_heads,
            },
            outside,
            set_name: topics.name,
            report_tree,
            calibration,
            reporting,
            sentence_budget: None,
        })
    }

    /// Reads the title and at most `budget` sentences of each article, spread evenly from the
    /// first to the last (`None` or 0: every sentence). The encoder's work is nearly all of the
    /// topic layer's; sentences left out are neither in the document vector nor evidence.
    /// Spread, not the first ones: on the fit split, the first sentences lost a subject
    /// covered further down more often (scripts/eval/sentence_budget.py, docs/topics.md).
    pub fn with_sentence_budget(mut self, budget: Option<usize>) -> Self {
        self.sentence_budget = budget.filter(|&k| k > 0);
        self
    }

    /// The indices of `doc`'s sentences that are read, in order.
    fn read(&self, doc: &Document) -> Vec<usize> {
        spread(doc.sentences.len(), self.sentence_budget)
    }

    /// Scores `n` vectors (row-major) against every topic: the document vector first, then its
    /// units (the sentences read and the title). `pattern_share[i][o]` is the pattern evidence
    /// of outside topic `o` for vector `i`, in [0, 1]. Returns the document's main topic
    /// (`main_topic`; the main layer is run on the document only, a unit's scores are only
    /// evidence) and every vector's scores.
    fn score(&self, units: &[f32], n: usize, pattern_share: &[Vec<f32>]) -> (usize, Vec<Scored>) {
        let dim = self.encoder.dim();
        let c = self.tree.taxonomy.concepts.len();
        let (z, cos) = self.tree.prototypes.features(units, n, dim);
        let (oz, ocos) = self.outside.prototypes.features(units, n, dim);
        let no = self.outside.topics.len();
        let zero_shot = &self.calibration.zero_shot;
        // Per vector: the top-level topics' features (z, z_sub, cos, cos_sub) and every
        // concept's shared logit.
        let rows: Vec<(Vec<[f32; 4]>, Vec<f32>)> = (0..n)
            .map(|i| {
                let z = &z[i * c..(i + 1) * c];
                let cos = &cos[i * c..(i + 1) * c];
                let (mut z_sub, mut cos_sub) = (z.to_vec(), cos.to_vec());
                for &k in &self.tree.bottom_up {
                    if let Some(p) = self.tree.taxonomy.concepts[k].parent {
                        z_sub[p] = z_sub[p].max(z_sub[k]);
                        cos_sub[p] = cos_sub[p].max(cos_sub[k]);
                    }
                }
                let concept_logits = (0..c)
                    .map(|k| zero_shot.logit(z[k], z_sub[k], cos[k], cos_sub[k]))
                    .collect();
                let features = self
                    .tree
                    .tops
                    .iter()
                    .map(|&t| [z[t], z_sub[t], cos[t], cos_sub[t]])
                    .collect();
                (features, concept_logits)
            })
            .collect();
        let shares = self.shares(&rows);
        let cal = &self.calibration;
        let vector = |i: usize| &units[i * dim..(i + 1) * dim];
        let fitted: Vec<Vec<f32>> = rows
            .iter()
            .enumerate()
            .map(|(i, (features, _))| {
                let v = vector(i);
                features
                    .iter()
                    .zip(&self.tree.heads)
                    .map(|(&[z, z_sub, cos, cos_sub], h)| {
                        let head = h.as_ref().map_or(0.0, |h| h.bias + dot(&h.weights, v));
                        sigmoid(cal.prior(z, z_sub, cos, cos_sub) + head)
                    })
                    .collect()
            })
            .collect();
        let main = main_topic(&fitted[0], &self.tree.heads, || {
            rows[0]
                .0
                .iter()
                .zip(&self.tree.main_heads)
                .map(|(&[z, z_sub, cos, cos_sub], h)| {
                    let head = h
                        .as_ref()
                        .map_or(0.0, |h| h.bias + dot(&h.weights, vector(0)));
                    cal.main.weights.logit(z, z_sub, cos, cos_sub) + cal.main.bias + head
                })
                .collect()
        });
        let scored = rows
            .into_iter()
            .zip(shares)
            .zip(fitted)
            .enumerate()
            .map(|(i, (((features, concept_logits), share), fitted))| {
                let z = &z[i * c..(i + 1) * c];
                let cos = &cos[i * c..(i + 1) * c];
                // Without a head, the mean of the two layers' logits: the share layer finds a
                // subject that a few paragraphs cover, the fitted prior keeps it from being
                // reported on a few sentences' say alone.
                let layer = &cal.share;
                let tops = fitted
                    .iter()
                    .zip(&self.tree.heads)
                    .zip(features.iter().zip(&share))
                    .map(|((&p, h), (&[z, z_sub, cos, cos_sub], &s))| match h {
                        Some(_) => p,
                        None => {
                            let prior = cal.prior(z, z_sub, cos, cos_sub);
                            let with_share = layer.weights.logit(z, z_sub, cos, cos_sub)
                                + layer.share * (s + layer.epsilon).ln()
                                + layer.bias;
                            sigmoid((prior + with_share) / 2.0)
                        }
                    })
                    .collect();
                // Outside topics are measured against the top-level topics' own prototypes,
                // not their subtrees: a maximum over a hundred concepts is higher than one
                // topic's few prototypes can be, and would bury every label.
                let own: Vec<f32> = self
                    .tree
                    .tops
                    .iter()
                    .map(|&t| zero_shot.logit(z[t], z[t], cos[t], cos[t]))
                    .collect();
                let reference = log_sum_exp(&own);
                let outside = (0..no)
                    .map(|o| {
                        let (zo, co) = (oz[i * no + o], ocos[i * no + o]);
                        let pattern = PATTERN_LOGIT * pattern_share[i][o];
                        let against_tree =
                            sigmoid(zero_shot.logit(zo, zo, co, co) + pattern - reference);
                        // A topic outside the tree must also hold on its own: against the
                        // top-level subjects alone it wins whenever they are all weak, as on an
                        // article only a deep concept explains (a stew recipe got the desk
                        // topic *Arctic* 0.44). Its own one-vs-rest probability, from the prior
                        // every subject without data has, is the bar it must clear as well.
                        let alone = sigmoid(cal.prior(zo, zo, co, co) + pattern);
                        against_tree.min(alone)
                    })
                    .collect();
                Scored {
                    tops,
                    concept_logits,
                    outside,
                }
            })
            .collect();
        (main, scored)
    }

    /// Each vector's share of every top-level topic, for the share layer: a unit's is its own
    /// softmax over the topics' zero-shot logits; the document's (row 0) the mean of its
    /// units', so a subject that a few paragraphs cover counts though the document vector
    /// dilutes it.
    fn shares(&self, rows: &[(Vec<[f32; 4]>, Vec<f32>)]) -> Vec<Vec<f32>> {
        let mut own: Vec<Vec<f32>> = rows
            .iter()
            .map(|(_, logits)| softmax(self.tree.tops.iter().map(|&t| logits[t])))
            .collect();
        if let [document, units @ ..] = own.as_mut_slice()
            && !units.is_empty()
        {
            for (t, d) in document.iter_mut().enumerate() {
                *d = units.iter().map(|u| u[t]).sum::<f32>() / units.len() as f32;
            }
        }
        own
    }

    /// The reported topics of one document, from its unit vectors: the sentences `read`
    /// ([`Self::read`]), then the title.
    fn score_document(&self, doc: &Document, read: &[usize], vecs: &[Vec<f32>]) -> Vec<TopicScore> {
        if vecs.is_empty() {
            return Vec::new();
        }
        let units = document_and_units(vecs, self.encoder.dim());
        let shares = self.pattern_shares(doc, read, vecs.len());
        let (main, scored) = self.score(&units, vecs.len() + 1, &shares);
        let (doc_scores, unit_scores) = scored.split_first().expect("the document vector");
        // Only sentences are evidence (the title has no sentence index).
        let sentences = &unit_scores[..read.len()];
        let mut out = Vec::new();
        if self.report_tree {
            self.tree_topics(doc_scores, main, sentences, &mut out);
        }
        self.outside_topics(doc_scores, sentences, &mut out);
        // Evidence was numbered among the sentences read; the record numbers all of them.
        // `read` ascends, so the order of equal scores by index is kept.
        if read.len() < doc.sentences.len() {
            for e in out.iter_mut().flat_map(|t| t.evidence.iter_mut()) {
                e.sentence = read[e.sentence];
            }
        }
        sort_topics(&mut out);
        out
    }

    /// The pattern evidence of each outside topic: for the document (the share of its
    /// `n_units` units that match, full at `PATTERN_UNITS`), then for each unit (0 or 1).
    /// Units are the sentences `read`, then the title.
    fn pattern_shares(&self, doc: &Document, read: &[usize], n_units: usize) -> Vec<Vec<f32>> {
        let unit_text = |u: usize| match read.get(u) {
            Some(&i) => doc.sentence_text(i),
            None => title_of(doc).unwrap_or(""),
        };
        let matches: Vec<Vec<bool>> = (0..n_units)
            .map(|u| {
                self.outside
                    .topics
                    .iter()
                    .map(|t| t.patterns.iter().any(|p| p.is_match(unit_text(u))))
                    .collect()
            })
            .collect();
        let mut shares = vec![
            (0..self.outside.topics.len())
                .map(|o| {
                    let hits = matches.iter().filter(|m| m[o]).count() as f32;
                    (hits / PATTERN_UNITS).min(1.0)
                })
                .collect::<Vec<f32>>(),
        ];
        shares.extend(
            matches
                .iter()
                .map(|m| m.iter().map(|&b| f32::from(u8::from(b))).collect()),
        );
        shares
    }

    /// The tree's reported topics, each with the most specific concept under it that is
    /// clear enough; `main`, the document's main topic (`main_topic`), kept first.
    fn tree_topics(
        &self,
        doc_scores: &Scored,
        main: usize,
        sentences: &[Scored],
        out: &mut Vec<TopicScore>,
    ) {
        // Without a threshold of the user's, the best topic of the tree, or of a user's own
        // set, is always reported: its score says how sure.
        let best_always = self.reporting.threshold.is_none();
        let tree_bar = self.reporting.threshold.unwrap_or(REPORT);
        let floor = FLOOR.min(tree_bar);
        let tops = under_main(&doc_scores.tops, main);
        for t in reported(&tops, |_| tree_bar, best_always) {
            let p = tops[t];
            let top = self.tree.tops[t];
            let ev = evidence(sentences, |s| s.tops[t], tree_bar);
            if let Some((concept, share)) = self
                .descend(top, &doc_scores.concept_logits)
                .filter(|&(_, share)| p * share >= floor)
            {
                out.push(self.concept_score(concept, p * share, ev.clone()));
            }
            out.push(self.concept_score(top, p, ev));
        }
    }

    /// Desk topics ride beside the tree and need their threshold; a user's own set is the
    /// whole answer, so its best topic is always reported, as the tree's is.
    fn outside_topics(&self, doc_scores: &Scored, sentences: &[Scored], out: &mut Vec<TopicScore>) {
        let best_always = self.reporting.threshold.is_none();
        let outside_bar = self.reporting.threshold.unwrap_or(SECONDARY);
        let thresholds = |o: usize| self.outside.topics[o].threshold.unwrap_or(outside_bar);
        for o in reported(
            &doc_scores.outside,
            thresholds,
            best_always && !self.report_tree,
        ) {
            let topic = &self.outside.topics[o];
            out.push(TopicScore {
                label: topic.label.clone(),
                code: topic.code.clone(),
                path: vec![topic.label.clone()],
                score: round4(doc_scores.outside[o]),
                evidence: evidence(sentences, |s| s.outside[o], thresholds(o)),
            });
        }
    }

    /// The most specific concept under `top` that carries it: descend while one child holds
    /// `DESCEND_SHARE` of the softmax over its siblings. Returns it and the product of the
    /// shares, or `None` when no child is clear.
    fn descend(&self, top: usize, logits: &[f32]) -> Option<(usize, f32)> {
        let concepts = &self.tree.taxonomy.concepts;
        let (mut at, mut share) = (top, 1.0f32);
        while (concepts[at].level as usize) < self.depth() && !concepts[at].children.is_empty() {
            let children = &concepts[at].children;
            let p = softmax(children.iter().map(|&c| logits[c]));
            let (best, q) = p
                .iter()
                .copied()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
            if q < DESCEND_SHARE {
                break;
            }
            at = children[best];
            share *= q;
        }
        (at != top).then_some((at, share))
    }

    fn concept_score(&self, concept: usize, p: f32, evidence: Vec<Evidence>) -> TopicScore {
        let t = &self.tree.taxonomy;
        TopicScore {
            label: t.concepts[concept].name.clone(),
            code: Some(t.concepts[concept].code.clone()),
            path: t
                .path(concept)
                .into_iter()
                .map(|i| t.concepts[i].name.clone())
                .collect(),
            score: round4(p),
            evidence,
        }
    }
}

/// `budget` of `n` sentence indices spread evenly from the first to the last, ascending (all
/// of them without a budget or when it covers them): index `j (n-1) / (k-1)` rounded half up,
/// in integers so that scripts/eval/sentence_budget.py picks the same ones.
fn spread(n: usize, budget: Option<usize>) -> Vec<usize> {
    match budget {
        Some(k) if k < n => {
            if k <= 1 {
                return vec![0; k];
            }
            (0..k)
                .map(|j| (2 * j * (n - 1) + (k - 1)) / (2 * (k - 1)))
                .collect()
        }
        _ => (0..n).collect(),
    }
}

/// The document's vector (the normalised mean of its units'), then the units', row-major.
fn document_and_units(vecs: &[Vec<f32>], dim: usize) -> Vec<f32> {
    let mut mean = vec![0f32; dim];
    for v in vecs {
        mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
    }
    normalize(&mut mean);
    let mut units = mean;
    for v in vecs {
        units.extend_from_slice(v);
    }
    units
}

/// The sentences whose score (`of`) reaches `bar`, best first, as a topic's evidence.
fn evidence(sentences: &[Scored], of: impl Fn(&Scored) -> f32, bar: f32) -> Vec<Evidence> {
    let mut e: Vec<(usize, f32)> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| (i, of(s)))
        .filter(|&(_, p)| p >= bar)
        .collect();
    e.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    e.into_iter()
        .take(MAX_EVIDENCE)
        .map(|(sentence, p)| Evidence {
            sentence,
            score: round4(p),
        })
        .collect()
}

/// The title, when the article has one worth embedding (it is then the last unit).
fn title_of(doc: &Document) -> Option<&str> {
    doc.article
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
}

/// Which of `ps` are reported: those reaching their threshold, and the best one whatever its
/// score when `best_always`. In index order.
fn reported(ps: &[f32], threshold: impl Fn(usize) -> f32, best_always: bool) -> Vec<usize> {
    let best = ps
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i);
    (0..ps.len())
        .filter(|&i| ps[i] >= threshold(i) || (best_always && Some(i) == best))
        .collect()
}

/// `out[i, j] = a[i, :] · b[j, :]` for row-major `a` `[n, dim]` and `b` `[m, dim]`.
fn matmul_nt(a: &[f32], n: usize, b: &[f32], m: usize, dim: usize) -> Vec<f32> {
    let mut out = vec![0f32; n * m];
    if n == 0 || m == 0 {
        return out;
    }
    assert!(a.len() >= n * dim && b.len() >= m * dim);
    // SAFETY: `a` holds n*dim floats, `b` m*dim, `out` n*m, for the strides given.
    unsafe {
        matrixmultiply::sgemm(
            n,
            dim,
            m,
            1.0,
            a.as_ptr(),
            dim as isize,
            1,
            b.as_ptr(),
            1,
            dim as isize,
            0.0,
            out.as_mut_ptr(),
            m as isize,
            1,
        );
    }
    out
}

fn median(mut xs: Vec<f32>) -> f32 {
    xs.sort_by(f32::total_cmp);
    let n = xs.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// The index of the largest value, the first of equals (as numpy's argmax); 0 when empty.
fn argmax(xs: &[f32]) -> usize {
    xs.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 { (i, x) } else { best }
        })
        .0
}

/// Each top-level topic's head from the calibration's list, by the topic's place in `tops`.
fn place_heads(
    listed: &[Head],
    taxonomy: &Taxonomy,
    tops: &[usize],
    dim: usize,
) -> Result<Vec<Option<Head>>> {
    let mut heads = vec![None; tops.len()];
    for head in listed {
        let i = taxonomy
            .by_code(&head.code)
            .and_then(|c| tops.iter().position(|&t| t == c))
            .ok_or_else(|| err!("calibration: {} is not a top-level topic", head.code))?;
        if head.weights.len() != dim {
            return Err(err!(
                "calibration: head {} has {} weights for {}-dimensional embeddings",
                head.code,
                head.weights.len(),
                dim
            ));
        }
        heads[i] = Some(head.clone());
    }
    Ok(heads)
}

/// The main topic, from the fitted probabilities and the main layer's logits (computed only
/// when needed): the fitted layer's best where that topic has no head, else the main layer's
/// best. The main layer's prior slights the topics without data (fitted beside heads that take
/// what they can), so it is not let take first place from one (leave-one-subject-out in the
/// fit split's cross-validation: first place for a subject without data 29% kept, against 22%
/// if the main layer always picked; BBC desk first 91.0% against 90.1% with the fitted layer's
/// best alone; docs/topics.md).
fn main_topic(
    fitted: &[f32],
    heads: &[Option<Head>],
    main_logits: impl FnOnce() -> Vec<f32>,
) -> usize {
    let best = argmax(fitted);
    if heads[best].is_none() {
        best
    } else {
        argmax(&main_logits())
    }
}

/// The document's top-level scores as reported: every topic but the main one is kept a
/// printed step (1e-4) under the main one's score, so that the main topic (`main_topic`)
/// stays first; what the share layer adds ranks after it.
fn under_main(tops: &[f32], main: usize) -> Vec<f32> {
    let cap = (round4(tops[main]) - 1e-4).max(0.0);
    tops.iter()
        .enumerate()
        .map(|(t, &p)| if t == main { p } else { p.min(cap) })
        .collect()
}

fn log_sum_exp(xs: &[f32]) -> f32 {
    let m = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !m.is_finite() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f32>().ln()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl TopicClassifier for EmbeddingClassifier {
    fn catalog(&self) -> TopicCatalog {
        TopicCatalog::new(
            &self.set_name,
            self.report_tree.then_some(&self.tree.taxonomy),
            &self.outside.topics,
            self.reporting.threshold,
            self.reporting.depth,
        )
    }

    fn model_id(&self) -> String {
        let set = if self.report_tree {
            format!(
                "IPTC Media Topics {} + {}",
                self.tree.taxonomy.updated, self.set_name
            )
        } else {
            self.set_name.clone()
        };
        format!(
            "{} (embedding similarity, calibration fitted {}, topics: {set})",
            self.model_name, self.calibration.fitted
        )
    }

    fn classify(
        &self,
        docs: &[&Document],
    ) -> std::result::Result<Vec<Vec<TopicScore>>, crate::Error> {
        self.classify_docs(docs)
    }
}

impl EmbeddingClassifier {
    /// How deep under a top-level topic concepts are reported.
    fn depth(&self) -> usize {
        self.reporting.depth.unwrap_or(DEFAULT_DEPTH).max(1)
    }

    fn classify_docs(&self, docs: &[&Document]) -> Result<Vec<Vec<TopicScore>>> {
        // One embedding call for every sentence of every document: the encoder sorts them by
        // length and batches across articles, so short articles do not waste padded passes.
        let reads: Vec<Vec<usize>> = docs.iter().map(|doc| self.read(doc)).collect();
        let mut texts: Vec<&str> = Vec::new();
        for (doc, read) in docs.iter().zip(&reads) {
            texts.extend(read.iter().map(|&i| doc.sentence_text(i)));
            texts.extend(title_of(doc));
        }
        let vecs = self.encoder.embed(&texts)?;
        let mut at = 0;
        let mut out = Vec::with_capacity(docs.len());
        for (doc, read) in docs.iter().zip(&reads) {
            let n = read.len() + usize::from(title_of(doc).is_some());
            out.push(self.score_document(doc, read, &vecs[at..at + n]));
            at += n;
        }
        Ok(out)
    }
}

/// What is reported: `threshold` for topics other than the best (default [`SECONDARY`]),
/// `depth` for IPTC concepts (default [`DEFAULT_DEPTH`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reporting {
    pub threshold: Option<f32>,
    pub depth: Option<usize>,
}

/// The classifier for the shipped embedding model on `encoder` (which caches the embeddings of
/// the prototypes and the background when given a cache) and the IPTC sheet.
pub fn load_default(
    encoder: SentenceEncoder,
    model_name: &str,
    taxonomy_xlsx: &Path,
    topics: TopicSet,
    reporting: Reporting,
) -> Result<EmbeddingClassifier> {
    let taxonomy = Taxonomy::load(taxonomy_xlsx)
        .with_context(|| format!("loading the topic taxonomy {}", taxonomy_xlsx.display()))?;
    EmbeddingClassifier::new(Arc::new(encoder), model_name, taxonomy, topics, reporting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_calibration_parses_and_names_its_data() {
        let c = Calibration::shipped();
        assert!(!c.fitted.is_empty());
        assert!(!c.heads.is_empty());
        assert!(c.heads.iter().all(|h| h.code.starts_with("medtop:")));
        let raw: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
        assert!(raw["data"]["split"].as_str().is_some_and(|s| !s.is_empty()));
        let files = raw["data"]["files"].as_object().unwrap();
        assert!(!files.is_empty());
        assert!(
            files
                .values()
                .all(|h| h.as_str().is_some_and(|s| s.len() == 64))
        );
    }

    #[test]
    fn the_shipped_share_layer_rewards_a_larger_share() {
        // The share layer is what scores the subjects without a head: fitted, it must read a
        // larger share of the sentences as more evidence for the subject, not less.
        let layer = Calibration::shipped().share;
        assert!(layer.share > 0.0 && layer.epsilon > 0.0, "{layer:?}");
    }

    #[test]
    fn the_main_topic_stays_first_under_the_share_layer() {
        let tops = [0.42, 0.9, 0.41, 0.4201, 0.1];
        let capped = under_main(&tops, 0);
        assert_eq!(capped[0], 0.42);
        // Above the main topic's printed score, or level with it: a printed step under it.
        assert!((capped[1] - 0.4199).abs() < 1e-6 && (capped[3] - 0.4199).abs() < 1e-6);
        // Under it: as they were.
        assert_eq!((capped[2], capped[4]), (0.41, 0.1));
        assert_eq!(argmax(&[0.2, 0.7, 0.7, 0.1]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn the_main_layer_picks_among_topics_unless_one_without_a_head_leads() {
        let head = Head {
            code: "medtop:04000000".into(),
            bias: 0.0,
            weights: vec![],
        };
        let heads = [Some(head.clone()), None, Some(head)];
        // The fitted layer's best has a head: the main layer's best, whichever it is.
        assert_eq!(
            main_topic(&[0.9, 0.2, 0.6], &heads, || vec![-1.0, 0.5, 2.0]),
            2
        );
        assert_eq!(
            main_topic(&[0.9, 0.2, 0.6], &heads, || vec![-1.0, 3.0, 2.0]),
            1
        );
        // It has none: it stays first, and the main layer is not asked.
        assert_eq!(
            main_topic(&[0.3, 0.8, 0.6], &heads, || unreachable!("not needed")),
            1
        );
    }

    #[test]
    fn the_shipped_main_layer_has_a_head_for_every_fitted_topic() {
        let c = Calibration::shipped();
        let codes = |hs: &[Head]| hs.iter().map(|h| h.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&c.main.heads), codes(&c.heads));
        assert!(c.main.heads.iter().all(|h| h.weights.len() == 384));
    }

    #[test]
    fn a_budget_spreads_its_sentences_from_the_first_to_the_last() {
        assert_eq!(spread(5, None), vec![0, 1, 2, 3, 4]);
        assert_eq!(spread(5, Some(5)), vec![0, 1, 2, 3, 4]);
        assert_eq!(spread(5, Some(9)), vec![0, 1, 2, 3, 4]);
        assert_eq!(spread(20, Some(1)), vec![0]);
        assert_eq!(spread(20, Some(2)), vec![0, 19]);
        // 19 / 3 = 6.33: 0, 6.33, 12.67, 19 rounded.
        assert_eq!(spread(20, Some(4)), vec![0, 6, 13, 19]);
        for n in 2..60 {
            for k in 2..n {
                let s = spread(n, Some(k));
                assert_eq!(s.len(), k);
                assert!(s.windows(2).all(|w| w[0] < w[1]), "{n} {k}: {s:?}");
                assert_eq!((s[0], s[k - 1]), (0, n - 1));
            }
        }
    }

    #[test]
    fn the_best_is_always_reported_the_rest_from_the_threshold() {
        let ps = [0.2, 0.15, 0.4, 0.05];
        assert_eq!(reported(&ps, |_| 0.3, true), vec![2]);
        assert_eq!(reported(&ps, |_| 0.1, true), vec![0, 1, 2]);
        assert_eq!(reported(&[0.01, 0.05], |_| 0.3, true), vec![1]);
        assert_eq!(reported(&[0.2, 0.05], |_| 0.3, false), Vec::<usize>::new());
        assert_eq!(reported(&[0.2, 0.05], |i| [0.1, 0.9][i], false), vec![0]);
    }

    #[test]
    fn softmax_and_matmul() {
        let p = softmax([0.0, (3f32).ln()].into_iter());
        assert!((p[0] - 0.25).abs() < 1e-6 && (p[1] - 0.75).abs() < 1e-6);
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        assert_eq!(
            matmul_nt(&a, 2, &b, 3, 2),
            vec![1.0, 2.0, 3.0, 3.0, 4.0, 7.0]
        );
    }
}
