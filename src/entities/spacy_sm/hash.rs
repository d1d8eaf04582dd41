//! spaCy's string ids and thinc's embedding-row hash.

use crate::entities::spacy_sm::tables::SYMBOLS;

/// MurmurHash64A (Austin Appleby), as in the `murmurhash` package's `hash64`.
pub fn murmurhash64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= u64::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// spaCy's `hash_string`: MurmurHash64A of the UTF-8 bytes with seed 1.
pub fn hash_string(s: &str) -> u64 {
    murmurhash64a(s.as_bytes(), 1)
}

/// The id spaCy's `StringStore.add` gives a string: 0 for "", the reserved symbol id for
/// spaCy's built-in symbols (e.g. "X" -> 101), otherwise `hash_string`.
pub fn string_id(s: &str) -> u64 {
    if s.is_empty() {
        return 0;
    }
    match SYMBOLS.binary_search_by(|(k, _)| (*k).cmp(s)) {
        Ok(i) => SYMBOLS[i].1,
        Err(_) => hash_string(s),
    }
}

/// thinc's `MurmurHash3_x86_128_uint64` (NumpyOps.hash): four 32-bit keys for one 64-bit id.
pub fn murmur3_128_u64(val: u64, seed: u32) -> [u32; 4] {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    fn fmix(mut k: u64) -> u64 {
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^= k >> 33;
        k
    }
    let mut h1 = val.wrapping_mul(C1);
    h1 = h1.rotate_left(31);
    h1 = h1.wrapping_mul(C2);
    h1 ^= u64::from(seed);
    h1 ^= 8;
    let mut h2 = u64::from(seed) ^ 8;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    [h1 as u32, (h1 >> 32) as u32, h2 as u32, (h2 >> 32) as u32]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_string_matches_spacy() {
        // Values from spacy.strings.hash_string (spaCy 3.8.18).
        assert_eq!(hash_string("hello"), 5983625672228268878);
        assert_eq!(hash_string("Moscow"), 13549936205470267463);
        assert_eq!(hash_string("ça"), 6716136869789229852);
    }

    #[test]
    fn symbols_are_reserved_ids() {
        assert_eq!(string_id(""), 0);
        assert_eq!(string_id("X"), 101);
        assert_eq!(string_id("PERSON"), 380);
        assert!(
            crate::entities::spacy_sm::tables::SYMBOLS
                .windows(2)
                .all(|w| w[0].0 < w[1].0)
        );
        assert_eq!(string_id("hello"), hash_string("hello"));
    }
}
