//! Incremental SSE parser: bytes in, events out.
