//! Any number of pipelines can be loaded, used and dropped in one process (a server reloading
//! its configuration, a Python session loading two), and the library's run loop gives the
//! CLI's records.

use crate::common;

use common::*;
use newstag::emit::{Shape, to_json_line};
use newstag::ingest::{ReadOptions, Source, read_sources};
use newstag::store::Store;
use newstag::{Config, Pipeline};

fn records(pipeline: &Pipeline, batch_size: usize) -> Vec<u8> {
    let inputs = read_sources(vec![Source::parse(&seed())], ReadOptions::default());
    let models = pipeline.models();
    let mut out = Vec::new();
    for batch in pipeline.annotate_stream(inputs, batch_size) {
        for outcome in batch {
            out.extend(to_json_line(&outcome, Shape::Annotate, &models).unwrap());
        }
    }
    out
}

#[test]
fn pipelines_load_use_and_drop_in_one_process() {
    ensure_models();
    let store = Store::from_env().unwrap();
    let config = Config {
        threads: Some(1),
        ..Config::default()
    };
    let first = Pipeline::load(&config, &store, &mut |_| {}).expect("first pipeline");
    let expected = records(&first, 64);
    let second = Pipeline::load(
        &Config {
            ner: Some("none".into()),
            ..config.clone()
        },
        &store,
        &mut |_| {},
    )
    .expect("a second pipeline beside the first");
    assert!(!records(&second, 1).is_empty());
    drop(first);
    drop(second);
    let third = Pipeline::load(&config, &store, &mut |_| {}).expect("a pipeline after both");
    assert_eq!(records(&third, 1), expected);

    // The library's loop writes what the CLI writes.
    let cli = run(&["annotate", "-q", "--threads", "1", &seed()]);
    assert_ok(&cli);
    assert_eq!(cli.stdout, expected);
}
