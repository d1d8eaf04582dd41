//! Loading the NER's thinc weights from the msgpack file `ner/model`.
//!
//! The file holds parallel lists `nodes`, `attrs` and `params` (one entry per thinc
//! `Model` node); arrays are msgpack-numpy maps `{nd, type, kind, shape, data}`.

use std::path::Path;

use crate::error::{Context, Result, bail, ensure, err};
use rmpv::Value;

/// A dense float32 array (row-major).
#[derive(Debug, Clone)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// One node of the serialised thinc model tree.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub dims: Vec<(String, Option<u64>)>,
    pub attrs: Vec<(String, Value)>,
    pub params: Vec<(String, Array)>,
}

impl Node {
    pub fn dim(&self, name: &str) -> Option<u64> {
        self.dims
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| *v)
    }

    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn param(&self, name: &str) -> Result<&Array> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| err!("node {:?}: missing param {name}", self.name))
    }
}

fn key_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => s.as_str(),
        Value::Binary(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

fn get<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| key_str(k) == Some(key))
        .map(|(_, v)| v)
}

fn decode_array(v: &Value) -> Result<Array> {
    let map = v
        .as_map()
        .ok_or_else(|| err!("param: expected a msgpack-numpy map"))?;
    let ty = get(map, "type").and_then(key_str).unwrap_or("");
    ensure!(ty == "<f4", "param: unsupported dtype {ty:?}");
    let shape: Vec<usize> = get(map, "shape")
        .and_then(Value::as_array)
        .ok_or_else(|| err!("param: missing shape"))?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or_else(|| err!("param: bad shape"))
        })
        .collect::<Result<_>>()?;
    let data = match get(map, "data") {
        Some(Value::Binary(b)) => b,
        _ => bail!("param: missing data"),
    };
    let n: usize = shape.iter().product();
    ensure!(
        data.len() == n * 4,
        "param: {} bytes for shape {shape:?}",
        data.len()
    );
    let data = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(Array { shape, data })
}

/// Reads all nodes of a thinc model file.
pub fn load_nodes(path: &Path) -> Result<Vec<Node>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let root = rmpv::decode::read_value(&mut &bytes[..]).context("decoding model msgpack")?;
    let map = root.as_map().ok_or_else(|| err!("model: expected a map"))?;
    let list = |k: &str| -> Result<&Vec<Value>> {
        get(map, k)
            .and_then(Value::as_array)
            .ok_or_else(|| err!("model: missing {k}"))
    };
    let (nodes, attrs, params) = (list("nodes")?, list("attrs")?, list("params")?);
    ensure!(
        nodes.len() == attrs.len() && nodes.len() == params.len(),
        "model: ragged node lists"
    );
    let mut out = Vec::with_capacity(nodes.len());
    for ((n, a), p) in nodes.iter().zip(attrs).zip(params) {
        let nm = n.as_map().ok_or_else(|| err!("model: node not a map"))?;
        let name = get(nm, "name").and_then(key_str).unwrap_or("").to_string();
        let dims = match get(nm, "dims") {
            Some(Value::Map(d)) => d
                .iter()
                .filter_map(|(k, v)| key_str(k).map(|k| (k.to_string(), v.as_u64())))
                .collect(),
            _ => Vec::new(),
        };
        let mut node_attrs = Vec::new();
        if let Value::Map(am) = a {
            for (k, v) in am {
                let Some(k) = key_str(k) else { continue };
                // Attribute values are themselves msgpack-encoded.
                let val = match v {
                    Value::Binary(b) => rmpv::decode::read_value(&mut &b[..]).unwrap_or(Value::Nil),
                    other => other.clone(),
                };
                node_attrs.push((k.to_string(), val));
            }
        }
        let mut node_params = Vec::new();
        if let Value::Map(pm) = p {
            for (k, v) in pm {
                let Some(k) = key_str(k) else { continue };
                if v.is_nil() {
                    continue;
                }
                node_params.push((
                    k.to_string(),
                    decode_array(v).with_context(|| format!("node {name}: {k}"))?,
                ));
            }
        }
        out.push(Node {
            name,
            dims,
            attrs: node_attrs,
            params: node_params,
        });
    }
    Ok(out)
}
