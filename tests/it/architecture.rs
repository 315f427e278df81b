//! The layering ARCHITECTURE.md describes, checked from the source: no
//! import cycle between the crate's top-level modules, nor between the
//! explorer's parts (`tui::view`, `tui::update`, `tui::state`, ...). Read
//! from the `crate::` and `super::` paths of every non-test source file
//! (issue 11: "a check of the `use crate::` lines is enough").

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The unit a module path belongs to: its first component, or for the
/// explorer its first two (`tui::view`). `None` for the crate root and the
/// explorer's root module, which assemble the parts rather than use them.
fn unit(path: &[String]) -> Option<String> {
    match path {
        [] => None,
        [top] if top == "tui" => None,
        [top, sub, ..] if top == "tui" => Some(format!("tui::{sub}")),
        [top, ..] => Some(top.clone()),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "tests" && name != "bin" && name != "snapshots" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && name != "tests.rs"
        {
            out.push(path);
        }
    }
}

/// `src/tui/view/tail.rs` → `[tui, view, tail]`; `mod.rs` names its dir.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The module paths `text` (of the module at `here`) refers to.
fn references(here: &[String], text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let ident = |s: &str| {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    for (i, _) in text.match_indices("crate::") {
        let before = text[..i].chars().last();
        if before
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let first = ident(rest);
        let second = rest[first.len()..]
            .strip_prefix("::")
            .map(ident)
            .unwrap_or_default();
        let mut path = vec![first];
        if !second.is_empty() {
            path.push(second);
        }
        out.push(path);
    }
    for (i, _) in text.match_indices("super::") {
        let before = text[..i].chars().last();
        if before
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            continue;
        }
        let mut base: Vec<String> = here.to_vec();
        let mut rest = &text[i..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        let name = ident(rest);
        if !name.is_empty() {
            base.push(name);
        }
        out.push(base);
    }
    out
}

/// The source without its test modules (`#[cfg(test)]` onwards).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod ").map_or(text, |i| &text[..i])
}

fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let here = module_path(&src, &file);
        let Some(from) = unit(&here) else { continue };
        let text = std::fs::read_to_string(&file).expect("read source");
        for target in references(&here, without_tests(&text)) {
            if let Some(to) = unit(&target)
                && to != from
            {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
        graph.entry(from).or_default();
    }
    graph
}

/// Every cycle's members (strongly connected components of size > 1).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(n) = todo.pop() {
            for m in graph.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in graph.keys() {
        if !reach[n].contains(n) || out.iter().any(|c| c.contains(n)) {
            continue;
        }
        let members = graph
            .keys()
            .filter(|m| reach[n].contains(*m) && reach[*m].contains(n))
            .cloned()
            .collect();
        out.push(members);
    }
    out
}

#[test]
fn no_module_imports_cycle_back_to_itself() {
    let graph = edges();
    // The check sees the layers it is meant to: the explorer's parts and
    // the client below everything.
    assert!(graph.contains_key("tui::view") && graph.contains_key("client"));
    assert!(graph["tui::view"].contains("tui::state"), "{graph:#?}");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles: {found:?}\nedges: {graph:#?}"
    );
}

#[test]
fn the_layers_point_the_documented_way() {
    let graph = edges();
    let uses = |a: &str, b: &str| graph.get(a).is_some_and(|s| s.contains(b));
    for below in ["client", "server", "sanitize", "bookmarks", "config"] {
        assert!(!uses(below, "tui::view") && !uses(below, "cli"), "{below}");
    }
    assert!(!uses("client", "server"), "the client stands alone");
    assert!(!uses("tui::view", "tui::update"), "view reads state only");
    assert!(!uses("tui::update", "tui::view"), "update never draws");
    for part in graph.keys().filter(|k| k.starts_with("tui::")) {
        assert!(!uses(part, "cli"), "{part} imports cli");
    }
}

#[test]
fn the_check_finds_a_planted_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(cycles(&graph), [["a".to_owned(), "b".to_owned()]]);
    let here = ["tui".to_owned(), "view".to_owned(), "tail".to_owned()];
    assert_eq!(
        references(&here, "use super::super::state::X; use crate::client::Y;"),
        [
            vec!["client".to_owned(), "Y".to_owned()],
            vec!["tui".to_owned(), "state".to_owned()],
        ]
    );
}
