//! Model infrastructure, under every stage that runs a model: the model store (`store`: what
//! each model is and where its files come from), Hugging Face Hub downloads (`hub`) and the
//! shared ONNX Runtime with the sessions built on it (`runtime`), and OpenVINO for MiniLM in
//! bf16 (`openvino`).

pub mod hub;
#[cfg(feature = "openvino")]
pub mod openvino;
pub mod runtime;
pub mod store;
