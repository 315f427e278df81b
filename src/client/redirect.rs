//! Redirects, which the client follows itself (its `reqwest` client is built
//! with redirects off) so that a server cannot turn a write into a read
//! elsewhere or carry the user's headers to another origin:
//!
//! - A write (PUT, POST, DELETE: create, fork, append, close, delete and
//!   producer appends) never follows a redirect: it fails with
//!   [`Error::Redirect`](super::Error::Redirect), which shows the status and
//!   the `Location`.
//! - A read (GET, HEAD) follows 301, 302, 303, 307 and 308 within its own
//!   origin (scheme, host and port), at most [`MAX_REDIRECTS`] hops; a URL
//!   seen before in the same chain is a loop. Neither is retried.
//! - A read follows a redirect to another origin only when the client was
//!   built with
//!   [`follow_cross_origin_redirects`](super::ClientBuilder::follow_cross_origin_redirects),
//!   and from then on sends only the protocol's own headers: no default,
//!   dynamic or per-call header, no `Authorization`.

use http::{HeaderMap, Method, StatusCode};

use super::error::bounded_message;
use super::redact::redact_url;

/// Most redirects one read follows before it gives up.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect was not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectRefusal {
    /// The request was a write (PUT, POST or DELETE).
    Write,
    /// The target is on another origin and the client does not follow
    /// those.
    CrossOrigin,
    /// The target was already visited in this chain.
    Loop,
    /// More than [`MAX_REDIRECTS`] hops.
    TooMany,
    /// No `Location`, or one that is not an `http(s)` URL.
    BadLocation,
}

impl std::fmt::Display for RedirectRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedirectRefusal::Write => {
                "a write is never redirected; use the new URL if you trust it"
            }
            RedirectRefusal::CrossOrigin => {
                "it leads to another origin; use that URL directly if you \
                 trust it"
            }
            RedirectRefusal::Loop => "the redirects loop",
            RedirectRefusal::TooMany => "too many redirects",
            RedirectRefusal::BadLocation => "the Location is not an http URL",
        })
    }
}

/// What to do with a redirect response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hop {
    /// Send the request to this URL; `strip` means the user's headers must
    /// not go with it (the chain has left the first origin).
    Follow { url: url::Url, strip: bool },
    /// Fail with this reason and the (display-safe) location.
    Refuse(RedirectRefusal, String),
}

/// Whether `status` is a redirect the client may follow.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The redirects of one request so far.
pub(crate) struct Chain {
    origin: url::Origin,
    visited: Vec<url::Url>,
    crossed: bool,
}

impl Chain {
    pub fn new(first: &url::Url) -> Self {
        Chain {
            origin: first.origin(),
            visited: vec![first.clone()],
            crossed: false,
        }
    }

    /// Decides on a redirect from `current` whose response had `headers`.
    pub fn next(
        &mut self,
        method: &Method,
        current: &url::Url,
        headers: &HeaderMap,
        allow_cross_origin: bool,
    ) -> Hop {
        let raw = headers
            .get(http::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let target = raw.as_deref().and_then(|l| current.join(l.trim()).ok());
        let shown = match (&target, &raw) {
            (Some(url), _) => display_location(url.as_str()),
            (None, Some(raw)) => display_location(raw),
            (None, None) => "(no Location)".to_owned(),
        };
        if !matches!(*method, Method::GET | Method::HEAD) {
            return Hop::Refuse(RedirectRefusal::Write, shown);
        }
        let Some(mut target) = target.filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host().is_some()
        }) else {
            return Hop::Refuse(RedirectRefusal::BadLocation, shown);
        };
        target.set_fragment(None);
        let cross = target.origin() != self.origin;
        if cross && !allow_cross_origin {
            return Hop::Refuse(RedirectRefusal::CrossOrigin, shown);
        }
        if self.visited.contains(&target) {
            return Hop::Refuse(RedirectRefusal::Loop, shown);
        }
        if self.visited.len() > MAX_REDIRECTS {
            return Hop::Refuse(RedirectRefusal::TooMany, shown);
        }
        self.crossed |= cross;
        self.visited.push(target.clone());
        Hop::Follow {
            url: target,
            strip: self.crossed,
        }
    }
}

/// A server-given location as safe, bounded text: secrets redacted, control
/// characters escaped.
fn display_location(location: &str) -> String {
    let redacted = redact_url(location);
    let escaped: String = redacted
        .chars()
        .flat_map(|c| {
            let escape = c.is_control();
            let mut out = Vec::new();
            if escape {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
            out
        })
        .collect();
    bounded_message(&escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    fn location(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(http::header::LOCATION, value.parse().unwrap());
        map
    }

    #[test]
    fn writes_are_refused_with_the_location() {
        let from = url("http://h:1/s");
        for method in [Method::PUT, Method::POST, Method::DELETE] {
            let hop =
                Chain::new(&from).next(&method, &from, &location("/t"), true);
            assert_eq!(
                hop,
                Hop::Refuse(RedirectRefusal::Write, "http://h:1/t".into())
            );
        }
    }

    #[test]
    fn reads_stay_on_their_origin() {
        let from = url("http://h:1/s");
        let mut chain = Chain::new(&from);
        assert_eq!(
            chain.next(&Method::GET, &from, &location("/t?x=1"), false),
            Hop::Follow {
                url: url("http://h:1/t?x=1"),
                strip: false
            }
        );
        for other in ["http://h:2/t", "https://h:1/t", "http://g:1/t"] {
            assert_eq!(
                Chain::new(&from).next(
                    &Method::HEAD,
                    &from,
                    &location(other),
                    false
                ),
                Hop::Refuse(RedirectRefusal::CrossOrigin, other.into())
            );
        }
    }

    #[test]
    fn crossing_when_allowed_strips_from_then_on() {
        let from = url("http://h:1/s");
        let mut chain = Chain::new(&from);
        let hop =
            chain.next(&Method::GET, &from, &location("http://g/t"), true);
        assert_eq!(
            hop,
            Hop::Follow {
                url: url("http://g/t"),
                strip: true
            }
        );
        // Back on the first origin, the chain is still tainted.
        let hop = chain.next(
            &Method::GET,
            &url("http://g/t"),
            &location("http://h:1/u"),
            true,
        );
        assert_eq!(
            hop,
            Hop::Follow {
                url: url("http://h:1/u"),
                strip: true
            }
        );
    }

    #[test]
    fn loops_and_long_chains_end() {
        let from = url("http://h/s");
        let mut chain = Chain::new(&from);
        assert!(matches!(
            chain.next(&Method::GET, &from, &location("/s"), false),
            Hop::Refuse(RedirectRefusal::Loop, _)
        ));
        let mut chain = Chain::new(&from);
        let mut current = from.clone();
        let mut refused = None;
        for hop in 0..=MAX_REDIRECTS + 1 {
            match chain.next(
                &Method::GET,
                &current,
                &location(&format!("/s{hop}")),
                false,
            ) {
                Hop::Follow { url, .. } => current = url,
                Hop::Refuse(why, _) => {
                    refused = Some((hop, why));
                    break;
                }
            }
        }
        assert_eq!(refused, Some((MAX_REDIRECTS, RedirectRefusal::TooMany)));
    }

    #[test]
    fn bad_locations_are_refused_and_shown_safely() {
        let from = url("http://h/s");
        assert!(matches!(
            Chain::new(&from).next(
                &Method::GET,
                &from,
                &HeaderMap::new(),
                true
            ),
            Hop::Refuse(RedirectRefusal::BadLocation, _)
        ));
        assert!(matches!(
            Chain::new(&from).next(
                &Method::GET,
                &from,
                &location("ftp://h/x"),
                true
            ),
            Hop::Refuse(RedirectRefusal::BadLocation, _)
        ));
        let Hop::Refuse(_, shown) = Chain::new(&from).next(
            &Method::POST,
            &from,
            &location("http://u:pw@h/t?token=abc"),
            true,
        ) else {
            panic!("a write is refused");
        };
        assert!(!shown.contains("pw") && !shown.contains("abc"), "{shown}");
        assert_eq!(display_location("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
    }
}
