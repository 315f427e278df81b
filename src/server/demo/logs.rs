//! Log lines for `demo/app-log` and the CI log of `demo/build-2291`.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

const TEMPLATES: &str =
    include_str!("../../../assets/demo/app-log-templates.txt");
/// The finished build's log, one step per blank-line-free block.
pub(crate) const BUILD_LOG: &str =
    include_str!("../../../assets/demo/build-2291.log");
/// The line that closes `demo/build-2291`.
pub(crate) const BUILD_LAST_LINE: &str =
    "[ci] build #2291 succeeded in 2m13s: 5/5 steps, 214 tests passed\n";

struct Template {
    level: &'static str,
    component: &'static str,
    message: &'static str,
}

/// Generates application log lines from `assets/demo/app-log-templates.txt`.
pub(crate) struct LogGen {
    templates: Vec<Template>,
    next_request: u64,
}

impl LogGen {
    pub(crate) fn new() -> Self {
        let templates = TEMPLATES
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let mut parts = line.splitn(3, '|');
                Some(Template {
                    level: parts.next()?,
                    component: parts.next()?,
                    message: parts.next()?,
                })
            })
            .collect();
        LogGen {
            templates,
            next_request: 0x4a10,
        }
    }

    /// One log entry mentioning real ids: `demo/app-log` prints it as a
    /// line, `demo/app-events` writes it as JSON.
    pub(crate) fn entry(
        &mut self,
        rng: &mut StdRng,
        orders: &[String],
        customers: &[String],
    ) -> Entry {
        // Mostly INFO, like a real service; the templates hold few of the
        // other levels, so pick by level first.
        let level = match rng.random_range(0..100) {
            0..8 => "DEBUG",
            8..84 => "INFO",
            84..95 => "WARN",
            _ => "ERROR",
        };
        let candidates: Vec<&Template> =
            self.templates.iter().filter(|t| t.level == level).collect();
        let template =
            candidates.choose(rng).copied().or(self.templates.first());
        let Some(template) = template else {
            return Entry {
                level: "INFO",
                component: "demo",
                message: "(no log templates)".to_owned(),
            };
        };
        self.next_request += 1;
        let order = orders.choose(rng).map_or("ord_10001", String::as_str);
        let customer = customers.choose(rng).map_or("cus_0101", String::as_str);
        let message = template
            .message
            .replace("{order}", order)
            .replace("{customer}", customer)
            .replace("{rid}", &format!("req_{:06x}", self.next_request))
            .replace("{ms}", &rng.random_range(2..480).to_string())
            .replace(
                "{ip}",
                &format!(
                    "10.0.{}.{}",
                    rng.random_range(0..8),
                    rng.random_range(2..250)
                ),
            )
            .replace("{n}", &rng.random_range(3..140).to_string())
            .replace(
                "{pct}",
                &format!("{:.2}", rng.random_range(0.0..1.5_f64)),
            );
        Entry {
            level: template.level,
            component: template.component,
            message,
        }
    }
}

/// One log entry: its level (`INFO`, `ERROR`, ...), component and text.
pub(crate) struct Entry {
    pub(crate) level: &'static str,
    pub(crate) component: &'static str,
    pub(crate) message: String,
}

impl Entry {
    /// The text log's line, with its newline.
    pub(crate) fn line(&self, ts: &str) -> String {
        format!(
            "{ts} {:<5} {:<10} {}\n",
            self.level, self.component, self.message
        )
    }

    /// The JSON event of `demo/app-events` (`level` in lower case, as
    /// structured loggers write it).
    pub(crate) fn event(&self, ts: &str) -> serde_json::Value {
        serde_json::json!({
            "ts": ts,
            "level": self.level.to_ascii_lowercase(),
            "component": self.component,
            "msg": self.message,
        })
    }
}

/// The build log cut into appends: one per `[step n/5] ... done` block.
pub(crate) fn build_log_chunks() -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for line in BUILD_LOG.lines() {
        current.push_str(line);
        current.push('\n');
        let ends_step = line.starts_with("[step") && line.contains(" done ");
        let ends_header = line.starts_with("[ci] runner");
        if ends_step || ends_header {
            chunks.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}
