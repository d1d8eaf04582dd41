//! ONNX Runtime, loaded once per process from the store and shared by every model session.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

/// An ONNX Runtime environment plus the thread budget its sessions get.
///
/// `ort` loads the shared library into the process once (a `dlopen` is process-wide whatever we
/// do); everything else — environment, sessions, thread counts — lives in values the caller owns.
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

    /// Opens a model file as a session. `Session::run` needs `&mut self`, so callers share it
    /// behind a mutex; one forward pass already uses all intra-op threads, so a queue costs
    /// nothing a second session would win back, and it halves the memory.
    pub fn session(&self, model: &Path) -> Result<Mutex<Session>> {
        let session = Session::builder(&self.env)
            .and_then(|b| {
                b.with_optimization_level(GraphOptimizationLevel::Level3)
                    .map_err(Into::into)
            })
            .and_then(|b| b.with_intra_threads(self.intra_threads).map_err(Into::into))
            .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(model))
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("loading ONNX model {}", model.display()))?;
        Ok(Mutex::new(session))
    }
}
