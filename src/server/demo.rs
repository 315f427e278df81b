//! Demo streams for `dsx demo` and `dsx serve --demo`.
