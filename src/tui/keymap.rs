//! Keys to actions, per scope, as a value: a [`Keymap`] is built from the
//! defaults (the table below; the config's `[keys]` will override it) and
//! kept in `State`. The same value drives dispatch, the help overlay, the
//! status-bar hints and the README's key table, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::pane::Pane;
use crate::config::{KeyOverride, Problem};

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
    /// The tail's search line (`/`): other keys edit the query.
    SearchLine,
    /// The protocol inspector (full screen).
    Inspector,
    /// The stream list's filter line while it is typed (other keys type).
    FilterLine,
    /// A dialog (keys not bound here edit its text fields).
    Dialog(Form),
}

/// The dialogs, each a scope of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Open,
    Jump,
    BookmarkName,
    Bookmarks,
    /// Renaming a bookmark inside the bookmarks dialog.
    Rename,
    Create,
    Delete,
    Confirm,
    Resume,
    AppendSettings,
}

impl Form {
    pub const ALL: [Form; 10] = [
        Form::Open,
        Form::Jump,
        Form::BookmarkName,
        Form::Bookmarks,
        Form::Rename,
        Form::Create,
        Form::Delete,
        Form::Confirm,
        Form::Resume,
        Form::AppendSettings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Form::Open => "Open dialog",
            Form::Jump => "Jump dialog",
            Form::BookmarkName => "Bookmark-name dialog",
            Form::Bookmarks => "Bookmarks dialog",
            Form::Rename => "Bookmark rename",
            Form::Create => "Create dialog",
            Form::Delete => "Delete dialog",
            Form::Confirm => "Confirmations",
            Form::Resume => "Resume dialog",
            Form::AppendSettings => "Append-settings dialog",
        }
    }
}

impl Scope {
    /// Every scope, in the order the README lists them.
    pub fn all() -> Vec<Scope> {
        let mut all = vec![Scope::Global];
        all.extend(Pane::ALL.map(Scope::Pane));
        all.extend([
            Scope::Detail,
            Scope::Help,
            Scope::Inspector,
            Scope::FilterLine,
            Scope::SearchLine,
        ]);
        all.extend(Form::ALL.map(Scope::Dialog));
        all
    }

    /// How the config file's `[keys]` names the scope (`tail`,
    /// `dialog.bookmarks`).
    pub fn config_name(self) -> String {
        match self {
            Scope::Global => "global".into(),
            Scope::Pane(Pane::Streams) => "streams".into(),
            Scope::Pane(Pane::Tail) => "tail".into(),
            Scope::Pane(Pane::Meta) => "meta".into(),
            Scope::Pane(Pane::Composer) => "composer".into(),
            Scope::Detail => "detail".into(),
            Scope::Help => "help".into(),
            Scope::Inspector => "inspector".into(),
            Scope::FilterLine => "filter".into(),
            Scope::SearchLine => "search".into(),
            Scope::Dialog(f) => format!("dialog.{}", snake(&format!("{f:?}"))),
        }
    }

    /// How help and the README name the scope.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "anywhere",
            Scope::Pane(p) => p.title(),
            Scope::Detail => "Detail view",
            Scope::Help => "Help",
            Scope::SearchLine => "Search line",
            Scope::Inspector => "Inspector",
            Scope::FilterLine => "Stream filter line",
            Scope::Dialog(f) => f.title(),
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

use Form as F;
use Scope::{
    Detail as D, Dialog as Dl, FilterLine as FL, Global, Help as H,
    Inspector as I, Pane as P, SearchLine as S,
};

const ENTER: Key = code(KeyCode::Enter);
const ESC: Key = code(KeyCode::Esc);
const TAB: Key = code(KeyCode::Tab);
const BACKTAB: Key = code(KeyCode::BackTab);
const UP: Key = code(KeyCode::Up);
const DOWN: Key = code(KeyCode::Down);

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
    b(Global, &[k('i')], Action::Inspector, "protocol inspector: every HTTP request made, live", None),
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
    b(P(Pane::Tail), &[k('/')], Action::Search, "search the buffered messages (type; Ctrl-R regex; smart case)", Some("search")),
    b(P(Pane::Tail), &[k('n')], Action::NextMatch, "next match (wraps)", None),
    b(P(Pane::Tail), &[k('N')], Action::PrevMatch, "previous match (wraps; from the live end: the newest)", None),
    b(P(Pane::Tail), &[code(KeyCode::Esc)], Action::ClearSearch, "stop a search under way; again: clear the search", None),
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
    b(D, &[code(KeyCode::Enter), code(KeyCode::Tab)], Action::ToggleFold, "fold / unfold the value under the cursor (JSON)", Some("fold")),
    b(D, &[code(KeyCode::Left), k('h')], Action::Collapse, "collapse, or go to the parent", Some("collapse")),
    b(D, &[code(KeyCode::Right), k('l')], Action::Expand, "expand", Some("expand")),
    b(D, &[k('-')], Action::FoldAll, "fold everything", None),
    b(D, &[k('+')], Action::UnfoldAll, "unfold everything", None),
    b(D, &[k('w')], Action::ToggleWrap, "wrap long lines on / off", None),
    b(D, &[k('<')], Action::ScrollLeft, "scroll long lines left (wrap off)", None),
    b(D, &[k('>')], Action::ScrollRight, "scroll long lines right (turns wrap off)", None),
    b(D, &[k('y')], Action::CopyMessage, "copy the value under the cursor", Some("copy value")),
    b(D, &[k('Y')], Action::CopyPath, "copy its path (shown at the bottom left)", Some("copy path")),
    b(D, &[k('?')], Action::Help, "the detail view's keys", Some("help")),
    b(D, &[code(KeyCode::Esc)], Action::Leave, "back to the tail", Some("back")),
    b(D, &[k('q')], Action::Quit, "quit", None),
    b(S, &[ENTER], Action::Submit, "search for the query (empty: no search)", Some("search")),
    b(S, &[ctrl('r')], Action::ToggleRegex, "plain text / regex", Some("regex")),
    b(S, &[ESC], Action::Leave, "clear the search (and stop it)", Some("clear")),
    b(I, &[code(KeyCode::Up), k('k')], Action::Up, "previous request (stops following) / scroll up", None),
    b(I, &[code(KeyCode::Down), k('j')], Action::Down, "next request / scroll down", None),
    b(I, &[code(KeyCode::PageUp)], Action::PageUp, "page up", None),
    b(I, &[code(KeyCode::PageDown)], Action::PageDown, "page down", None),
    b(I, &[code(KeyCode::Home), k('g')], Action::Top, "oldest request kept", None),
    b(I, &[code(KeyCode::End), k('G'), k('f')], Action::Follow, "newest request, and follow new ones", Some("follow")),
    b(I, &[code(KeyCode::Enter)], Action::Detail, "open the request: all its request and response headers", Some("headers")),
    b(I, &[k('y')], Action::CopyCurl, "copy the request as a curl command line, secrets redacted", Some("curl")),
    b(I, &[k('Y')], Action::CopyCurlSecrets, "copy it as a curl command line with its secrets (asks first)", None),
    b(I, &[code(KeyCode::Esc), k('i')], Action::Leave, "back to the list, then to the panes", Some("back")),
    b(I, &[k('q')], Action::Quit, "quit", None),
    b(H, &[code(KeyCode::Up), k('k')], Action::Up, "scroll up", Some("scroll")),
    b(H, &[code(KeyCode::Down), k('j')], Action::Down, "scroll down", None),
    b(H, &[code(KeyCode::PageUp)], Action::PageUp, "page up", None),
    b(H, &[code(KeyCode::PageDown), k(' ')], Action::PageDown, "page down", None),
    b(H, &[code(KeyCode::Home), k('g')], Action::Top, "top", None),
    b(H, &[code(KeyCode::End), k('G')], Action::Bottom, "end", None),
    b(H, &[code(KeyCode::Esc), k('?')], Action::Leave, "close the help", Some("close help")),
    b(H, &[k('q')], Action::Quit, "quit", Some("quit")),
    b(FL, &[ENTER], Action::Submit, "keep the filter (opens the stream if only one matches)", Some("keep filter")),
    b(FL, &[ESC], Action::Leave, "clear the filter", Some("clear filter")),
    b(FL, &[UP], Action::Up, "previous stream", None),
    b(FL, &[DOWN], Action::Down, "next stream", None),
    b(Dl(F::Open), &[ENTER], Action::Submit, "open the stream typed", Some("open")),
    b(Dl(F::Open), &[ESC], Action::Leave, "cancel", Some("cancel")),
    b(Dl(F::Jump), &[ENTER], Action::Submit, "restart the tail there", Some("the tail restarts there")),
    b(Dl(F::Jump), &[ESC], Action::Leave, "cancel (the tail stays)", Some("cancel")),
    b(Dl(F::BookmarkName), &[ENTER], Action::Submit, "save the bookmark", Some("save")),
    b(Dl(F::BookmarkName), &[ESC], Action::Leave, "cancel", Some("cancel")),
    b(Dl(F::Bookmarks), &[UP, k('k')], Action::Up, "previous bookmark", None),
    b(Dl(F::Bookmarks), &[DOWN, k('j')], Action::Down, "next bookmark", None),
    b(Dl(F::Bookmarks), &[ENTER], Action::Submit, "jump there (the tail restarts there)", Some("jump")),
    b(Dl(F::Bookmarks), &[k('r')], Action::Rename, "rename the bookmark", Some("rename")),
    b(Dl(F::Bookmarks), &[k('d'), code(KeyCode::Delete)], Action::DeleteItem, "delete the bookmark", Some("delete")),
    b(Dl(F::Bookmarks), &[ESC, k('q')], Action::Leave, "close the list", Some("close")),
    b(Dl(F::Rename), &[ENTER], Action::Submit, "save the new name", Some("save")),
    b(Dl(F::Rename), &[ESC], Action::Leave, "stop renaming (the name stays)", Some("cancel")),
    b(Dl(F::Create), &[TAB, DOWN], Action::NextField, "next field", Some("next field")),
    b(Dl(F::Create), &[BACKTAB, UP], Action::PrevField, "previous field", None),
    b(Dl(F::Create), &[k(' ')], Action::ToggleField, "toggle `closed` (on that field; elsewhere Space is text)", None),
    b(Dl(F::Create), &[ENTER], Action::Submit, "create the stream", Some("create")),
    b(Dl(F::Create), &[ESC], Action::Leave, "cancel", Some("cancel")),
    b(Dl(F::Delete), &[ENTER], Action::Submit, "delete, once the name typed matches", Some("delete")),
    b(Dl(F::Delete), &[ESC], Action::Leave, "cancel", Some("cancel")),
    b(Dl(F::Confirm), &[k('y'), ENTER, k('Y')], Action::Submit, "yes", Some("yes")),
    b(Dl(F::Confirm), &[k('n'), ESC, k('N'), k('q')], Action::Leave, "no", Some("no")),
    b(Dl(F::Resume), &[k('y'), ENTER, k('r')], Action::Submit, "resume where you left", Some("resume there")),
    b(Dl(F::Resume), &[k('b')], Action::FromStart, "read from the beginning", Some("from the beginning")),
    b(Dl(F::Resume), &[k('t'), k('n')], Action::FromNow, "from now (new messages only)", Some("from now")),
    b(Dl(F::Resume), &[ESC], Action::Leave, "close without reading (J starts the tail)", None),
    b(Dl(F::AppendSettings), &[TAB, DOWN], Action::NextField, "next field", Some("next field")),
    b(Dl(F::AppendSettings), &[BACKTAB, UP], Action::PrevField, "previous field", None),
    b(Dl(F::AppendSettings), &[ENTER], Action::Submit, "save the settings", Some("save")),
    b(Dl(F::AppendSettings), &[ESC], Action::Leave, "cancel", Some("cancel")),
];

/// `CopyMessage` → `copy_message`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// How the config file's `[keys]` names an action (`copy_message`).
pub fn action_name(action: Action) -> String {
    snake(&format!("{action:?}"))
}

/// Named keys as the config file spells them (any case).
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("shift-tab", KeyCode::BackTab),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pgup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("backspace", KeyCode::Backspace),
    ("space", KeyCode::Char(' ')),
];

impl Key {
    /// Reads a key as the config file writes it: one character (`"m"`,
    /// `"G"`, `"/"`), a name (`"enter"`, `"pageup"`, `"f5"`, `"space"`)
    /// or `"ctrl-"` and a character (`"ctrl-c"`).
    pub fn parse(text: &str) -> Result<Key, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("ctrl-")
            && let [c] = rest.chars().collect::<Vec<_>>()[..]
            && c.is_ascii_graphic()
        {
            return Ok(ctrl(c));
        }
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && !c.is_control()
        {
            return Ok(k(c));
        }
        if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
            return Ok(Key {
                code: *code,
                ctrl: false,
            });
        }
        if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse().ok())
            && (1..=12).contains(&n)
        {
            return Ok(code(KeyCode::F(n)));
        }
        Err(format!(
            "{text:?} is not a key; write one character (\"m\", \"G\"), \
             ctrl-X, or one of enter, esc, tab, backtab, up, down, left, \
             right, pageup, pagedown, home, end, delete, backspace, space, \
             f1 to f12"
        ))
    }

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
        let mut candidate = self.bindings[i].clone();
        candidate.keys = keys;
        if let Some(other) = self.clash(i, &candidate) {
            return Err(clash_text(&candidate, other));
        }
        self.bindings[i] = candidate;
        Ok(())
    }

    /// Another binding that shares a key of `binding` (put at `index`)
    /// where both apply.
    fn clash(&self, index: usize, binding: &Binding) -> Option<&Binding> {
        self.bindings.iter().enumerate().find_map(|(j, b)| {
            let shared = b.scope == binding.scope
                || (matches!(binding.scope, Scope::Pane(_))
                    && b.scope == Scope::Global)
                || (binding.scope == Scope::Global
                    && matches!(b.scope, Scope::Pane(_)));
            (j != index
                && shared
                && b.action != binding.action
                && b.keys.iter().any(|k| binding.keys.contains(k)))
            .then_some(b)
        })
    }

    /// Applies the config's `[keys]`: every entry whose scope, action and
    /// keys are known and that takes no key from another action is bound;
    /// each other one is a problem (with its line) and keeps its default.
    /// Entries are applied together, so two actions may swap keys.
    pub fn apply(&mut self, overrides: &[KeyOverride]) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut changed: Vec<(usize, &KeyOverride)> = Vec::new();
        for o in overrides {
            let Some(scope) = Scope::all()
                .into_iter()
                .find(|s| s.config_name() == o.scope)
            else {
                let names: Vec<String> =
                    Scope::all().iter().map(|s| s.config_name()).collect();
                problems.push(o.problem(format!(
                    "no scope {:?}; the scopes are {}",
                    o.scope,
                    names.join(", ")
                )));
                continue;
            };
            let Some(i) = self.bindings.iter().position(|b| {
                b.scope == scope && action_name(b.action) == o.action
            }) else {
                let names: Vec<String> = self
                    .in_scope(scope)
                    .map(|b| action_name(b.action))
                    .collect();
                problems.push(o.problem(format!(
                    "no action {:?} in {}; it has {}",
                    o.action,
                    o.scope,
                    names.join(", ")
                )));
                continue;
            };
            let keys: Result<Vec<Key>, String> =
                o.keys.iter().map(|k| Key::parse(k)).collect();
            match keys {
                Err(e) => problems.push(o.problem(e)),
                Ok(keys) if keys.is_empty() => {
                    problems.push(o.problem("no key given"));
                }
                Ok(keys) => {
                    if changed.iter().any(|(j, _)| *j == i) {
                        problems
                            .push(o.problem("given twice; the first is kept"));
                        continue;
                    }
                    self.bindings[i].keys = keys;
                    changed.push((i, o));
                }
            }
        }
        // A changed binding that shares a key with another action goes
        // back to its defaults, until none does (each round undoes one).
        let defaults = Keymap::default();
        for _ in 0..=changed.len() {
            let Some(pos) = changed.iter().position(|(i, _)| {
                self.clash(*i, &self.bindings[*i]).is_some()
            }) else {
                break;
            };
            let (i, o) = changed.remove(pos);
            let text = self
                .clash(i, &self.bindings[i])
                .map(|other| clash_text(&self.bindings[i], other))
                .unwrap_or_default();
            problems.push(o.problem(format!("{text}; the default is kept")));
            self.bindings[i].keys.clone_from(&defaults.bindings[i].keys);
        }
        problems.sort_by_key(|p| (p.line, p.column));
        problems
    }

    /// The keymap as markdown table rows (`| where | key | does | [keys]
    /// name |`), for the
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
                format!(
                    "| {} | {keys} | {} | `{}.{}` |",
                    b.scope.title(),
                    b.help,
                    b.scope.config_name(),
                    action_name(b.action)
                )
            })
            .collect()
    }
}

fn clash_text(binding: &Binding, other: &Binding) -> String {
    let shared: Vec<Key> = binding
        .keys
        .iter()
        .copied()
        .filter(|k| other.keys.contains(k))
        .collect();
    format!(
        "{}: {} is already {} ({})",
        binding.scope.title(),
        keys_label(&Binding {
            keys: shared,
            ..other.clone()
        }),
        action_name(other.action),
        other.scope.config_name()
    )
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
        assert!(err.contains("copy_message"), "{err}");
        assert_eq!(map, before);
        // A pane key may not shadow a global one by accident.
        assert!(
            map.rebind(Scope::Pane(Pane::Tail), Action::Bookmark, vec![k('q')])
                .is_err()
        );
        assert!(map.rebind(Scope::Help, Action::Send, vec![k('x')]).is_err());
    }

    fn overrides(text: &str) -> Vec<KeyOverride> {
        crate::config::Config::parse(std::path::Path::new("c.toml"), text)
            .unwrap()
            .keys
    }

    fn keys_of(map: &Keymap, scope: Scope, action: Action) -> String {
        keys_label(map.in_scope(scope).find(|b| b.action == action).unwrap())
    }

    #[test]
    fn the_config_keys_rebind_swap_and_nest() {
        let mut map = Keymap::default();
        let problems = map.apply(&overrides(
            r#"
[keys]
global.quit = ["Q", "ctrl-c"]
tail.bookmark = "y"
tail.copy_message = "m"
[keys.dialog.bookmarks]
rename = "R"
delete_item = ["x", "delete"]
[keys.detail]
fold_all = "f5"
"#,
        ));
        assert_eq!(problems, []);
        assert_eq!(keys_of(&map, Scope::Global, Action::Quit), "Q/Ctrl-C");
        // A swap: each takes the other's key.
        assert_eq!(
            keys_of(&map, Scope::Pane(Pane::Tail), Action::Bookmark),
            "y"
        );
        assert_eq!(
            map.lookup(&key('m'), Pane::Tail, false),
            Some(Action::CopyMessage)
        );
        let bookmarks = Scope::Dialog(Form::Bookmarks);
        assert_eq!(keys_of(&map, bookmarks, Action::Rename), "R");
        assert_eq!(keys_of(&map, bookmarks, Action::DeleteItem), "x/Del");
        assert_eq!(keys_of(&map, Scope::Detail, Action::FoldAll), "F5");
        // What help and the footer show follows.
        assert!(map.hints(Pane::Streams).contains(&("Q".into(), "quit")));
    }

    #[test]
    fn bad_config_keys_are_reported_at_their_line_and_keep_the_default() {
        let mut map = Keymap::default();
        let problems = map.apply(&overrides(
            r#"[keys]
tial.bookmark = "M"
tail.bokmark = "M"
tail.jump = "ctrl-"
tail.bookmark = "y"
global.zoom = "Z"
"#,
        ));
        let said: Vec<(usize, &str, &str)> = problems
            .iter()
            .map(|p| (p.line, p.key.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(said.len(), 4, "{said:#?}");
        assert_eq!(said[0].0, 2);
        assert!(said[0].2.contains("no scope \"tial\""), "{}", said[0].2);
        assert!(said[0].2.contains("dialog.bookmarks"), "{}", said[0].2);
        assert!(said[1].2.contains("no action \"bokmark\""), "{}", said[1].2);
        assert!(said[1].2.contains("copy_message"), "{}", said[1].2);
        assert!(said[2].2.contains("not a key"), "{}", said[2].2);
        assert_eq!((said[3].0, said[3].1), (5, "keys.tail.bookmark"));
        assert!(said[3].2.contains("already copy_message"), "{}", said[3].2);
        assert!(said[3].2.contains("default is kept"), "{}", said[3].2);
        // The good entry is applied, the bad ones changed nothing.
        assert_eq!(keys_of(&map, Scope::Global, Action::Zoom), "Z");
        assert_eq!(
            keys_of(&map, Scope::Pane(Pane::Tail), Action::Bookmark),
            "m"
        );
        assert_eq!(keys_of(&map, Scope::Pane(Pane::Tail), Action::Jump), "J");
        // A pane key may not take a global one.
        let problems = map.apply(&overrides("[keys]\ntail.bookmark = \"q\"\n"));
        assert!(
            problems[0].message.contains("already quit (global)"),
            "{problems:?}"
        );
    }

    #[test]
    fn keys_parse_as_the_config_writes_them() {
        assert_eq!(Key::parse("ctrl-C"), Ok(ctrl('c')));
        assert_eq!(Key::parse("G"), Ok(k('G')));
        assert_eq!(Key::parse("/"), Ok(k('/')));
        assert_eq!(Key::parse("Enter"), Ok(code(KeyCode::Enter)));
        assert_eq!(Key::parse("space"), Ok(k(' ')));
        assert_eq!(Key::parse("f12"), Ok(code(KeyCode::F(12))));
        assert!(Key::parse("f13").is_err());
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("").is_err());
        // Every default key reads back from the way the README names it.
        for b in Keymap::default().bindings() {
            for key in &b.keys {
                let spelled = match key.code {
                    KeyCode::Char(' ') => "space".to_owned(),
                    KeyCode::Char(c) if key.ctrl => format!("ctrl-{c}"),
                    KeyCode::Char(c) => c.to_string(),
                    KeyCode::F(n) => format!("f{n}"),
                    other => format!("{other:?}"),
                };
                assert_eq!(Key::parse(&spelled), Ok(*key), "{spelled}");
            }
        }
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
        for scope in [Scope::Detail, Scope::Help, Scope::Inspector] {
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
        for scope in Form::ALL
            .into_iter()
            .map(Scope::Dialog)
            .chain([Scope::FilterLine, Scope::SearchLine])
        {
            let mut seen = Vec::new();
            for b in map.in_scope(scope) {
                for k in &b.keys {
                    assert!(!seen.contains(k), "{scope:?}: {k:?} twice");
                    seen.push(*k);
                }
            }
            // Every dialog can be left and does something.
            assert!(
                map.in_scope(scope).any(|b| b.action == Action::Leave),
                "{scope:?} has no way out"
            );
            assert!(
                map.in_scope(scope).any(|b| b.action == Action::Submit),
                "{scope:?} does nothing"
            );
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
