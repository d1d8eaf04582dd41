//! [`ModelRef`]: a transformer model named by a local directory or a Hub repo at a revision, and
//! its files fetched into the store.

use std::path::{Path, PathBuf};

use crate::error::{self, Error, Result, bail};
use crate::runtime::Precision;
use crate::store::Store;

use super::HubClient;

/// A transformer model: a local directory, or a Hub repo at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    Dir(PathBuf),
    Hub { repo: String, revision: String },
}

impl ModelRef {
    /// `DIR` when it is a directory, else `org/name` or `org/name@revision` on the Hub.
    pub fn parse(spec: &str) -> Result<Self> {
        let path = Path::new(spec);
        if path.is_dir() {
            return Ok(ModelRef::Dir(path.to_path_buf()));
        }
        let (repo, revision) = spec.split_once('@').unwrap_or((spec, "main"));
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) || revision.is_empty() {
            bail!(
                "{spec:?} is neither a directory nor a Hub repo id (org/name or org/name@revision)"
            );
        }
        Ok(ModelRef::Hub {
            repo: repo.to_string(),
            revision: revision.to_string(),
        })
    }

    /// Short name for the record's `models` field.
    pub fn describe(&self) -> String {
        match self {
            ModelRef::Dir(d) => d.display().to_string(),
            ModelRef::Hub { repo, revision } => format!("{repo}@{revision}"),
        }
    }

    /// A local directory holding `config.json`, `tokenizer.json` and the ONNX model, fetched
    /// into the store from the Hub when needed (the Hub client honours `HF_ENDPOINT`,
    /// `HF_TOKEN` and `HF_HUB_OFFLINE`; `offline` forbids the network too).
    pub fn materialize(
        &self,
        store: &Store,
        offline: bool,
        precision: Precision,
        log: &mut dyn FnMut(&str),
    ) -> Result<PathBuf> {
        let (repo, revision) = match self {
            ModelRef::Dir(d) => return Ok(d.clone()),
            ModelRef::Hub { repo, revision } => (repo, revision),
        };
        let env = HubClient::from_env();
        let forced_offline = offline && !env.is_offline();
        let client = if forced_offline {
            HubClient::new(env.endpoint(), None, true)
        } else {
            env
        };
        let dest = store
            .root()
            .join("hub")
            .join(repo.replace('/', "--"))
            .join(revision);
        // Hub ONNX exports keep the graph under onnx/; some repos have it at the top.
        let [top, nested] = precision.candidates();
        let layouts = [
            ["config.json", "tokenizer.json", nested.as_str()],
            ["config.json", "tokenizer.json", top.as_str()],
        ];
        let mut last_error = None;
        for files in layouts {
            match client.download(repo, revision, &files, &dest, log) {
                Ok(_) => return Ok(dest),
                Err(e) => {
                    // Another layout is worth trying when this one is missing, not when the
                    // Hub cannot be reached.
                    let next = client.is_offline() || e.kind() == error::ErrorKind::ModelMissing;
                    last_error = Some(e);
                    if !next {
                        break;
                    }
                }
            }
        }
        let error = last_error.unwrap_or_else(|| crate::error::err!("no layout tried"));
        if forced_offline {
            return Err(Error::new(
                error::ErrorKind::ModelMissing,
                format!(
                    "{repo}@{revision} is not in the model store ({}) and the run is offline",
                    dest.display()
                ),
            )
            .for_model(format!("{repo}@{revision}")));
        }
        Err(error)
    }
}
