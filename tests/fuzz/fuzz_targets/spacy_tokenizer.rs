//! Fuzz target: the spaCy port's tokenizer and NER on arbitrary text: tokens ordered,
//! disjoint, covering every non-space character; entities on token boundaries. Needs the
//! en-core-web-sm model in the store (`newstag models fetch en-core-web-sm`).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use newstag::entities::spacy_sm::SpacyNer;

static NER: LazyLock<SpacyNer> = LazyLock::new(|| {
    let store = newstag::Store::from_env().expect("model store");
    let dir = store
        .require(&newstag::store::EN_CORE_WEB_SM)
        .expect("run: newstag models fetch en-core-web-sm");
    SpacyNer::load(&dir).expect("load en-core-web-sm")
});

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // The NER's network is ~100x the tokenizer's cost: run it on short inputs only, so
        // the tokenizer still gets most of the executions.
        newstag::invariants::spacy(&NER, text, text.len() < 256);
    }
});
