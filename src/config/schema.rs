//! The keys the config file accepts and what each takes, walked over the
//! parsed document so that every problem is reported at once, each with its
//! line, column and key and what would be accepted there.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One thing wrong in the file. `line` and `column` are 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    /// The dotted key, such as `tail.max_bytes` or `servers.prod.url`.
    pub key: String,
    pub message: String,
}

/// What a key takes.
enum Kind {
    Text,
    /// `true` or `false`.
    Bool,
    Url,
    /// An integer of at least 1.
    Positive,
    OneOf(&'static [&'static str]),
    /// A list of `"Name: value"` strings.
    Headers,
    /// A program and its arguments: a non-empty list of strings.
    Command,
    /// A colour: a name, `"#rrggbb"` or a 256-colour index.
    Colour,
    /// A list of strings, maybe empty.
    Strings,
    /// `[keys]`: scopes (nested tables) of `action = "key"` or
    /// `action = ["key", ...]`.
    Keys,
    Table(&'static [(&'static str, Kind)]),
    /// `[servers.NAME]` tables.
    Profiles,
}

/// The file's top level.
const TOP: &[(&str, Kind)] = &[
    ("headers", Kind::Headers),
    ("default_server", Kind::Text),
    ("tail", Kind::Table(TAIL)),
    ("keys", Kind::Keys),
    ("theme", Kind::Table(THEME)),
    ("servers", Kind::Profiles),
    ("inspector", Kind::Table(INSPECTOR)),
];

const INSPECTOR: &[(&str, Kind)] = &[
    ("max_requests", Kind::Positive),
    ("secret_headers", Kind::Strings),
];

const TAIL: &[(&str, Kind)] = &[
    ("max_messages", Kind::Positive),
    ("max_bytes", Kind::Positive),
    ("start", Kind::OneOf(&["resume", "beginning", "-1", "now"])),
    ("batch_headers", Kind::Bool),
];

const THEME: &[(&str, Kind)] = &[
    ("name", Kind::OneOf(&["dark", "light"])),
    ("accent", Kind::Colour),
    ("dim", Kind::Colour),
    ("error", Kind::Colour),
    ("warning", Kind::Colour),
    ("ok", Kind::Colour),
    ("offset", Kind::Colour),
    ("info", Kind::Colour),
    ("alert", Kind::Colour),
    ("text", Kind::Colour),
];

/// One `[servers.NAME]` table.
const PROFILE: &[(&str, Kind)] = &[
    ("url", Kind::Url),
    ("headers", Kind::Headers),
    ("auth", Kind::Text),
    ("auth_env", Kind::Text),
    ("auth_command", Kind::Command),
];

/// The ways a profile may get its `Authorization`; at most one is given.
const AUTH_KEYS: [&str; 3] = ["auth", "auth_env", "auth_command"];

/// Every problem of `doc` (parsed from `text`), in file order.
pub fn check(text: &str, doc: &DeTable<'_>) -> Vec<Problem> {
    let mut walk = Walk {
        text,
        problems: Vec::new(),
    };
    walk.table("", TOP, doc);
    if let Some(default) = doc.get("default_server")
        && let Some(name) = default.get_ref().as_str()
    {
        let known = doc
            .get("servers")
            .and_then(|s| s.get_ref().as_table())
            .is_some_and(|servers| servers.contains_key(name));
        if !known {
            walk.problem(
                default.span(),
                "default_server",
                format!("no [servers.{name}] table in this file"),
            );
        }
    }
    walk.problems.sort_by_key(|p| (p.line, p.column));
    walk.problems
}

struct Walk<'t> {
    text: &'t str,
    problems: Vec<Problem>,
}

impl Walk<'_> {
    fn problem(&mut self, span: Range<usize>, key: &str, message: String) {
        let (line, column) = super::line_column(self.text, span.start);
        self.problems.push(Problem {
            line,
            column,
            key: key.to_owned(),
            message,
        });
    }

    fn wrong(&mut self, key: &str, value: &Spanned<DeValue<'_>>, what: &str) {
        let found = value.get_ref().type_str();
        self.problem(
            value.span(),
            key,
            format!("expected {what}, found {found}"),
        );
    }

    fn table(
        &mut self,
        prefix: &str,
        fields: &[(&str, Kind)],
        table: &DeTable<'_>,
    ) {
        for (name, value) in table {
            let key = dotted(prefix, name.get_ref());
            let found =
                fields.iter().find(|(n, _)| *n == name.get_ref().as_ref());
            if let Some((_, kind)) = found {
                self.value(&key, kind, value);
                continue;
            }
            let known: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            let place = if prefix.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("in [{prefix}]")
            };
            self.problem(
                name.span(),
                &key,
                format!("unknown key; accepted {place}: {}", known.join(", ")),
            );
        }
    }

    fn value(&mut self, key: &str, kind: &Kind, value: &Spanned<DeValue<'_>>) {
        let v = value.get_ref();
        match kind {
            Kind::Text => {
                if v.as_str().is_none() {
                    self.wrong(key, value, "a string");
                }
            }
            Kind::Bool => {
                if v.as_bool().is_none() {
                    self.wrong(key, value, "true or false");
                }
            }
            Kind::Url => match v.as_str() {
                None => self.wrong(key, value, "a string (an http(s) URL)"),
                Some(url) => {
                    let ok = url::Url::parse(url).is_ok_and(|u| {
                        matches!(u.scheme(), "http" | "https")
                            && u.host().is_some()
                    });
                    if !ok {
                        self.problem(
                            value.span(),
                            key,
                            format!("{url:?} is not an http(s) URL"),
                        );
                    }
                }
            },
            Kind::Positive => {
                let n = v.as_integer().and_then(|i| {
                    i64::from_str_radix(i.as_str(), i.radix()).ok()
                });
                match n {
                    Some(n) if n >= 1 => {}
                    Some(n) => self.problem(
                        value.span(),
                        key,
                        format!("must be at least 1, not {n}"),
                    ),
                    None => self.wrong(key, value, "an integer of at least 1"),
                }
            }
            Kind::OneOf(choices) => {
                let quoted: Vec<String> =
                    choices.iter().map(|c| format!("{c:?}")).collect();
                let what = format!("one of {}", quoted.join(", "));
                match v.as_str() {
                    Some(s) if choices.contains(&s) => {}
                    Some(s) => self.problem(
                        value.span(),
                        key,
                        format!("{s:?} is not {what}"),
                    ),
                    None => self.wrong(key, value, &what),
                }
            }
            Kind::Headers => self.strings(key, value, true),
            Kind::Strings => self.strings(key, value, false),
            Kind::Command => {
                self.strings(key, value, false);
                if v.as_array().is_some_and(|a| a.is_empty()) {
                    self.problem(
                        value.span(),
                        key,
                        "expected a program and its arguments, such as \
                         [\"pass\", \"show\", \"ds/prod\"]; found an empty list"
                            .to_owned(),
                    );
                }
            }
            Kind::Colour => match v.as_str() {
                None => self.wrong(key, value, "a colour string"),
                Some(text) => {
                    if let Err(e) = super::Colour::parse(text) {
                        self.problem(value.span(), key, e);
                    }
                }
            },
            Kind::Keys => match v.as_table() {
                None => {
                    self.wrong(key, value, "a table of scope.action = \"key\"");
                }
                Some(table) => self.keys(key, table),
            },
            Kind::Table(fields) => match v.as_table() {
                None => self.wrong(key, value, "a table"),
                Some(table) => self.table(key, fields, table),
            },
            Kind::Profiles => match v.as_table() {
                None => self.wrong(key, value, "a table of [servers.NAME]"),
                Some(servers) => {
                    for (name, profile) in servers {
                        let key = dotted(key, name.get_ref());
                        self.profile(&key, name.span(), profile);
                    }
                }
            },
        }
    }

    fn profile(
        &mut self,
        key: &str,
        name_span: Range<usize>,
        profile: &Spanned<DeValue<'_>>,
    ) {
        let Some(table) = profile.get_ref().as_table() else {
            self.wrong(key, profile, "a table with url = \"http://...\"");
            return;
        };
        self.table(key, PROFILE, table);
        if !table.contains_key("url") {
            self.problem(
                name_span.clone(),
                key,
                "no url; a profile needs url = \"http://...\"".to_owned(),
            );
        }
        let given: Vec<&str> = AUTH_KEYS
            .into_iter()
            .filter(|k| table.contains_key(*k))
            .collect();
        if given.len() > 1 {
            self.problem(
                name_span,
                key,
                format!(
                    "{} given; use one of auth, auth_env, auth_command",
                    given.join(" and ")
                ),
            );
        }
    }

    /// A `[keys]` table: nested scopes, keys given as a string or a
    /// non-empty list of strings.
    fn keys(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (name, item) in table {
            let key = dotted(prefix, name.get_ref());
            match item.get_ref() {
                DeValue::Table(inner) => self.keys(&key, inner),
                DeValue::String(_) => {}
                DeValue::Array(items)
                    if !items.is_empty()
                        && items.iter().all(|i| i.get_ref().as_str().is_some()) => {}
                _ => self.wrong(
                    &key,
                    item,
                    "a key (\"q\", \"ctrl-c\", \"enter\") or a non-empty list of them",
                ),
            }
        }
    }

    /// A list of strings; `headers` also checks each is `"Name: value"`.
    fn strings(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        headers: bool,
    ) {
        let what = if headers {
            "a list of \"Name: value\" strings"
        } else {
            "a list of strings"
        };
        let Some(items) = value.get_ref().as_array() else {
            self.wrong(key, value, what);
            return;
        };
        for item in items {
            match item.get_ref().as_str() {
                None => self.wrong(key, item, what),
                Some(s) if headers && !is_header(s) => self.problem(
                    item.span(),
                    key,
                    format!("{s:?} is not \"Name: value\""),
                ),
                Some(_) => {}
            }
        }
    }
}

fn is_header(s: &str) -> bool {
    s.split_once(':').is_some_and(|(name, value)| {
        http::HeaderName::from_bytes(name.trim().as_bytes()).is_ok()
            && http::HeaderValue::from_str(value.trim()).is_ok()
    })
}

fn dotted(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The `[keys]` entries of a checked document, in file order, each with
/// its place: `tail.bookmark = "M"` is scope `tail`, action `bookmark`.
pub fn key_overrides(text: &str, doc: &DeTable<'_>) -> Vec<super::KeyOverride> {
    fn walk(
        text: &str,
        scope: &str,
        table: &DeTable<'_>,
        out: &mut Vec<super::KeyOverride>,
    ) {
        for (name, item) in table {
            let keys = match item.get_ref() {
                DeValue::Table(inner) => {
                    walk(text, &dotted(scope, name.get_ref()), inner, out);
                    continue;
                }
                DeValue::String(s) => vec![s.to_string()],
                DeValue::Array(items) => items
                    .iter()
                    .filter_map(|i| i.get_ref().as_str().map(str::to_owned))
                    .collect(),
                _ => continue,
            };
            let (line, column) = super::line_column(text, name.span().start);
            out.push(super::KeyOverride {
                scope: scope.to_owned(),
                action: name.get_ref().to_string(),
                keys,
                line,
                column,
            });
        }
    }
    let mut out = Vec::new();
    if let Some(DeValue::Table(keys)) = doc.get("keys").map(Spanned::get_ref) {
        walk(text, "", keys, &mut out);
    }
    out.sort_by_key(|k| (k.line, k.column));
    out
}
