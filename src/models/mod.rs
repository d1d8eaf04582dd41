//! Model infrastructure, under every stage that runs a model: the model store (`store`: what
//! each model is and where its files come from), Hugging Face Hub downloads (`hub`) and the
//! shared ONNX Runtime with the sessions built on it (`runtime`).

pub mod hub;
pub mod runtime;
pub mod store;
