//! Subscription patterns: `*` is one path segment, `**` zero or more.

/// Whether the stream path `path` matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_from(&pat, &segs)
}

fn match_from(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => {
            (0..=segs.len()).any(|skip| match_from(rest, &segs[skip..]))
        }
        Some((p, rest)) => match segs.split_first() {
            Some((s, more)) => segment(p, s) && match_from(rest, more),
            None => false,
        },
    }
}

/// One segment: `*` alone matches any segment; `*` inside a segment
/// matches any run of characters there.
fn segment(pat: &str, seg: &str) -> bool {
    if pat == "*" {
        return !seg.is_empty();
    }
    let mut parts = pat.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = seg.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn one_star_is_one_segment() {
        assert!(matches("events/*", "events/abc"));
        assert!(!matches("events/*", "events/a/b"));
        assert!(!matches("events/*", "events"));
        assert!(!matches("events/*", "other/abc"));
    }

    #[test]
    fn double_star_is_any_number_of_segments() {
        assert!(matches("events/**", "events"));
        assert!(matches("events/**", "events/a/b/c"));
        assert!(matches("**/log", "a/b/log"));
        assert!(matches("**", "anything/at/all"));
        assert!(!matches("events/**/x", "events/a/y"));
    }

    #[test]
    fn star_inside_a_segment() {
        assert!(matches("events/user-*", "events/user-42"));
        assert!(!matches("events/user-*", "events/admin-1"));
        assert!(matches("exact/path", "exact/path"));
    }
}
