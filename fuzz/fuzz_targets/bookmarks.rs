//! The bookmark loader: any file content loads or is refused with
//! `InvalidData`, never a panic; what loads saves and loads back equal.
#![no_main]

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::OnceLock;

use dsx::bookmarks::Bookmarks;
use libfuzzer_sys::fuzz_target;

/// One scratch directory per fuzzing process.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir()
            .join(format!("dsx-fuzz-bookmarks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let path = dir().join("bookmarks.json");
    std::fs::write(&path, data).expect("write the input");
    match Bookmarks::load(&path) {
        Ok(marks) => {
            let again = dir().join("saved.json");
            marks.save(&again).expect("a loaded file saves");
            let back = Bookmarks::load(&again).expect("a saved file loads");
            assert_eq!(
                serde_json::to_value(&marks).unwrap(),
                serde_json::to_value(&back).unwrap(),
                "save and load changed the bookmarks"
            );
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidData, "{e}"),
    }
});
