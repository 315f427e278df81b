//! Explorer drawing: reads state, never changes it.

pub mod detail;
