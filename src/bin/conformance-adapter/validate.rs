//! The `validate` command: argument checks with no network. Retry options
//! are turned into the client's `RetryPolicy` and checked by it as well.

use std::time::Duration;

use dsx::client::RetryPolicy;
use serde_json::Value;

use crate::reply::Reply;

const KIND: &str = "validate";

fn invalid(message: String) -> Reply {
    Reply::error(KIND, "INVALID_ARGUMENT", None, message)
}

/// A number field of the target, if present.
fn number(target: &Value, field: &str) -> Result<Option<f64>, Reply> {
    match target.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| {
            invalid(format!("{field} must be a number, got {v}"))
        }),
    }
}

pub fn validate(command: &Value) -> Result<Reply, Reply> {
    let target = command.get("target").cloned().unwrap_or(Value::Null);
    match target.get("target").and_then(Value::as_str) {
        Some("retry-options") => retry_options(&target),
        Some("idempotent-producer") => idempotent_producer(&target),
        other => Err(Reply::error(
            KIND,
            "NOT_SUPPORTED",
            None,
            format!("unknown validation target {other:?}"),
        )),
    }
}

fn retry_options(target: &Value) -> Result<Reply, Reply> {
    let defaults = RetryPolicy::default();
    let max_retries = number(target, "maxRetries")?
        .unwrap_or(f64::from(defaults.max_attempts - 1));
    if max_retries < 0.0 || max_retries.fract() != 0.0 {
        return Err(invalid(format!(
            "maxRetries must be a whole number >= 0, got {max_retries}"
        )));
    }
    let initial = number(target, "initialDelayMs")?
        .unwrap_or(millis(defaults.initial_backoff));
    if initial.is_nan() || initial <= 0.0 {
        return Err(invalid(format!(
            "initialDelayMs must be > 0, got {initial}"
        )));
    }
    let max =
        number(target, "maxDelayMs")?.unwrap_or(millis(defaults.max_backoff));
    if max.is_nan() || max < initial {
        return Err(invalid(format!(
            "maxDelayMs must be >= initialDelayMs ({initial}), got {max}"
        )));
    }
    let multiplier =
        number(target, "multiplier")?.unwrap_or(defaults.multiplier);
    if multiplier.is_nan() || multiplier < 1.0 {
        return Err(invalid(format!(
            "multiplier must be >= 1.0, got {multiplier}"
        )));
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked above to be a whole number >= 0"
    )]
    let retries = max_retries.min(f64::from(u32::MAX - 1)) as u32;
    let policy = RetryPolicy {
        max_attempts: retries + 1,
        initial_backoff: Duration::from_secs_f64(initial / 1000.0),
        max_backoff: Duration::from_secs_f64(max.min(1e12) / 1000.0),
        multiplier,
    };
    policy
        .validate()
        .map_err(|e| invalid(format!("retry options refused: {e}")))?;
    Ok(Reply::ok(KIND))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn idempotent_producer(target: &Value) -> Result<Reply, Reply> {
    if let Some(epoch) = number(target, "epoch")?
        && (epoch < 0.0 || epoch.fract() != 0.0)
    {
        return Err(invalid(format!(
            "epoch must be a whole number >= 0, got {epoch}"
        )));
    }
    if let Some(bytes) = number(target, "maxBatchBytes")?
        && bytes <= 0.0
    {
        return Err(invalid(format!("maxBatchBytes must be > 0, got {bytes}")));
    }
    if let Some(items) = number(target, "maxBatchItems")?
        && items <= 0.0
    {
        return Err(invalid(format!("maxBatchItems must be > 0, got {items}")));
    }
    Ok(Reply::ok(KIND))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(target: &Value) -> Result<(), String> {
        validate(&json!({ "type": "validate", "target": target }))
            .map(|_| ())
            .map_err(|r| r.into_json()["message"].as_str().unwrap().to_owned())
    }

    #[test]
    fn retry_options() {
        assert!(check(&json!({"target": "retry-options"})).is_ok());
        assert!(
            check(&json!({"target": "retry-options", "maxRetries": 0})).is_ok()
        );
        for (field, value) in [
            ("maxRetries", json!(-1)),
            ("initialDelayMs", json!(0)),
            ("maxDelayMs", json!(10)),
            ("multiplier", json!(0.5)),
        ] {
            let mut target =
                json!({"target": "retry-options", "initialDelayMs": 100});
            target[field] = value;
            let message = check(&target).expect_err(field);
            assert!(message.contains(field), "{message}");
        }
    }

    #[test]
    fn producer_options() {
        let ok = json!({"target": "idempotent-producer", "producerId": "p",
                        "epoch": 0, "maxBatchBytes": 1_048_576});
        assert!(check(&ok).is_ok());
        for (field, value) in [
            ("epoch", json!(-1)),
            ("maxBatchBytes", json!(0)),
            ("maxBatchBytes", json!(-5)),
            ("maxBatchItems", json!(0)),
        ] {
            let mut target = json!({"target": "idempotent-producer"});
            target[field] = value;
            let message = check(&target).expect_err(field);
            assert!(message.contains(field), "{message}");
        }
        assert!(check(&json!({"target": "nope"})).is_err());
    }
}
