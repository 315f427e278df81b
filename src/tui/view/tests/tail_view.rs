//! The tail as issue 10 asked to see it: long lines kept, offsets shown
//! by their ends, levels in colour (none with `NO_COLOR`).

use ratatui::style::{Color, Modifier};

use super::*;
use crate::tui::format::JsonStyle;

fn cells_fg(buffer: &Buffer, y: u16, text: &str) -> Option<Color> {
    let line = row(buffer, y);
    let at = line.find(text)?;
    let x = u16::try_from(line[..at].chars().count()).ok()?;
    Some(buffer[(x, y)].fg)
}

fn find_row(buffer: &Buffer, text: &str) -> Option<u16> {
    (0..buffer.area.height).find(|&y| row(buffer, y).contains(text))
}

#[test]
fn compact_json_at_160_columns_keeps_the_message_text() {
    let msg = format!(
        r#"{{"level":"info","msg":"{} END-OF-TEXT"}}"#,
        "request served ".repeat(12)
    );
    let mut s = one_stream(
        (160, 48),
        "demo/events",
        "application/json",
        msg.as_bytes(),
    );
    ch(&mut s, 'p');
    assert_eq!(s.json_style, JsonStyle::Compact);
    let t = render(&s);
    let text = screen_text(t.backend().buffer());
    assert!(text.contains("END-OF-TEXT"), "{text}");
    // Wrap off: the end is out of sight until scrolled to.
    ch(&mut s, 'w');
    let text = screen_text(render(&s).backend().buffer());
    assert!(!text.contains("END-OF-TEXT"), "{text}");
    for _ in 0..16 {
        ch(&mut s, 'l');
    }
    let text = screen_text(render(&s).backend().buffer());
    assert!(text.contains("END-OF-TEXT"), "{text}");
    // The title says why lines are cut and where the view starts.
    assert!(text.contains("no wrap, from column 129"), "{text}");
}

#[test]
fn batch_headers_show_their_offsets_ends_and_y_copies_them_whole() {
    let mut s = orders((80, 24));
    key(&mut s, KeyCode::Tab);
    ch(&mut s, 'p');
    let t = render(&s);
    let b = t.backend().buffer();
    // The third batch: 600 → 900. Both ends show, cut by an ellipsis.
    let y = find_row(b, "0000000600 →")
        .unwrap_or_else(|| panic!("{}", screen_text(b)));
    let header = row(b, y);
    assert!(header.contains("…0000000600"), "{header}");
    assert!(header.contains("…0000000900"), "{header}");
    // Y on that header copies the whole offset, not what is displayed.
    ch(&mut s, 'k');
    while !matches!(
        s.tail.locate(s.tail.selected.unwrap()),
        Some(crate::tui::state::tail::Item::Header { .. })
    ) {
        ch(&mut s, 'k');
    }
    match ch(&mut s, 'Y').as_slice() {
        [Effect::CopyNoted { text, .. }] => {
            assert_eq!(text, "0000000000000000_0000000000000600");
        }
        other => panic!("{other:?}"),
    }
}

const LOG: &[u8] = b"12:00:00 INFO started\n12:00:01 WARN slow disk\n\
    12:00:02 ERROR disk full\n12:00:03 DEBUG retrying\n\
    level=error msg=\"lowercase key\"\nan error in prose stays plain\n";

#[test]
fn text_lines_are_coloured_by_level() {
    let s = one_stream((160, 48), "demo/app-log", "text/plain", LOG);
    let terminal = render(&s);
    let b = terminal.backend().buffer();
    let fg = |text: &str| {
        let y = find_row(b, text).unwrap_or_else(|| panic!("{text}"));
        cells_fg(b, y, text)
    };
    let theme = Theme::default();
    assert_eq!(fg("disk full"), theme.error.fg);
    assert_eq!(fg("slow disk"), theme.warn.fg);
    let debug_row = find_row(b, "retrying").unwrap();
    let line = row(b, debug_row);
    let at = line.find("retrying").unwrap();
    let column = u16::try_from(line[..at].chars().count()).unwrap();
    assert!(b[(column, debug_row)].modifier.contains(Modifier::DIM));
    assert_eq!(fg("retrying"), Some(Color::Reset));
    assert_eq!(fg("lowercase key"), theme.error.fg);
    assert_eq!(fg("started"), Some(Color::Reset));
    assert_eq!(fg("in prose"), Some(Color::Reset));
}

#[test]
fn a_json_level_or_severity_value_takes_its_levels_colour() {
    let data = [
        r#"{"level":"error","msg":"boom"}"#,
        r#"{"severity":"WARNING","msg":"hm"}"#,
        r#"{"msg":"no level","nested":{"level":"error"}}"#,
    ]
    .join("\x1e");
    let mut s = one_stream(
        (160, 48),
        "demo/events",
        "application/json",
        data.as_bytes(),
    );
    ch(&mut s, 'p');
    let t = render(&s);
    let b = t.backend().buffer();
    let theme = Theme::default();
    let y = find_row(b, "boom").unwrap();
    assert_eq!(cells_fg(b, y, "\"error\""), theme.error.fg);
    let y = find_row(b, "\"hm\"").unwrap();
    assert_eq!(cells_fg(b, y, "\"WARNING\""), theme.warn.fg);
    // Only the top level says the message's level.
    let y = find_row(b, "no level").unwrap();
    assert_eq!(cells_fg(b, y, "\"error\""), theme.string.fg);
}

#[test]
fn no_color_leaves_no_colour_on_screen_and_keeps_the_selection() {
    let mut s = one_stream((80, 24), "demo/app-log", "text/plain", LOG);
    ch(&mut s, 'k');
    s.colours = crate::tui::state::Colours::Off;
    let terminal = render(&s);
    let b = terminal.backend().buffer();
    for cell in &b.content {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    let y = find_row(b, "lowercase key").unwrap();
    let areas = layout::areas(b.area, false, Pane::Tail);
    assert!(
        b[(areas.tail.x + 2, y)]
            .modifier
            .contains(Modifier::REVERSED)
    );
}

/// `NO_COLOR` at 80x24, styles included: no colour anywhere, the focused
/// pane's border bold and the selection in reverse video.
#[test]
fn no_color_snapshot_keeps_focus_and_selection_visible() {
    let mut s = one_stream((80, 24), "demo/app-log", "text/plain", LOG);
    ch(&mut s, 'k');
    s.colours = crate::tui::state::Colours::Off;
    let terminal = render(&s);
    let b = terminal.backend().buffer();
    insta::assert_debug_snapshot!("no_color_styles_80x24", b);
    let areas = layout::areas(b.area, false, Pane::Tail);
    assert!(
        b[(areas.tail.x, areas.tail.y)]
            .modifier
            .contains(Modifier::BOLD),
        "the focused border stands out"
    );
}

/// The light theme at 80x24, styles included: every role's colour is the
/// theme's, none of the dark theme's ANSI colours is left.
#[test]
fn light_theme_snapshot_recolours_every_role() {
    use crate::config::{ThemeConfig, ThemeName};
    let mut s = one_stream((80, 24), "demo/app-log", "text/plain", LOG);
    ch(&mut s, 'k');
    s.palette = crate::tui::palette::Palette::from_config(&ThemeConfig {
        name: ThemeName::Light,
        ..ThemeConfig::default()
    });
    let terminal = render(&s);
    let b = terminal.backend().buffer();
    insta::assert_debug_snapshot!("light_theme_styles_80x24", b);
    for cell in &b.content {
        for c in [cell.fg, cell.bg] {
            assert!(
                !matches!(
                    c,
                    Color::Cyan
                        | Color::Yellow
                        | Color::Magenta
                        | Color::DarkGray
                ),
                "{cell:?}"
            );
        }
    }
    assert!(b.content.iter().any(|c| c.fg == Color::Indexed(25)));
}
