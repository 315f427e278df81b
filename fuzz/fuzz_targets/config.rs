//! The config loader: any text parses or gives a positioned error, never a
//! panic; the error's line and column lie inside the text; what parses
//! serialises and parses back equal.
#![no_main]

use std::path::Path;

use dsx::config::{Config, ConfigError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    match Config::parse(path, text) {
        Ok(config) => {
            let again = toml::to_string(&config).expect("a config serialises");
            let back = Config::parse(path, &again).expect("round trip parses");
            assert_eq!(config, back, "round trip changed the config");
        }
        Err(ConfigError::Parse { line, column, .. }) => {
            let lines = text.split('\n').count().max(1);
            assert!(line <= lines, "line {line} of {lines}");
            if line > 0 {
                let width = text.split('\n').nth(line - 1).map_or(0, |l| {
                    l.chars().count()
                });
                assert!(column <= width + 1, "column {column} of {width}");
            }
        }
        Err(_) => {}
    }
});
