//! Explorer state: data and key handling, no drawing.

pub mod detail;
