//! The stream list: what the registry, the command line, recent history and
//! bookmarks say exists, with a type-to-filter query.

/// Where a stream in the list came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools, reason = "independent sources")]
pub struct Sources {
    pub registry: bool,
    pub command_line: bool,
    pub recent: bool,
    pub bookmarked: bool,
}

/// One row of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path under the base URL (what the registry names).
    pub path: String,
    pub content_type: Option<String>,
    /// From the last HEAD; `None` until one answered.
    pub closed: Option<bool>,
    /// The last HEAD failed with this status (404: gone).
    pub missing: Option<u16>,
    pub sources: Sources,
}

/// What is known about the server's `__registry__` stream.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Registry {
    #[default]
    Loading,
    Live,
    /// The server keeps none (404).
    Absent,
    Failed(String),
}

/// The stream list pane.
#[derive(Clone, Debug, Default)]
pub struct Streams {
    /// Sorted by path.
    pub entries: Vec<Entry>,
    pub filter: String,
    /// The filter line has the keyboard.
    pub filtering: bool,
    /// Index into `visible()`.
    pub selected: usize,
    pub registry: Registry,
    /// Paths marked with Space, for a merged tail (`T`).
    pub marked: std::collections::BTreeSet<String>,
}

impl Streams {
    /// Indices of the entries that match the filter (case-insensitive
    /// substring of the path or the content type).
    pub fn visible(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches(e, &needle))
            .map(|(i, _)| i)
            .collect()
    }

    /// The selected entry's path, to keep it selected through a change.
    pub fn selected_path(&self) -> Option<String> {
        self.selected_entry().map(|e| e.path.clone())
    }

    /// Changes the filter; the selected stream stays selected when it
    /// still matches (else the first row is).
    pub fn set_filter(&mut self, filter: String) {
        let keep = self.selected_path();
        self.filter = filter;
        self.selected = 0;
        if let Some(path) = keep {
            self.select_path(&path);
        }
        self.clamp();
    }

    /// The selected entry, if the filtered list is not empty.
    pub fn selected_entry(&self) -> Option<&Entry> {
        let visible = self.visible();
        let i =
            *visible.get(self.selected.min(visible.len().checked_sub(1)?))?;
        self.entries.get(i)
    }

    /// Marks the selected stream, or unmarks it if marked; returns whether
    /// it is marked now.
    pub fn toggle_mark(&mut self) -> Option<bool> {
        let path = self.selected_path()?;
        if self.marked.remove(&path) {
            return Some(false);
        }
        self.marked.insert(path);
        Some(true)
    }

    /// Adds or updates a stream; returns its entry.
    pub fn upsert(&mut self, path: &str) -> &mut Entry {
        let i = match self
            .entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
        {
            Ok(i) => i,
            Err(i) => {
                // A row inserted above the selection moves it down with
                // the stream it is on.
                let needle = self.filter.to_lowercase();
                let above = if needle.is_empty() {
                    i
                } else {
                    self.entries[..i]
                        .iter()
                        .filter(|e| matches(e, &needle))
                        .count()
                };
                let shown =
                    needle.is_empty() || path.to_lowercase().contains(&needle);
                if shown && !self.entries.is_empty() && above <= self.selected {
                    self.selected += 1;
                }
                self.entries.insert(
                    i,
                    Entry {
                        path: path.to_owned(),
                        content_type: None,
                        closed: None,
                        missing: None,
                        sources: Sources::default(),
                    },
                );
                i
            }
        };
        &mut self.entries[i]
    }

    /// Finds a stream by path.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Entry> {
        let i = self
            .entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()?;
        self.entries.get_mut(i)
    }

    /// Removes a stream the registry reported deleted, unless bookmarked
    /// (a row only opened or named on the command line names nothing that
    /// exists any more).
    pub fn remove_from_registry(&mut self, path: &str) {
        if let Some(e) = self.get_mut(path) {
            e.sources.registry = false;
        }
        self.forget_missing(path, 404);
    }

    /// A stream is known not to exist (404, 410): its row goes unless a
    /// bookmark or the registry still names it; a kept row says "gone".
    pub fn forget_missing(&mut self, path: &str, status: u16) {
        let Some(e) = self.get_mut(path) else {
            return;
        };
        e.missing = Some(status);
        let s = e.sources;
        if s.bookmarked || s.registry {
            return;
        }
        let keep = self.selected_path().filter(|p| p != path);
        self.entries.retain(|e| e.path != path);
        if let Some(p) = keep {
            self.select_path(&p);
        }
        self.clamp();
    }

    pub fn select_next(&mut self, by: usize) {
        self.selected = self.selected.saturating_add(by);
        self.clamp();
    }

    pub fn select_prev(&mut self, by: usize) {
        self.selected = self.selected.saturating_sub(by);
    }

    /// Keeps the selection inside the filtered list.
    pub fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    /// Selects `path` if it is visible.
    pub fn select_path(&mut self, path: &str) {
        if let Some(pos) = self
            .visible()
            .iter()
            .position(|&i| self.entries[i].path == path)
        {
            self.selected = pos;
        }
    }
}

/// Whether `e` matches a lower-cased filter.
fn matches(e: &Entry, needle: &str) -> bool {
    needle.is_empty()
        || e.path.to_lowercase().contains(needle)
        || e.content_type
            .as_deref()
            .is_some_and(|c| c.to_lowercase().contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(paths: &[&str]) -> Streams {
        let mut s = Streams::default();
        for p in paths {
            s.upsert(p).sources.registry = true;
        }
        s
    }

    #[test]
    fn entries_stay_sorted_and_unique() {
        let mut s = list(&["b", "a", "c", "a"]);
        s.upsert("b").content_type = Some("text/plain".into());
        let paths: Vec<_> = s.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "b", "c"]);
    }

    #[test]
    fn filter_matches_path_or_content_type_case_insensitively() {
        let mut s = list(&["demo/orders", "demo/app-log", "other"]);
        s.upsert("other").content_type = Some("application/JSON".into());
        s.filter = "ORD".into();
        assert_eq!(s.visible(), vec![1]);
        s.filter = "json".into();
        assert_eq!(s.visible(), vec![2]);
        s.filter = "zzz".into();
        assert!(s.selected_entry().is_none());
    }

    #[test]
    fn selection_is_clamped_to_the_filtered_list() {
        let mut s = list(&["a", "b", "c"]);
        s.select_next(10);
        assert_eq!(s.selected, 2);
        s.filter = "a".into();
        s.clamp();
        assert_eq!(s.selected_entry().unwrap().path, "a");
        s.select_prev(5);
        assert_eq!(s.selected, 0);
    }

    #[test]
    fn deleted_streams_leave_unless_named_elsewhere() {
        let mut s = list(&["a", "b"]);
        s.upsert("b").sources.bookmarked = true;
        s.remove_from_registry("a");
        s.remove_from_registry("b");
        assert_eq!(s.entries.len(), 1);
        assert_eq!(s.entries[0].missing, Some(404));
    }
}
