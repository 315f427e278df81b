//! User intents that keys are bound to.

/// What a key asks for. The keymap maps keys to these per pane; `update`
/// carries them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    // Anywhere.
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Zoom,
    ToggleSidePanes,
    ModeSse,
    ModeLongPoll,
    ModeOff,
    ModeAuto,
    RefreshHead,
    RetryNow,
    CopyUrl,
    Compose,
    /// Open the protocol inspector.
    Inspector,
    // Lists and the tail.
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    // Stream list.
    Open,
    Filter,
    OpenPath,
    Create,
    Delete,
    // Tail.
    Follow,
    Detail,
    ToggleJsonStyle,
    Bookmark,
    Bookmarks,
    Jump,
    CopyMessage,
    CopyOffset,
    PauseFollow,
    ToggleWrap,
    ScrollLeft,
    ScrollRight,
    ToggleHeaders,
    // Search in the tail, and its line.
    Search,
    NextMatch,
    PrevMatch,
    ClearSearch,
    ToggleRegex,
    // Composer.
    Send,
    SendAndClose,
    CloseStream,
    CycleAppendMode,
    ToggleNewline,
    AppendSettings,
    /// Leave the composer; in the detail view and help, go back.
    Leave,
    // The detail view.
    ToggleFold,
    Collapse,
    Expand,
    FoldAll,
    UnfoldAll,
    CopyPath,
    // The inspector.
    CopyCurl,
    CopyCurlSecrets,
    // Dialogs and the filter line.
    /// Enter: do what the dialog is for (open, save, yes, ...).
    Submit,
    NextField,
    PrevField,
    /// Space on a form's toggle field.
    ToggleField,
    Rename,
    /// Delete the selected item of a list (a bookmark).
    DeleteItem,
    /// The resume dialog: read from the beginning instead.
    FromStart,
    /// The resume dialog: read only what comes next.
    FromNow,
}
