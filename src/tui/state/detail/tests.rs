//! Tests of folding, navigation and paths in the detail state.

use super::*;

const DOC: &str = r#"{"id": 7, "items": [{"name": "a"}, {"name": "b"}, []],
    "meta": {"a b": null, "x": {}}}"#;

fn state(src: &str) -> DetailState {
    let mut state = DetailState::new(
        src.as_bytes().to_vec(),
        ContentKind::Json,
        "t".into(),
    );
    state.set_viewport_height(5);
    state
}

fn shown(state: &DetailState) -> Vec<String> {
    (0..state.line_count())
        .map(|i| line_text(&state.line(i, &Theme::default())))
        .collect()
}

#[test]
fn unfolded_rows_match_pretty_printing() {
    let state = state(DOC);
    let pretty: Vec<String> = format::json_lines(
        DOC.as_bytes(),
        format::JsonStyle::Pretty,
        &Theme::default(),
    )
    .iter()
    .map(line_text)
    .collect();
    assert_eq!(shown(&state), pretty);
    assert_eq!(state.line_count(), 16);
}

#[test]
fn toggle_folds_and_unfolds_with_summary() {
    let mut state = state(DOC);
    state.down();
    state.down();
    assert_eq!(state.cursor_path(), ".items");
    assert_eq!(state.fold_mark(2), Fold::Open);
    state.toggle();
    assert_eq!(state.fold_mark(2), Fold::Folded);
    assert_eq!(shown(&state)[2], r#"  "items": [ … 3 items ],"#);
    assert_eq!(state.line_count(), 8);
    state.toggle();
    assert_eq!(state.line_count(), 16);
    assert_eq!(state.cursor(), 2);
}

#[test]
fn toggle_on_closing_bracket_lands_on_first_line() {
    let mut state = state(DOC);
    // Line 10 is the `],` closing `.items`.
    state.page_down(10);
    assert_eq!(shown(&state)[10], "  ],");
    assert_eq!(state.cursor_path(), ".items");
    state.toggle();
    assert_eq!(state.cursor(), 2);
    assert_eq!(state.fold_mark(2), Fold::Folded);
}

#[test]
fn fold_all_keeps_root_open() {
    let mut state = state(DOC);
    state.end();
    state.fold_all();
    assert_eq!(
        shown(&state),
        [
            "{",
            r#"  "id": 7,"#,
            r#"  "items": [ … 3 items ],"#,
            r#"  "meta": { … 2 keys }"#,
            "}",
        ]
    );
    assert_eq!(state.cursor(), 4);
    state.unfold_all();
    assert_eq!(state.line_count(), 16);
    assert_eq!(state.cursor(), 15);
}

#[test]
fn left_folds_then_goes_to_parent_right_unfolds_then_enters() {
    let mut state = state(DOC);
    state.page_down(4);
    assert_eq!(state.cursor_path(), ".items[0].name");
    state.collapse_or_parent();
    assert_eq!(state.cursor_path(), ".items[0]");
    state.collapse_or_parent();
    assert_eq!(state.fold_mark(3), Fold::Folded);
    assert_eq!(state.cursor(), 3);
    state.collapse_or_parent();
    assert_eq!(state.cursor_path(), ".items");
    state.expand();
    assert_eq!(state.cursor(), 3);
    state.expand();
    assert_eq!(state.fold_mark(3), Fold::Open);
    state.expand();
    assert_eq!(state.cursor_path(), ".items[0].name");
    // Scalars and empty containers neither fold nor expand.
    state.expand();
    state.toggle();
    assert_eq!(state.line_count(), 16);
}

#[test]
fn paths_quote_keys_that_are_not_identifiers() {
    let mut state = state(DOC);
    state.page_down(12);
    assert_eq!(state.cursor_path(), r#".meta["a b"]"#);
    state.home();
    assert_eq!(state.cursor_path(), ".");
    let mut odd = super::DetailState::new(
        br#"[{"\u001b":1}]"#.to_vec(),
        ContentKind::Json,
        String::new(),
    );
    odd.page_down(2);
    assert_eq!(odd.cursor_path(), r#"[0]["\u001b"]"#);
}

#[test]
fn selected_value_is_compact_json() {
    let mut state = state(DOC);
    state.down();
    state.down();
    assert_eq!(
        state.selected_value_text(),
        r#"[{"name":"a"},{"name":"b"},[]]"#
    );
    state.home();
    assert!(
        serde_json::from_str::<serde_json::Value>(&state.selected_value_text())
            .is_ok()
    );
}

#[test]
fn navigation_clamps_and_scroll_follows() {
    let mut state = state(DOC);
    state.up();
    assert_eq!(state.cursor(), 0);
    state.page_down(100);
    assert_eq!(state.cursor(), 15);
    assert_eq!(state.scroll_for(5), 11);
    state.page_up(3);
    assert_eq!(state.scroll_for(5), 11);
    state.page_up(3);
    assert_eq!(state.cursor(), 9);
    assert_eq!(state.scroll_for(5), 9);
    // A taller viewport than set shows the cursor without moving it.
    assert_eq!(state.scroll_for(40), 0);
}

#[test]
fn text_lines_scroll_without_folding() {
    let mut state = DetailState::new(
        b"one\n\x1b[2Jtwo\r\nthree\n".to_vec(),
        ContentKind::Text,
        "t".into(),
    );
    assert_eq!(shown(&state), ["one", "\\x1b[2Jtwo", "three"]);
    state.toggle();
    state.fold_all();
    assert_eq!(state.line_count(), 3);
    state.end();
    assert_eq!(state.cursor_path(), "line 3");
    assert_eq!(state.fold_mark(0), Fold::None);
}

#[test]
fn invalid_json_is_text_with_a_warning() {
    let state = DetailState::new(
        b"{\"a\": \x1b".to_vec(),
        ContentKind::Json,
        "t".into(),
    );
    assert!(state.warning().is_some());
    assert_eq!(shown(&state), ["{\"a\": \\x1b"]);
    assert_eq!(
        state.line(0, &Theme::default()).style,
        Theme::default().warning
    );
}

#[test]
fn binary_is_hex_lines() {
    let mut state = DetailState::new(
        (0u8..40).collect::<Vec<_>>(),
        ContentKind::Binary,
        "t".into(),
    );
    assert_eq!(state.line_count(), 3);
    state.end();
    assert_eq!(state.cursor_path(), "offset 0x00000020");
    assert!(state.selected_value_text().starts_with("00000020  20 21"));
    let empty = DetailState::new(Vec::new(), ContentKind::Binary, "t".into());
    assert_eq!(empty.line_count(), 0);
    assert_eq!(empty.scroll_for(10), 0);
}
