//! Keys to actions, per scope, as a value: a [`Keymap`] is built from the
//! defaults (the table below; the config's `[keys]` will override it) and
//! kept in `State`. The same value drives dispatch, the help overlay, the
//! status-bar hints and the README's key table, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::pane::Pane;

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
    /// The detail view of one message (an overlay over every pane).
    Detail,
    /// The help overlay.
    Help,
}

impl Scope {
    /// How help and the README name the scope.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "anywhere",
            Scope::Pane(p) => p.title(),
            Scope::Detail => "Detail view",
            Scope::Help => "Help",
        }
    }
}

/// One binding of a keymap: keys in a scope to an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub keys: Vec<Key>,
    pub action: Action,
    /// What it does, for the help overlay.
    pub help: &'static str,
    /// Shown in the status bar when this pane has focus.
    pub hint: Option<&'static str>,
}

/// A row of the default table.
struct Row {
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
}

const fn b(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Row {
    Row {
        scope,
        keys,
        action,
        help,
        hint,
    }
}

use Scope::{Detail as D, Global, Help as H, Pane as P};

/// The default keymap.
#[rustfmt::skip]
const DEFAULT: &[Row] = &[
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
    b(P(Pane::Tail), &[k('|')], Action::FilterTail, "filter the tail: jq on JSON, lines on text", None),
    b(P(Pane::Tail), &[code(KeyCode::Esc)], Action::ClearFilter, "clear the tail's filter (everything shows again)", None),
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
    b(D, &[code(KeyCode::Up), k('k')], Action::Up, "previous line", None),
    b(D, &[code(KeyCode::Down), k('j')], Action::Down, "next line", None),
    b(D, &[code(KeyCode::PageUp)], Action::PageUp, "page up", None),
    b(D, &[code(KeyCode::PageDown), k(' ')], Action::PageDown, "page down", None),
    b(D, &[code(KeyCode::Home), k('g')], Action::Top, "first line", None),
    b(D, &[code(KeyCode::End), k('G')], Action::Bottom, "last line", None),
    b(D, &[code(KeyCode::Enter), code(KeyCode::Tab)], Action::ToggleFold, "fold / unfold the value under the cursor (JSON)", None),
    b(D, &[code(KeyCode::Left), k('h')], Action::Collapse, "collapse, or go to the parent", None),
    b(D, &[code(KeyCode::Right), k('l')], Action::Expand, "expand", None),
    b(D, &[k('-')], Action::FoldAll, "fold everything", None),
    b(D, &[k('+')], Action::UnfoldAll, "unfold everything", None),
    b(D, &[k('w')], Action::ToggleWrap, "wrap long lines on / off", None),
    b(D, &[k('<')], Action::ScrollLeft, "scroll long lines left (wrap off)", None),
    b(D, &[k('>')], Action::ScrollRight, "scroll long lines right (turns wrap off)", None),
    b(D, &[k('y')], Action::CopyMessage, "copy the value under the cursor", Some("copy")),
    b(D, &[k('Y')], Action::CopyPath, "copy its path (shown at the bottom left)", None),
    b(D, &[k('?')], Action::Help, "the detail view's keys", Some("keys")),
    b(D, &[code(KeyCode::Esc)], Action::Leave, "back to the tail", Some("back")),
    b(D, &[k('q')], Action::Quit, "quit", None),
    b(H, &[code(KeyCode::Up), k('k')], Action::Up, "scroll up", None),
    b(H, &[code(KeyCode::Down), k('j')], Action::Down, "scroll down", None),
    b(H, &[code(KeyCode::PageUp)], Action::PageUp, "page up", None),
    b(H, &[code(KeyCode::PageDown), k(' ')], Action::PageDown, "page down", None),
    b(H, &[code(KeyCode::Home), k('g')], Action::Top, "top", None),
    b(H, &[code(KeyCode::End), k('G')], Action::Bottom, "end", None),
    b(H, &[code(KeyCode::Esc), k('?')], Action::Leave, "close the help", None),
    b(H, &[k('q')], Action::Quit, "quit", None),
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

/// The effective keymap: what every key does in every scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    /// The built-in bindings.
    fn default() -> Keymap {
        Keymap {
            bindings: DEFAULT
                .iter()
                .map(|r| Binding {
                    scope: r.scope,
                    keys: r.keys.to_vec(),
                    action: r.action,
                    help: r.help,
                    hint: r.hint,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// Every binding, in table order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The bindings of `scope` exactly, in table order.
    pub fn in_scope(&self, scope: Scope) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.scope == scope)
    }

    /// What `key` does in `scope` (no fallback to global keys).
    pub fn lookup_in(&self, scope: Scope, key: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(key);
        self.in_scope(scope)
            .find(|b| b.keys.contains(&key))
            .map(|b| b.action)
    }

    /// Looks a key up for the focused pane: the pane's own bindings first,
    /// then the global ones unless an editor has the keyboard.
    pub fn lookup(
        &self,
        key: &KeyEvent,
        focus: Pane,
        editing: bool,
    ) -> Option<Action> {
        self.lookup_in(Scope::Pane(focus), key).or_else(|| {
            (!editing)
                .then(|| self.lookup_in(Scope::Global, key))
                .flatten()
        })
    }

    /// The bindings that apply in `focus`, pane ones first. The composer is
    /// an editor: no global key reaches it (its own Ctrl-C quits; `q` is
    /// text).
    pub fn bindings_for(&self, focus: Pane) -> Vec<&Binding> {
        let global = self
            .in_scope(Scope::Global)
            .filter(move |_| focus != Pane::Composer);
        self.in_scope(Scope::Pane(focus)).chain(global).collect()
    }

    /// The status-bar hints for `focus`: `key label` pairs.
    pub fn hints(&self, focus: Pane) -> Vec<(String, &'static str)> {
        hints_of(self.bindings_for(focus))
    }

    /// The hints of `scope` alone (the detail view's footer).
    pub fn scope_hints(&self, scope: Scope) -> Vec<(String, &'static str)> {
        hints_of(self.in_scope(scope).collect())
    }

    /// Binds `action` in `scope` to `keys` instead of its default keys (the
    /// config's `[keys]` is read into calls of this). Refused, with the
    /// keymap unchanged, when the scope has no such action or a key is
    /// already another action's there (or, for a pane, a global key's).
    pub fn rebind(
        &mut self,
        scope: Scope,
        action: Action,
        keys: Vec<Key>,
    ) -> Result<(), String> {
        let Some(i) = self
            .bindings
            .iter()
            .position(|b| b.scope == scope && b.action == action)
        else {
            return Err(format!("{}: no action {action:?}", scope.title()));
        };
        let clashes = |b: &Binding| {
            let shared = b.scope == scope
                || (matches!(scope, Scope::Pane(_))
                    && b.scope == Scope::Global)
                || (scope == Scope::Global
                    && matches!(b.scope, Scope::Pane(_)));
            shared
                && b.action != action
                && b.keys.iter().any(|k| keys.contains(k))
        };
        if let Some(other) = self.bindings.iter().find(|b| clashes(b)) {
            return Err(format!(
                "{}: {} is already {:?} ({})",
                scope.title(),
                keys_label(&Binding {
                    keys: keys.clone(),
                    ..other.clone()
                }),
                other.action,
                other.scope.title()
            ));
        }
        self.bindings[i].keys = keys;
        Ok(())
    }

    /// The keymap as markdown table rows (`| where | key | does |`), for the
    /// README; a test keeps the README's table equal to the defaults' rows.
    pub fn markdown_rows(&self) -> Vec<String> {
        self.bindings
            .iter()
            .map(|b| {
                let keys = b
                    .keys
                    .iter()
                    .map(|k| format!("`{}`", k.label().replace('|', "\\|")))
                    .collect::<Vec<_>>()
                    .join(" ");
                format!("| {} | {keys} | {} |", b.scope.title(), b.help)
            })
            .collect()
    }
}

fn hints_of(bindings: Vec<&Binding>) -> Vec<(String, &'static str)> {
    bindings
        .into_iter()
        .filter_map(|b| Some((b.keys.first()?.label(), b.hint?)))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn the_readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        let rows = Keymap::default().markdown_rows();
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
    fn a_rebound_key_changes_lookup_and_help_and_clashes_are_refused() {
        let mut map = Keymap::default();
        map.rebind(Scope::Detail, Action::ToggleWrap, vec![k('W')])
            .unwrap();
        assert_eq!(map.lookup_in(Scope::Detail, &key('w')), None);
        assert_eq!(
            map.lookup_in(Scope::Detail, &key('W')),
            Some(Action::ToggleWrap)
        );
        let wrap = map
            .in_scope(Scope::Detail)
            .find(|b| b.action == Action::ToggleWrap)
            .unwrap();
        assert_eq!(keys_label(wrap), "W");
        // `y` is the detail view's copy: refused, nothing changed.
        let before = map.clone();
        let err = map
            .rebind(Scope::Detail, Action::FoldAll, vec![k('y')])
            .unwrap_err();
        assert!(err.contains("CopyMessage"), "{err}");
        assert_eq!(map, before);
        // A pane key may not shadow a global one by accident.
        assert!(
            map.rebind(Scope::Pane(Pane::Tail), Action::Bookmark, vec![k('q')])
                .is_err()
        );
        assert!(map.rebind(Scope::Help, Action::Send, vec![k('x')]).is_err());
    }

    #[test]
    fn pane_bindings_win_over_global_ones() {
        let map = Keymap::default();
        assert_eq!(
            map.lookup(&key('y'), Pane::Tail, false),
            Some(Action::CopyMessage)
        );
        assert_eq!(
            map.lookup(&key('y'), Pane::Meta, false),
            Some(Action::CopyOffset)
        );
        assert_eq!(
            map.lookup(&key('q'), Pane::Tail, false),
            Some(Action::Quit)
        );
    }

    #[test]
    fn editors_only_see_their_own_bindings() {
        let map = Keymap::default();
        assert_eq!(map.lookup(&key('q'), Pane::Composer, true), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            map.lookup(&ctrl_c, Pane::Composer, true),
            Some(Action::Quit)
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_pane() {
        let map = Keymap::default();
        for scope in [Scope::Detail, Scope::Help] {
            let mut seen = Vec::new();
            for b in map.in_scope(scope) {
                for k in &b.keys {
                    assert!(!seen.contains(k), "{scope:?}: {k:?} twice");
                    seen.push(*k);
                }
            }
        }
        for pane in Pane::ALL {
            let mut seen = Vec::new();
            for b in map.in_scope(Scope::Pane(pane)) {
                for k in &b.keys {
                    assert!(!seen.contains(k), "{pane:?}: {k:?} twice");
                    seen.push(*k);
                }
            }
        }
        let mut seen = Vec::new();
        for b in map.in_scope(Scope::Global) {
            for k in &b.keys {
                assert!(!seen.contains(k), "global: {k:?} twice");
                seen.push(*k);
            }
        }
    }

    #[test]
    fn the_composer_shows_no_key_that_types_text() {
        let map = Keymap::default();
        let keys: Vec<String> = map
            .bindings_for(Pane::Composer)
            .iter()
            .flat_map(|b| b.keys.iter().map(|k| k.label()))
            .collect();
        assert!(!keys.contains(&"q".to_owned()), "{keys:?}");
        assert!(
            map.hints(Pane::Composer)
                .contains(&("Ctrl-C".into(), "quit"))
        );
        // What help and hints offer is what the keys do.
        for b in map.bindings_for(Pane::Composer) {
            for k in &b.keys {
                let mods = if k.ctrl {
                    KeyModifiers::CONTROL
                } else {
                    KeyModifiers::NONE
                };
                let ev = KeyEvent::new(k.code, mods);
                assert_eq!(
                    map.lookup(&ev, Pane::Composer, true),
                    Some(b.action)
                );
            }
        }
    }

    #[test]
    fn help_and_hints_come_from_the_table() {
        let map = Keymap::default();
        let help: Vec<_> = map
            .bindings_for(Pane::Tail)
            .iter()
            .map(|b| b.action)
            .collect();
        assert!(help.contains(&Action::Bookmark));
        assert!(help.contains(&Action::Quit));
        assert!(
            map.hints(Pane::Tail)
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
