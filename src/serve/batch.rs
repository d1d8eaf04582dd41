//! The batcher: one thread owns the pipeline work and shares model passes across requests.
//!
//! A request hands its articles over as one [`Job`]. The queue is bounded in articles, not
//! requests, because articles are what cost model time. The batcher takes the first waiting
//! job and every job already queued behind it; under load it also waits up to `wait` for
//! more, until it holds `batch_size` articles. It runs them through the pipeline together (on
//! the pipeline's own thread pool), renders every outcome and answers each job with its own
//! records, in order.
//!
//! "Under load" means jobs were waiting when the previous pass ended, or arrived with this
//! one: then company is likely within milliseconds, and waiting for it fills the passes as the
//! CLI's are. A request that comes to an idle server is run at once, so a lone editor never
//! pays the wait; requests that arrive while it runs queue up and share the next pass anyway.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::oneshot;

use crate::article::{DocErrorKind, Input};
use crate::emit::{Shape, render};
use crate::pipeline::{Outcome, Pipeline};

use super::metrics::Metrics;

/// How the batcher gathers and how much it holds.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Most articles in one pipeline pass (a larger job alone is run in passes of this size).
    pub batch_size: usize,
    /// How long to wait for company after taking the first job.
    pub wait: Duration,
    /// Most articles waiting, all jobs together.
    pub capacity: usize,
}

/// One request's articles and where their records go.
pub struct Job {
    pub inputs: Vec<Input>,
    pub shape: Shape,
    pub reply: oneshot::Sender<Result<Vec<Rendered>, Failure>>,
}

/// One record, rendered as `newstag annotate` (or `tags --json`) prints it, without the
/// newline; `error` is its error kind when it is an error record.
pub struct Rendered {
    pub json: Vec<u8>,
    pub error: Option<DocErrorKind>,
}

/// The pipeline itself failed on a job (a bug, not bad input): the request gets a 500.
#[derive(Debug)]
pub struct Failure(pub String);

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The queue holds too many articles already.
    Full,
    /// The server is shutting down.
    Closed,
}

struct Queue {
    jobs: VecDeque<Job>,
    /// Articles in `jobs`.
    articles: usize,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    arrived: Condvar,
}

impl Shared {
    /// The queue, even if a thread panicked while holding it: its state is a list and a
    /// count, updated together, so it is never left half-changed.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The handle the HTTP side holds.
pub struct Batcher {
    shared: Arc<Shared>,
    settings: Settings,
    metrics: Metrics,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Batcher {
    /// Starts the batcher thread over `pipeline`.
    pub fn start(pipeline: Arc<Pipeline>, settings: Settings, metrics: Metrics) -> Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                articles: 0,
                closed: false,
            }),
            arrived: Condvar::new(),
        });
        let worker = Worker {
            shared: shared.clone(),
            pipeline,
            settings,
            metrics: metrics.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("newstag-batcher".into())
            .spawn(move || worker.run())
            .context("starting the batcher thread")?;
        Ok(Batcher {
            shared,
            settings,
            metrics,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a job, unless its articles do not fit. An empty queue takes any job (even one
    /// larger than the capacity, which `--max-articles` bounds), so no request size can be
    /// refused forever.
    pub fn submit(&self, job: Job) -> Result<(), Rejected> {
        let n = job.inputs.len();
        let mut queue = self.shared.lock();
        if queue.closed {
            return Err(Rejected::Closed);
        }
        if queue.articles > 0 && queue.articles + n > self.settings.capacity {
            return Err(Rejected::Full);
        }
        queue.articles += n;
        queue.jobs.push_back(job);
        self.metrics.set_queue_depth(queue.articles);
        drop(queue);
        self.shared.arrived.notify_one();
        Ok(())
    }

    /// Stops taking jobs, lets the thread finish those already queued, and waits for it.
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.arrived.notify_all();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    pipeline: Arc<Pipeline>,
    settings: Settings,
    metrics: Metrics,
}

impl Worker {
    fn run(self) {
        let models = self.pipeline.models();
        let mut under_load = false;
        while let Some(jobs) = self.gather(under_load) {
            under_load = self.annotate(jobs, &models);
        }
    }

    /// The next batch: the first live job, those queued behind it, and, `under_load` or when
    /// others came with it, those that join within the wait. `None` once the queue is closed
    /// and empty.
    fn gather(&self, under_load: bool) -> Option<Vec<Job>> {
        let mut queue = self.shared.lock();
        let first = loop {
            match self.pop(&mut queue) {
                Some(job) => break job,
                None if queue.closed => return None,
                None => {
                    queue = self
                        .shared
                        .arrived
                        .wait(queue)
                        .unwrap_or_else(|e| e.into_inner())
                }
            }
        };
        let wait = if under_load || !queue.jobs.is_empty() {
            self.settings.wait
        } else {
            Duration::ZERO
        };
        let until = Instant::now() + wait;
        let mut articles = first.inputs.len();
        let mut jobs = vec![first];
        while articles < self.settings.batch_size {
            // A job that would overfill the batch opens the next one instead, so a batch is
            // never split across passes only because a latecomer was large.
            if let Some(next) = queue.jobs.front()
                && articles + next.inputs.len() > self.settings.batch_size
            {
                break;
            }
            if let Some(job) = self.pop(&mut queue) {
                articles += job.inputs.len();
                jobs.push(job);
                continue;
            }
            let now = Instant::now();
            if queue.closed || now >= until {
                break;
            }
            queue = self
                .shared
                .arrived
                .wait_timeout(queue, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Some(jobs)
    }

    /// The front job, skipping those whose client has gone (deadline passed, connection
    /// closed): their articles are never annotated.
    fn pop(&self, queue: &mut Queue) -> Option<Job> {
        while let Some(job) = queue.jobs.pop_front() {
            queue.articles -= job.inputs.len();
            self.metrics.set_queue_depth(queue.articles);
            if job.reply.is_closed() {
                self.metrics.job_abandoned();
                continue;
            }
            return Some(job);
        }
        None
    }

    /// Whether jobs are waiting. Asked when a pass ends and before its jobs are answered: a
    /// client that sends its next request as soon as it has its answer (an editor, a
    /// sequential script) is not company, and asked after the answers it would look like it
    /// and wait the whole `wait` alone.
    fn waiting(&self) -> bool {
        !self.shared.lock().jobs.is_empty()
    }

    /// Runs the batch's articles through the pipeline together and answers each job. Returns
    /// whether other jobs were already waiting when the pass ended ([`Self::waiting`]).
    fn annotate(
        &self,
        mut jobs: Vec<Job>,
        models: &std::collections::BTreeMap<&'static str, String>,
    ) -> bool {
        // Clients whose deadline passed during the batch wait are not worth a model pass.
        jobs.retain(|job| {
            let gone = job.reply.is_closed();
            if gone {
                self.metrics.job_abandoned();
            }
            !gone
        });
        if jobs.is_empty() {
            return self.waiting();
        }
        let sizes: Vec<usize> = jobs.iter().map(|j| j.inputs.len()).collect();
        let inputs: Vec<Input> = jobs
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.inputs))
            .collect();
        let total = inputs.len();
        self.metrics.observe_batch(total);
        // A panic in the pipeline is a bug, but it must not take the server down with it:
        // the requests of this batch get a 500 and the batcher carries on.
        let outcomes = catch_unwind(AssertUnwindSafe(|| {
            self.pipeline
                .annotate_stream(inputs, self.settings.batch_size)
                .flatten()
                .collect::<Vec<Outcome>>()
        }));
        let under_load = self.waiting();
        let outcomes = match outcomes {
            Ok(outcomes) if outcomes.len() == total => outcomes,
            Ok(_) | Err(_) => {
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(Failure("the annotator failed on this batch".into())));
                }
                return under_load;
            }
        };
        let mut outcomes = outcomes.into_iter();
        for (job, n) in jobs.into_iter().zip(sizes) {
            let records: Vec<Rendered> = outcomes
                .by_ref()
                .take(n)
                .map(|outcome| {
                    let rendered = self.render(&outcome, job.shape, models);
                    self.metrics.article_done(rendered.error.is_none());
                    rendered
                })
                .collect();
            // The client may have gone meanwhile; its records are then simply dropped.
            let _ = job.reply.send(Ok(records));
        }
        under_load
    }
}

impl Worker {
    /// One outcome as its record; a record that cannot be serialised (never seen: the
    /// records are plain data) becomes an error record rather than a missing answer.
    fn render(
        &self,
        outcome: &Outcome,
        shape: Shape,
        models: &std::collections::BTreeMap<&'static str, String>,
    ) -> Rendered {
        let error = match outcome {
            Outcome::Failed { error, .. } => Some(error.kind),
            Outcome::Done(_) => None,
        };
        match render(outcome, shape, models) {
            Ok(mut json) => {
                if json.last() == Some(&b'\n') {
                    json.pop();
                }
                Rendered { json, error }
            }
            Err(e) => Rendered {
                json: serde_json::json!({
                    "id": outcome_id(outcome),
                    "error": {"kind": "model", "message": format!("rendering the record: {e}")}
                })
                .to_string()
                .into_bytes(),
                error: Some(DocErrorKind::Model),
            },
        }
    }
}

fn outcome_id(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Done(doc) => &doc.article.id,
        Outcome::Failed { id, .. } => id,
    }
}
