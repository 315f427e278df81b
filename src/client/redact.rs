//! Secrets out of URLs and headers before they are shown: [`redact_url`],
//! [`redact_header`].

/// Query parameters kept as they are: the protocol's own, which carry no
/// secret and help to read an error.
const PLAIN_PARAMS: [&str; 3] = ["offset", "live", "cursor"];

/// What replaces a secret.
pub const REDACTED: &str = "***";

/// `url` with its secrets replaced by `***`, for display in messages, logs
/// and on screen: the userinfo (`user:password@`) and the value of every
/// query parameter except the protocol's `offset`, `live` and `cursor`
/// (so `?token=abc&offset=5` shows as `?token=***&offset=5`). Text that is
/// not an absolute URL is returned unchanged except for a `user:pass@`
/// prefix before the first `/`, which is redacted too.
///
/// Every error message the client produces passes its URLs through this;
/// callers showing a URL of their own (a title, a bookmark, a log line)
/// should too. The URL used for requests is never changed.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.has_host() => redact_parsed(&parsed),
        _ => redact_loose(url),
    }
}

/// Headers whose values are always secret.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether a header's value is secret: `Authorization`,
/// `Proxy-Authorization`, `Cookie`, `Set-Cookie`, or one of `also` (names
/// the user marked secret), in any case.
pub fn is_secret_header(name: &str, also: &[String]) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
        || also.iter().any(|s| s.trim().eq_ignore_ascii_case(name))
}

/// A header's value as it may be shown: a secret one (see
/// [`is_secret_header`]) as its type and length only, `Bearer *** (41
/// chars)` or `*** (12 chars)`, never any of the value; others as they
/// are. Every place dsx shows a request's or response's headers (the
/// explorer's protocol inspector, a copied `curl` line) uses this.
pub fn redact_header(name: &str, value: &str, also: &[String]) -> String {
    if !is_secret_header(name, also) {
        return value.to_owned();
    }
    let value = value.trim();
    // An auth scheme is one token of letters, digits and `-` before the
    // credentials (`Bearer abc`, `Basic xyz`); a cookie has none.
    let scheme = value.split_once(' ').filter(|(scheme, rest)| {
        !rest.trim().is_empty()
            && scheme.len() <= 20
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let (scheme, secret) = match scheme {
        Some((scheme, rest)) => (Some(scheme), rest.trim()),
        None => (None, value),
    };
    let chars = secret.chars().count();
    let unit = if chars == 1 { "char" } else { "chars" };
    match scheme {
        Some(scheme) => format!("{scheme} {REDACTED} ({chars} {unit})"),
        None => format!("{REDACTED} ({chars} {unit})"),
    }
}

fn redact_parsed(url: &url::Url) -> String {
    let mut out = url.clone();
    if !out.username().is_empty() {
        let _ = out.set_username(REDACTED);
    }
    if out.password().is_some() {
        let _ = out.set_password(Some(REDACTED));
    }
    if let Some(query) = url.query() {
        out.set_query(Some(&redact_query(query)));
    }
    out.to_string()
}

/// `k=v&k2=v2` with the values of non-protocol keys replaced, the text
/// otherwise left as it was (no re-encoding).
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if PLAIN_PARAMS.contains(&key) => pair.to_owned(),
            Some((key, _)) => format!("{key}={REDACTED}"),
            None => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// For text that does not parse as a URL: redact `user:pass@` in the
/// authority and every query value.
fn redact_loose(text: &str) -> String {
    let (head, query) = match text.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (text, None),
    };
    let (scheme, rest) = match head.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, head),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => format!("{REDACTED}{}", &rest[at..]),
        None => rest.to_owned(),
    };
    let mut out = String::new();
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    out.push_str(&rest);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_query(query));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_query_values_are_hidden() {
        assert_eq!(
            redact_url("http://alice:s3cret@h:8/v1/s?token=abc&offset=0_5"),
            "http://***:***@h:8/v1/s?token=***&offset=0_5"
        );
        assert_eq!(
            redact_url("https://bob@h/s?live=sse&cursor=c1&key=k"),
            "https://***@h/s?live=sse&cursor=c1&key=***"
        );
    }

    #[test]
    fn secret_headers_show_type_and_length_only() {
        let token = "t0ps3cr3t-0123456789-0123456789-012345678";
        let shown =
            redact_header("Authorization", &format!("Bearer {token}"), &[]);
        assert_eq!(shown, "Bearer *** (41 chars)");
        assert_eq!(
            redact_header("authorization", "Basic dTpw", &[]),
            "Basic *** (4 chars)"
        );
        assert_eq!(
            redact_header("AUTHORIZATION", token, &[]),
            "*** (41 chars)"
        );
        assert_eq!(
            redact_header("Cookie", "session=abc; theme=dark", &[]),
            "*** (23 chars)"
        );
        assert_eq!(
            redact_header("set-cookie", "id=a; Path=/", &[]),
            "*** (12 chars)"
        );
        assert_eq!(
            redact_header("Proxy-Authorization", "x", &[]),
            "*** (1 char)"
        );
        let also = vec!["X-Api-Key".to_owned()];
        assert_eq!(redact_header("x-api-key", "k3y", &also), "*** (3 chars)");
        assert_eq!(redact_header("x-api-key", "k3y", &[]), "k3y");
        assert_eq!(
            redact_header("Content-Type", "application/json", &also),
            "application/json"
        );
        for (name, value) in [
            ("Authorization", format!("Bearer {token}")),
            ("Cookie", format!("s={token}")),
        ] {
            assert!(!redact_header(name, &value, &[]).contains("t0p"));
        }
    }

    #[test]
    fn plain_urls_are_unchanged() {
        for plain in [
            "http://h/v1/stream/s",
            "http://127.0.0.1:4437/s?offset=-1&live=long-poll",
        ] {
            assert_eq!(redact_url(plain), plain);
        }
    }

    #[test]
    fn text_that_is_not_a_url_is_redacted_too() {
        assert_eq!(redact_url("u:p@h/s?token=t"), "***@h/s?token=***");
        assert_eq!(redact_url("orders"), "orders");
        assert_eq!(redact_url("http://u:p@[bad/s"), "http://***@[bad/s");
    }
}
