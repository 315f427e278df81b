//! The SSE parser: the same events however the bytes are cut, a buffered
//! event never past its limit, no panic. Input: a flags byte (bit 0: small
//! buffer limit), a count byte, that many cut positions, then the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let n = usize::from(n % 8).min(rest.len());
    let (cuts, body) = rest.split_at(n);
    dsx::client::fuzz_api::sse_split_agrees(body, cuts, flags & 1 == 1);
});
