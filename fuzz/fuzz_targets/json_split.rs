//! The JSON batch splitter and raw decoder: the same elements however the
//! bytes are cut, exactly serde's elements for an array serde accepts, no
//! panic. Input: a count byte, that many cut positions, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 8).min(rest.len());
    let (cuts, body) = rest.split_at(n);
    dsx::client::fuzz_api::json_split_agrees(body, cuts);
});
