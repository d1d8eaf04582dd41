//! MiniLM in bf16 on OpenVINO's CPU plugin (`--topic-model embedding-bf16`).
//!
//! ONNX Runtime's CPU provider has no bf16 kernels; OpenVINO's CPU plugin runs the same
//! weight-less graph over the same safetensors in bf16 where the plugin reports bf16 on the
//! processor (AVX512-BF16, AMX, and AVX2-VNNI-2 on recent Intel cores). Measured with newstag's
//! own runs on a 2-core AVX512-BF16 host (docs/benchmarks.md, "Built: `--topic-model
//! embedding-bf16`"): 6 of eval_topics' held-out values move, by 1 point at most; 1.35x the
//! fp32 articles/s on the benchmark's corpus, 1.5-1.7x on held-out news.
//!
//! Like `ort`'s `load-dynamic`, the C library is loaded at run time from the store (a dlopen is
//! process-wide; the first path given wins). Everything else (the core, the compiled model,
//! its request) lives in values the caller owns.

use std::path::Path;
use std::sync::Mutex;

use ndarray::{ArrayViewD, IxDyn};
use openvino::{
    CompiledModel, Core, DeviceType, ElementType, InferRequest, PropertyKey, RwPropertyKey, Shape,
    Tensor,
};
use tokenizers::Encoding;

use crate::error::{Context, Result, err};
use crate::runtime::{Forward, InputBuffers};

/// The loaded OpenVINO library and a core on it.
pub struct OpenVino {
    core: Core,
    version: String,
}

impl OpenVino {
    /// Loads `libopenvino_c.so` from `lib` (its siblings, the core library, the CPU plugin and
    /// the ONNX reader, are found beside it).
    pub fn load(lib: &Path) -> Result<Self> {
        openvino_sys::library::load_from(lib)
            .map_err(|e| err!("loading OpenVINO from {}: {e}", lib.display()))?;
        let core = Core::new().map_err(|e| err!("starting OpenVINO: {e}"))?;
        // "2026.4.1-22982-e213a147257-releases/2026/4": the release is the part a user reads.
        let build = openvino::version().build_number;
        let version = build.split('-').next().unwrap_or(&build).to_string();
        Ok(OpenVino { core, version })
    }

    /// OpenVINO's release, `2026.4.1`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the CPU plugin computes in bf16 on this processor (it reports `BF16` for
    /// AVX512-BF16, AMX and AVX2-VNNI-2); where it does not, it would quietly run fp32, as fast
    /// as ONNX Runtime and no closer to it.
    pub fn cpu_has_bf16(&self) -> Result<bool> {
        let caps = self
            .core
            .get_property(&DeviceType::CPU, &PropertyKey::DeviceCapabilities)
            .map_err(|e| err!("asking OpenVINO's CPU plugin what it can do: {e}"))?;
        Ok(caps.split_whitespace().any(|c| c == "BF16"))
    }

    /// Compiles a BERT-style ONNX graph (token ids in, hidden states out) for the CPU in bf16,
    /// one forward pass on `threads` threads. `pad_id` fills padding.
    pub fn bf16_encoder(mut self, model: &Path, pad_id: u32, threads: usize) -> Result<OvEncoder> {
        let path = model
            .to_str()
            .ok_or_else(|| err!("{}: not a UTF-8 path", model.display()))?;
        let graph = self
            .core
            .read_model_from_file(path, "")
            .map_err(|e| err!("{e}"))
            .with_context(|| format!("reading ONNX model {}", model.display()))?;
        let wants_token_type_ids = (0..graph.get_inputs_len().unwrap_or(0)).any(|i| {
            graph
                .get_input_by_index(i)
                .and_then(|n| n.get_name())
                .is_ok_and(|n| n == "token_type_ids")
        });
        let threads = threads.max(1).to_string();
        // One stream of `threads` threads, as ONNX Runtime's intra-op pool: newstag's stages
        // take turns on a batch, so the encoder gets every core while it runs. Threads are not
        // pinned: rayon's workers use the same cores between passes.
        let properties = [
            (RwPropertyKey::HintInferencePrecision, "bf16"),
            (RwPropertyKey::InferenceNumThreads, threads.as_str()),
            (RwPropertyKey::NumStreams, "1"),
            (RwPropertyKey::HintEnableCpuPinning, "NO"),
        ];
        self.core
            .set_properties(&DeviceType::CPU, properties)
            .map_err(|e| err!("configuring OpenVINO's CPU plugin: {e}"))?;
        let mut compiled = self
            .core
            .compile_model(&graph, DeviceType::CPU)
            .map_err(|e| err!("{e}"))
            .with_context(|| format!("compiling {} for the CPU in bf16", model.display()))?;
        let request = compiled
            .create_infer_request()
            .map_err(|e| err!("creating an OpenVINO request: {e}"))?;
        Ok(OvEncoder {
            state: Mutex::new(OvState {
                request,
                _compiled: compiled,
                _core: self.core,
                inputs: InputBuffers::default(),
            }),
            wants_token_type_ids,
            pad_id: i64::from(pad_id),
        })
    }
}

/// A compiled encoder and its one request: a forward pass already uses every thread, so
/// callers take turns on it, as on an ONNX Runtime session.
pub struct OvEncoder {
    state: Mutex<OvState>,
    wants_token_type_ids: bool,
    pad_id: i64,
}

struct OvState {
    request: InferRequest,
    // The request runs on these; kept alive with it, dropped after it (field order).
    _compiled: CompiledModel,
    _core: Core,
    inputs: InputBuffers,
}

impl Forward for OvEncoder {
    fn forward(&self, batch: &[&Encoding], read: &mut dyn FnMut(ArrayViewD<f32>)) -> Result<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| err!("OpenVINO request lock poisoned"))?;
        let OvState {
            request, inputs, ..
        } = &mut *state;
        let shape = inputs.fill(batch, self.pad_id);
        let dims = [shape[0] as i64, shape[1] as i64];
        let ov = |e: openvino::InferenceError| err!("OpenVINO: {e}");
        let mut named = vec![
            ("input_ids", &inputs.ids[..]),
            ("attention_mask", &inputs.mask[..]),
        ];
        if self.wants_token_type_ids {
            named.push(("token_type_ids", &inputs.types[..]));
        }
        for (name, values) in named {
            let mut tensor =
                Tensor::new(ElementType::I64, &Shape::new(&dims).map_err(ov)?).map_err(ov)?;
            tensor
                .get_data_mut::<i64>()
                .map_err(ov)?
                .copy_from_slice(values);
            request.set_tensor(name, &tensor).map_err(ov)?;
        }
        request.infer().map_err(ov)?;
        let out = request.get_output_tensor_by_index(0).map_err(ov)?;
        // The data is read as f32 below; another output type is a different model, said as such.
        let kind = out.get_element_type().map_err(ov)?;
        if kind != ElementType::F32 {
            return Err(err!(
                "OpenVINO's output is {kind:?}, not f32: not a sentence encoder"
            ));
        }
        let out_shape: Vec<usize> = out
            .get_shape()
            .map_err(ov)?
            .get_dimensions()
            .iter()
            .map(|&d| d as usize)
            .collect();
        let data = out.get_data::<f32>().map_err(ov)?;
        let hidden = ArrayViewD::from_shape(IxDyn(&out_shape), data)
            .map_err(|e| err!("OpenVINO's output: {e}"))?;
        read(hidden);
        Ok(())
    }
}
