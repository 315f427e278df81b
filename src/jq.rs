//! jq filters over JSON messages, through jaq: compiled once, run per
//! message, each output printed as compact JSON.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

/// The compiled program type: jaq's own values, no extra data.
type Program = jaq_core::Filter<data::JustLut<Val>>;

/// A jq filter that failed to compile, or failed on one message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JqError {
    /// The filter does not parse or names something undefined.
    #[error("invalid jq filter: {0}")]
    Compile(String),
    /// The message is not JSON jaq can read.
    #[error("message is not valid JSON: {0}")]
    Input(String),
    /// The filter raised an error on this message (`error`, a type error).
    #[error("jq error: {0}")]
    Run(String),
    /// The message nests arrays and objects deeper than [`MAX_DEPTH`]:
    /// jaq reads, runs and writes values recursively, so deeper ones
    /// would overflow the stack and abort the whole process.
    #[error(
        "message nests arrays and objects deeper than {MAX_DEPTH} levels; \
         the filter was not run on it"
    )]
    TooDeep,
}

/// The deepest nesting of arrays and objects a message may have for the
/// filter to run on it. jq's own parser stops at 10,000; here the value is
/// held to what a 2 MiB thread stack survives in a debug build (reading,
/// filtering and writing are each recursive).
pub const MAX_DEPTH: usize = 512;

/// A compiled jq filter.
pub struct Filter {
    program: Program,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter").finish_non_exhaustive()
    }
}

impl Filter {
    /// Parses and compiles `src` with jq's standard library.
    pub fn compile(src: &str) -> Result<Filter, JqError> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(
                &arena,
                File {
                    code: src,
                    path: (),
                },
            )
            .map_err(|errors| {
                let mut parts = Vec::new();
                for (_, error) in errors {
                    describe_load_error(src, &error, &mut parts);
                }
                JqError::Compile(join_or(&parts, "cannot parse the filter"))
            })?;
        let program = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let parts: Vec<String> = errors
                    .iter()
                    .flat_map(|(_, undefined)| undefined)
                    .map(|(name, what)| {
                        format!(
                            "undefined {} `{name}` at {}",
                            what.as_str(),
                            position(src, name)
                        )
                    })
                    .collect();
                JqError::Compile(join_or(&parts, "cannot compile the filter"))
            })?;
        Ok(Filter { program })
    }

    /// Runs the filter on one JSON message; returns each output as compact
    /// JSON (no newline inside). A runtime error fails the whole message.
    pub fn run(&self, message: &[u8]) -> Result<Vec<String>, JqError> {
        if nests_deeper_than(message, MAX_DEPTH) {
            return Err(JqError::TooDeep);
        }
        let input = jaq_json::read::parse_single(message)
            .map_err(|e| JqError::Input(e.to_string()))?;
        let ctx =
            Ctx::<data::JustLut<Val>>::new(&self.program.lut, Vars::new([]));
        let compact = jaq_json::write::Pp::default();
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for value in self.program.id.run((ctx, input)).map(unwrap_valr) {
            let value = value.map_err(|e| JqError::Run(e.to_string()))?;
            buf.clear();
            jaq_json::write::write(&mut buf, &compact, 0, &value)
                .expect("writing to a Vec cannot fail");
            out.push(String::from_utf8_lossy(&buf).into_owned());
        }
        Ok(out)
    }
}

/// What a filter makes of one message, as the explorer's live filter
/// shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No output was truthy (none at all, or only `false` / `null`).
    Hidden,
    /// Shown as it is: every output was a boolean or the message itself
    /// (`select(...)`, a predicate such as `.level == "error"`).
    Raw,
    /// Shown as what the filter yields instead (a projection), each
    /// output as compact JSON.
    Projected(Vec<String>),
}

impl Filter {
    /// Runs the filter on one message for the explorer: shown when some
    /// output is truthy, as itself or as the outputs (see [`Outcome`]).
    pub fn eval(&self, message: &[u8]) -> Result<Outcome, JqError> {
        if nests_deeper_than(message, MAX_DEPTH) {
            return Err(JqError::TooDeep);
        }
        let input = jaq_json::read::parse_single(message)
            .map_err(|e| JqError::Input(e.to_string()))?;
        let ctx =
            Ctx::<data::JustLut<Val>>::new(&self.program.lut, Vars::new([]));
        let mut outputs = Vec::new();
        for value in self.program.id.run((ctx, input.clone())).map(unwrap_valr)
        {
            outputs.push(value.map_err(|e| JqError::Run(e.to_string()))?);
        }
        if !outputs.iter().any(jaq_core::ValT::as_bool) {
            return Ok(Outcome::Hidden);
        }
        if outputs
            .iter()
            .all(|v| matches!(v, Val::Bool(_)) || *v == input)
        {
            return Ok(Outcome::Raw);
        }
        let compact = jaq_json::write::Pp::default();
        let mut buf = Vec::new();
        let texts = outputs
            .iter()
            .map(|v| {
                buf.clear();
                jaq_json::write::write(&mut buf, &compact, 0, v)
                    .expect("writing to a Vec cannot fail");
                String::from_utf8_lossy(&buf).into_owned()
            })
            .collect();
        Ok(Outcome::Projected(texts))
    }
}

impl JqError {
    /// Where a compile error is, as a 1-based character column of the
    /// filter, when the error names one.
    pub fn column(&self) -> Option<usize> {
        let JqError::Compile(text) = self else {
            return None;
        };
        let at = text.find("at character ")? + "at character ".len();
        let digits: String = text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

/// Whether `json` has more than `limit` arrays and objects open at once
/// (brackets inside strings do not count). One pass, no recursion.
fn nests_deeper_than(json: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn describe_load_error(
    src: &str,
    error: &jaq_core::load::Error<&str>,
    parts: &mut Vec<String>,
) {
    use jaq_core::load::Error;
    match error {
        Error::Io(items) => {
            for (path, why) in items {
                parts.push(format!("cannot load module {path}: {why}"));
            }
        }
        Error::Lex(items) => {
            for (expected, at) in items {
                parts.push(format!(
                    "expected {} at {}",
                    expected.as_str(),
                    position(src, at)
                ));
            }
        }
        Error::Parse(items) => {
            for (expected, at) in items {
                parts.push(format!(
                    "expected {} at {}",
                    expected.as_str(),
                    position(src, at)
                ));
            }
        }
    }
}

/// Where `part` (a slice of `src`) starts, as "character N" (1-based) or
/// "end of filter".
fn position(src: &str, part: &str) -> String {
    let start = (part.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize);
    if start >= src.len() {
        return "end of filter".to_owned();
    }
    let chars = src[..start].chars().count();
    format!("character {}", chars + 1)
}

fn join_or(parts: &[String], fallback: &str) -> String {
    if parts.is_empty() {
        fallback.to_owned()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(filter: &str, input: &str) -> Vec<String> {
        Filter::compile(filter)
            .unwrap()
            .run(input.as_bytes())
            .unwrap()
    }

    #[test]
    fn a_filter_can_move_between_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        send_sync(&Filter::compile(".").unwrap());
    }

    #[test]
    fn outputs_are_compact_json() {
        assert_eq!(run(".", "{ \"a\" :\n 1 }"), [r#"{"a":1}"#]);
        assert_eq!(run(".a", r#"{"a":"x\ny"}"#), [r#""x\ny""#]);
        assert_eq!(run(".[]", "[1, 2, 3]"), ["1", "2", "3"]);
        assert!(run("empty", "1").is_empty());
        assert_eq!(run("map(. * 2) | add", "[1,2]"), ["6"]);
        assert_eq!(run("select(.n > 1) | .n", r#"{"n":2}"#), ["2"]);
    }

    #[test]
    fn bad_filters_are_compile_errors() {
        for bad in [".[", "foo(", "nosuchfunction", "$x", ")"] {
            let err = Filter::compile(bad).unwrap_err();
            assert!(matches!(err, JqError::Compile(_)), "{bad}: {err:?}");
            assert!(!err.to_string().is_empty());
        }
        let err = Filter::compile("nosuchfunction").unwrap_err();
        assert!(err.to_string().contains("nosuchfunction"), "{err}");
    }

    fn nested(depth: usize) -> String {
        "[".repeat(depth) + &"]".repeat(depth)
    }

    #[test]
    fn deep_messages_are_refused_without_overflowing() {
        let filter = Filter::compile(".").unwrap();
        // At the limit the filter runs (on this test's 2 MiB stack).
        let at_limit = nested(MAX_DEPTH);
        assert_eq!(filter.run(at_limit.as_bytes()).unwrap(), [at_limit]);
        for depth in [MAX_DEPTH + 1, 10_000, 100_000] {
            let err = filter.run(nested(depth).as_bytes()).unwrap_err();
            assert_eq!(err, JqError::TooDeep, "{depth}");
        }
        let objects = r#"{"a":"#.repeat(10_000) + "1" + &"}".repeat(10_000);
        assert_eq!(filter.run(objects.as_bytes()), Err(JqError::TooDeep));
        assert!(JqError::TooDeep.to_string().contains("512 levels"));
    }

    #[test]
    fn brackets_inside_strings_do_not_nest() {
        let text =
            format!(r#"["{}", "\"{}"]"#, "[".repeat(5000), "{".repeat(9));
        assert!(!nests_deeper_than(text.as_bytes(), 2));
        assert!(nests_deeper_than(b"[[[1]]]", 2));
        assert!(!nests_deeper_than(b"[[1],[2],{\"a\":[3]}]", 3));
        let filter = Filter::compile("length").unwrap();
        assert_eq!(filter.run(text.as_bytes()).unwrap(), ["2"]);
    }

    #[test]
    fn outcomes_of_selects_predicates_and_projections() {
        let eval = |f: &str, m: &str| {
            Filter::compile(f).unwrap().eval(m.as_bytes()).unwrap()
        };
        let err = r#"{"level":"error","id":1,"status":"x"}"#;
        let info = r#"{"level":"info","id":2}"#;
        let sel = r#"select(.level == "error")"#;
        assert_eq!(eval(sel, err), Outcome::Raw);
        assert_eq!(eval(sel, info), Outcome::Hidden);
        assert_eq!(eval(r#".level == "error""#, err), Outcome::Raw);
        assert_eq!(eval(r#".level == "error""#, info), Outcome::Hidden);
        assert_eq!(
            eval("{id, status}", err),
            Outcome::Projected(vec![r#"{"id":1,"status":"x"}"#.into()])
        );
        assert_eq!(eval(".missing", info), Outcome::Hidden);
        assert_eq!(
            eval(".id, .level", info),
            Outcome::Projected(vec!["2".into(), r#""info""#.into()])
        );
        assert_eq!(eval("empty", info), Outcome::Hidden);
        assert!(matches!(
            Filter::compile(".a").unwrap().eval(b"[1]"),
            Err(JqError::Run(_))
        ));
    }

    #[test]
    fn compile_errors_tell_the_column() {
        let err = Filter::compile("select(.a ==)").unwrap_err();
        assert_eq!(err.column(), Some(13), "{err}");
        let err = Filter::compile(".a | nosuch").unwrap_err();
        assert_eq!(err.column(), Some(6), "{err}");
        assert_eq!(JqError::TooDeep.column(), None);
    }

    #[test]
    fn runtime_and_input_errors() {
        let filter = Filter::compile(".a").unwrap();
        assert!(matches!(filter.run(b"[1]"), Err(JqError::Run(_))));
        assert!(matches!(filter.run(b"{"), Err(JqError::Input(_))));
        let failing = Filter::compile(r#"error("boom")"#).unwrap();
        let err = failing.run(b"1").unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
    }
}
