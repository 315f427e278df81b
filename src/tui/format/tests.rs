//! Tests of the JSON and text printers.

use super::*;

fn texts(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

fn pretty(src: &str) -> Vec<String> {
    texts(&json_lines(
        src.as_bytes(),
        JsonStyle::Pretty,
        &Theme::default(),
    ))
}

fn compact(src: &str) -> String {
    let lines =
        json_lines(src.as_bytes(), JsonStyle::Compact, &Theme::default());
    assert_eq!(lines.len(), 1);
    texts(&lines).remove(0)
}

const NESTED: &str = r#"{"z":1.50,"a":{"b":[1e3,true,null,{},[]],"c":{}},
    "s":"é\u00e9"}"#;

#[test]
fn pretty_nested_keeps_order_and_numbers() {
    assert_eq!(
        pretty(NESTED),
        [
            "{",
            r#"  "z": 1.50,"#,
            r#"  "a": {"#,
            r#"    "b": ["#,
            "      1e3,",
            "      true,",
            "      null,",
            "      {},",
            "      []",
            "    ],",
            r#"    "c": {}"#,
            "  },",
            r#"  "s": "éé""#,
            "}",
        ]
    );
}

#[test]
fn compact_nested() {
    assert_eq!(
        compact(NESTED),
        r#"{"z":1.50,"a":{"b":[1e3,true,null,{},[]],"c":{}},"s":"éé"}"#
    );
}

#[test]
fn scalars_and_empty_roots() {
    assert_eq!(pretty("{}"), ["{}"]);
    assert_eq!(pretty(" [ ] "), ["[]"]);
    assert_eq!(pretty("-0.5E+2"), ["-0.5E+2"]);
    assert_eq!(pretty(r#""x""#), [r#""x""#]);
    assert_eq!(pretty("[[1]]"), ["[", "  [", "    1", "  ]", "]"]);
}

#[test]
fn strings_escape_for_the_terminal() {
    let src = r#"{"k\u001b[2J":"a\"b\\c\n\t\u001b]0;t\u0007\u009b\u202e"}"#;
    let out = compact(src);
    assert_eq!(
        out,
        r#"{"k\x1b[2J":"a\"b\\c\n\t\x1b]0;t\x07\u{9b}\u{202e}"}"#
    );
    // Raw (unescaped) C1 and bidi characters are valid JSON: spelled too.
    let raw = "[\"\u{9b}2J\u{2066}\u{7f}\"]";
    assert_eq!(compact(raw), r#"["\u{9b}2J\u{2066}\x7f"]"#);
}

#[test]
fn invalid_json_falls_back_to_warning_text() {
    let theme = Theme::default();
    let lines = json_lines(b"{\"a\":\x1b[2J\n}", JsonStyle::Pretty, &theme);
    assert_eq!(texts(&lines), ["{\"a\":\\x1b[2J", "}"]);
    assert!(lines.iter().all(|l| l.style == theme.warning));
    let bad = json_lines(b"[\"\xff\"]", JsonStyle::Compact, &theme);
    assert_eq!(texts(&bad), ["[\"\\xff\"]"]);
}

#[test]
fn syntax_classes_get_their_styles() {
    let theme = Theme::default();
    let lines =
        json_lines(br#"{"k":["s",1,false,null]}"#, JsonStyle::Compact, &theme);
    let styled: Vec<(String, Style)> = lines[0]
        .spans
        .iter()
        .map(|s| (s.content.to_string(), s.style))
        .collect();
    let find = |text: &str| styled.iter().find(|(t, _)| t == text).unwrap().1;
    assert_eq!(find("\"k\""), theme.key);
    assert_eq!(find("\"s\""), theme.string);
    assert_eq!(find("1"), theme.number);
    assert_eq!(find("false"), theme.boolean);
    assert_eq!(find("null"), theme.null);
    assert_eq!(find("{"), theme.punct);
}

#[test]
fn line_counts_match_lines() {
    let inputs: &[&[u8]] = &[
        NESTED.as_bytes(),
        b"{}",
        b"[]",
        b"1",
        b"[1,[2,[3,{}]],{\"a\":[]}]",
        b"{\"a\":{\"b\":{\"c\":[1,2,3]}}}",
        b"not json\nat all\n",
        b"{\"a\":",
        b"\xff\xfe",
        b"",
        b"  \"s\"  ",
    ];
    for raw in inputs {
        for style in [JsonStyle::Pretty, JsonStyle::Compact] {
            assert_eq!(
                json_line_count(raw, style),
                json_lines(raw, style, &Theme::default()).len(),
                "{:?} {style:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}

#[test]
fn hostile_output_has_no_controls() {
    let inputs: &[&[u8]] = &[
        b"{\"\\u001b]0;title\\u0007\":\"\\u001b[2J\\r\\u009b\"}",
        "[\"\u{9b}\u{85}\u{202e}\u{feff}\"]".as_bytes(),
        b"\x1b]0;title\x07\x1b[2J\xc2\x9b\roverwrite",
    ];
    for raw in inputs {
        for style in [JsonStyle::Pretty, JsonStyle::Compact] {
            for line in texts(&json_lines(raw, style, &Theme::default())) {
                assert!(!line.chars().any(sanitize::needs_escape), "{line:?}");
            }
        }
        for line in texts(&text_message_lines(raw, &Theme::default())) {
            assert!(!line.chars().any(sanitize::needs_escape), "{line:?}");
        }
    }
}

#[test]
fn text_messages_split_lines() {
    let lines = text_message_lines(b"one\r\ntwo\tx\n", &Theme::default());
    assert_eq!(texts(&lines), ["one", "two x"]);
}
