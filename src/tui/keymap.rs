//! Keys to actions, per pane, as data: the same table drives dispatch, the
//! help overlay and the status-bar hints, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::state::Pane;

/// A key with its modifiers (Shift is folded into the character).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every pane except while an editor has the keyboard.
    Global,
    Pane(Pane),
}

/// One row of the keymap.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub action: Action,
    /// What it does, for the help overlay.
    pub help: &'static str,
    /// Shown in the status bar when this pane has focus.
    pub hint: Option<&'static str>,
}

const fn b(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        hint,
    }
}

use Scope::{Global, Pane as P};

/// The default keymap.
#[rustfmt::skip]
pub const DEFAULT: &[Binding] = &[
    b(Global, &[k('q'), ctrl('c')], Action::Quit, "quit", Some("quit")),
    b(Global, &[k('?')], Action::Help, "help: every key of this pane", Some("help")),
    b(Global, &[code(KeyCode::Tab)], Action::FocusNext, "focus the next pane", None),
    b(Global, &[code(KeyCode::BackTab)], Action::FocusPrev, "focus the previous pane", None),
    b(Global, &[k('z')], Action::Zoom, "zoom the focused pane (again: unzoom)", None),
    b(Global, &[k('s')], Action::ToggleSidePanes, "hide / show the side panes (stream list, metadata)", None),
    b(Global, &[k('1')], Action::ModeSse, "live mode: SSE", None),
    b(Global, &[k('2')], Action::ModeLongPoll, "live mode: long-poll", None),
    b(Global, &[k('3')], Action::ModeOff, "live mode: off (catch-up only)", None),
    b(Global, &[k('4')], Action::ModeAuto, "live mode: auto", None),
    b(Global, &[k('r')], Action::RefreshHead, "refresh HEAD metadata", None),
    b(Global, &[k('R')], Action::RetryNow, "retry now (a failed or reconnecting stream)", None),
    b(Global, &[k('U')], Action::CopyUrl, "copy the stream URL", None),
    b(Global, &[k('a')], Action::Compose, "write an append (focus the composer)", Some("append")),
    b(P(Pane::Streams), &[code(KeyCode::Up), k('k')], Action::Up, "previous stream", None),
    b(P(Pane::Streams), &[code(KeyCode::Down), k('j')], Action::Down, "next stream", None),
    b(P(Pane::Streams), &[code(KeyCode::PageUp)], Action::PageUp, "page up", None),
    b(P(Pane::Streams), &[code(KeyCode::PageDown)], Action::PageDown, "page down", None),
    b(P(Pane::Streams), &[code(KeyCode::Home), k('g')], Action::Top, "first stream", None),
    b(P(Pane::Streams), &[code(KeyCode::End), k('G')], Action::Bottom, "last stream", None),
    b(P(Pane::Streams), &[code(KeyCode::Enter)], Action::Open, "open the selected stream", Some("open")),
    b(P(Pane::Streams), &[k('/')], Action::Filter, "filter the list (type; Enter keeps, Esc clears)", Some("filter")),
    b(P(Pane::Streams), &[k('o')], Action::OpenPath, "open a stream by path or URL", Some("open path")),
    b(P(Pane::Streams), &[k('n')], Action::Create, "create a stream", Some("new")),
    b(P(Pane::Streams), &[k('D'), code(KeyCode::Delete)], Action::Delete, "delete the selected stream (type its name)", Some("delete")),
    b(P(Pane::Tail), &[code(KeyCode::Up), k('k')], Action::Up, "previous row (pauses follow)", None),
    b(P(Pane::Tail), &[code(KeyCode::Down), k('j')], Action::Down, "next row", None),
    b(P(Pane::Tail), &[code(KeyCode::PageUp), ctrl('b')], Action::PageUp, "page up", None),
    b(P(Pane::Tail), &[code(KeyCode::PageDown), ctrl('f')], Action::PageDown, "page down", None),
    b(P(Pane::Tail), &[code(KeyCode::Home), k('g')], Action::Top, "oldest buffered row", None),
    b(P(Pane::Tail), &[k('f'), code(KeyCode::End), k('G')], Action::Follow, "follow: snap back to live", Some("follow")),
    b(P(Pane::Tail), &[k(' ')], Action::PauseFollow, "pause / resume follow where the view is (the selection stays)", None),
    b(P(Pane::Tail), &[k('w')], Action::ToggleWrap, "wrap long lines on / off (on for text and JSON)", None),
    b(P(Pane::Tail), &[code(KeyCode::Left), k('h'), k('<')], Action::ScrollLeft, "scroll long lines left (wrap off)", None),
    b(P(Pane::Tail), &[code(KeyCode::Right), k('l'), k('>')], Action::ScrollRight, "scroll long lines right (turns wrap off)", None),
    b(P(Pane::Tail), &[k('b')], Action::ToggleHeaders, "show / hide batch headers", None),
    b(P(Pane::Tail), &[code(KeyCode::Enter)], Action::Detail, "open the message in the detail view", Some("detail")),
    b(P(Pane::Tail), &[k('p')], Action::ToggleJsonStyle, "JSON: pretty / compact", Some("pretty")),
    b(P(Pane::Tail), &[k('m')], Action::Bookmark, "bookmark the selected message", Some("mark")),
    b(P(Pane::Tail), &[k('\'')], Action::Bookmarks, "bookmarks: jump, rename, delete", Some("marks")),
    b(P(Pane::Tail), &[k('J')], Action::Jump, "restart from the beginning, now or an offset", Some("jump")),
    b(P(Pane::Tail), &[k('y')], Action::CopyMessage, "copy the selected message", Some("copy")),
    b(P(Pane::Tail), &[k('Y')], Action::CopyOffset, "copy the offset where the selected batch starts", None),
    b(P(Pane::Meta), &[k('y')], Action::CopyOffset, "copy the next offset (whole)", Some("copy offset")),
    b(P(Pane::Composer), &[ctrl('s')], Action::Send, "append the text", Some("send")),
    b(P(Pane::Composer), &[ctrl('x')], Action::SendAndClose, "append the text and close the stream (asks)", None),
    b(P(Pane::Composer), &[ctrl('d')], Action::CloseStream, "close the stream without data (asks)", None),
    b(P(Pane::Composer), &[ctrl('p')], Action::CycleAppendMode, "plain / Stream-Seq / idempotent producer", Some("mode")),
    b(P(Pane::Composer), &[ctrl('o')], Action::AppendSettings, "set Stream-Seq, producer id and epoch", None),
    b(P(Pane::Composer), &[ctrl('l')], Action::ToggleNewline, "text streams: end each append with a newline (on) / as typed", None),
    b(P(Pane::Composer), &[code(KeyCode::Esc)], Action::Leave, "leave the composer (text stays)", Some("leave")),
    b(P(Pane::Composer), &[code(KeyCode::Tab)], Action::FocusNext, "focus the next pane (text stays)", None),
    b(P(Pane::Composer), &[code(KeyCode::BackTab)], Action::FocusPrev, "focus the previous pane", None),
    b(P(Pane::Composer), &[ctrl('c')], Action::Quit, "quit", Some("quit")),
];

impl Key {
    /// The key as a crossterm event would carry it.
    pub fn from_event(ev: &KeyEvent) -> Key {
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// How help and hints spell the key.
    pub fn label(self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

/// Looks a key up for the focused pane: the pane's own bindings first,
/// then the global ones unless an editor has the keyboard.
pub fn lookup(key: &KeyEvent, focus: Pane, editing: bool) -> Option<Action> {
    let key = Key::from_event(key);
    let pane = DEFAULT
        .iter()
        .filter(|b| b.scope == Scope::Pane(focus))
        .find(|b| b.keys.contains(&key));
    if let Some(b) = pane {
        return Some(b.action);
    }
    if editing {
        return None;
    }
    DEFAULT
        .iter()
        .filter(|b| b.scope == Scope::Global)
        .find(|b| b.keys.contains(&key))
        .map(|b| b.action)
}

/// The bindings that apply in `focus`, pane ones first. The composer is an
/// editor: no global key reaches it (its own Ctrl-C quits; `q` is text).
pub fn bindings_for(focus: Pane) -> Vec<&'static Binding> {
    let pane = DEFAULT
        .iter()
        .filter(move |b| b.scope == Scope::Pane(focus));
    let global = DEFAULT
        .iter()
        .filter(move |b| b.scope == Scope::Global && focus != Pane::Composer);
    pane.chain(global).collect()
}

/// Every key of a binding, joined for display (`↑/k`).
pub fn keys_label(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join("/")
}

/// The status-bar hints for `focus`: `key label` pairs.
pub fn hints(focus: Pane) -> Vec<(String, &'static str)> {
    bindings_for(focus)
        .into_iter()
        .filter_map(|b| Some((b.keys.first()?.label(), b.hint?)))
        .collect()
}

/// The keymap as markdown table rows (`| where | key | does |`), for the
/// README; a test keeps the README's table equal to these.
pub fn markdown_rows() -> Vec<String> {
    DEFAULT
        .iter()
        .map(|b| {
            let scope = match b.scope {
                Scope::Global => "anywhere",
                Scope::Pane(p) => p.title(),
            };
            let keys = b
                .keys
                .iter()
                .map(|k| format!("`{}`", k.label().replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join(" ");
            format!("| {scope} | {keys} | {} |", b.help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn the_readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        let rows = markdown_rows();
        let missing: Vec<_> = rows
            .iter()
            .filter(|r| !readme.contains(r.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "README's key table is stale; it should have these rows:\n{}",
            rows.join("\n")
        );
    }

    #[test]
    fn pane_bindings_win_over_global_ones() {
        assert_eq!(
            lookup(&key('y'), Pane::Tail, false),
            Some(Action::CopyMessage)
        );
        assert_eq!(
            lookup(&key('y'), Pane::Meta, false),
            Some(Action::CopyOffset)
        );
        assert_eq!(lookup(&key('q'), Pane::Tail, false), Some(Action::Quit));
    }

    #[test]
    fn editors_only_see_their_own_bindings() {
        assert_eq!(lookup(&key('q'), Pane::Composer, true), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&ctrl_c, Pane::Composer, true), Some(Action::Quit));
    }

    #[test]
    fn no_key_is_bound_twice_in_one_pane() {
        for pane in Pane::ALL {
            let mut seen = Vec::new();
            for b in DEFAULT.iter().filter(|b| b.scope == Scope::Pane(pane)) {
                for k in b.keys {
                    assert!(!seen.contains(k), "{pane:?}: {k:?} twice");
                    seen.push(*k);
                }
            }
        }
        let mut seen = Vec::new();
        for b in DEFAULT.iter().filter(|b| b.scope == Scope::Global) {
            for k in b.keys {
                assert!(!seen.contains(k), "global: {k:?} twice");
                seen.push(*k);
            }
        }
    }

    #[test]
    fn the_composer_shows_no_key_that_types_text() {
        let keys: Vec<String> = bindings_for(Pane::Composer)
            .iter()
            .flat_map(|b| b.keys.iter().map(|k| k.label()))
            .collect();
        assert!(!keys.contains(&"q".to_owned()), "{keys:?}");
        assert!(hints(Pane::Composer).contains(&("Ctrl-C".into(), "quit")));
        // What help and hints offer is what the keys do.
        for b in bindings_for(Pane::Composer) {
            for k in b.keys {
                let mods = if k.ctrl {
                    KeyModifiers::CONTROL
                } else {
                    KeyModifiers::NONE
                };
                let ev = KeyEvent::new(k.code, mods);
                assert_eq!(lookup(&ev, Pane::Composer, true), Some(b.action));
            }
        }
    }

    #[test]
    fn help_and_hints_come_from_the_table() {
        let help: Vec<_> =
            bindings_for(Pane::Tail).iter().map(|b| b.action).collect();
        assert!(help.contains(&Action::Bookmark));
        assert!(help.contains(&Action::Quit));
        assert!(
            hints(Pane::Tail)
                .iter()
                .any(|(k, h)| k == "m" && *h == "mark")
        );
        assert_eq!(
            Key::from_event(&KeyEvent::new(
                KeyCode::Char('s'),
                KeyModifiers::CONTROL
            ))
            .label(),
            "Ctrl-S"
        );
    }
}
