//! The `__registry__` stream: a JSON change event for every create and
//! delete, in the format of the Node reference server's registry hooks:
//! `{"type":"stream","key":"orders","value":{"path":"orders",
//! "contentType":"application/json","createdAt":1700000000000},
//! "headers":{"operation":"insert","offset":"..."}}`, and the same without
//! `value` and with `"operation":"delete"` on delete. `offset` is the
//! registry position just after the event, as the Node server reports it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::offset;
use super::persist::{Disk, Header};
use super::store::{CreateRequest, Error, REGISTRY, Store};
use super::stream::Stream;

impl Store {
    pub(super) async fn ensure_registry(&self) -> Result<Arc<Stream>, Error> {
        let current = self.map().get(REGISTRY).cloned();
        if let Some(s) = current
            && !s.soft_deleted.load(Ordering::Relaxed)
        {
            return Ok(s);
        }
        let req = CreateRequest {
            content_type: Some("application/json".into()),
            ..CreateRequest::default()
        };
        let (s, _) = Box::pin(self.create_locked(REGISTRY, req)).await?;
        self.registry_event(REGISTRY, Some(&s)).await;
        Ok(s)
    }

    /// Appends an insert (with `created`) or delete change event, in the
    /// format of the Node reference server's registry hooks.
    pub(super) async fn registry_event(
        &self,
        name: &str,
        created: Option<&Stream>,
    ) {
        if !self.registry {
            return;
        }
        let Ok(reg) = Box::pin(self.ensure_registry()).await else {
            return;
        };
        let key = serde_json::to_string(name).expect("string");
        let value = created.map(|s| {
            format!(
                ",\"value\":{{\"path\":{key},\"contentType\":{},\"createdAt\":{}}}",
                serde_json::to_string(&s.config.content_type).expect("string"),
                s.config.created_at
            )
        });
        let op = if created.is_some() {
            "insert"
        } else {
            "delete"
        };
        let event = |offset: &str| {
            format!(
                "{{\"type\":\"stream\",\"key\":{key}{},\"headers\":{{\"operation\":\"{op}\",\"offset\":\"{offset}\"}}}}",
                value.as_deref().unwrap_or("")
            )
        };
        let writer = reg.writer.lock().await;
        let tail = reg.tail();
        // The offset names the registry position after this event; offsets
        // have a fixed width, so the length is known before formatting.
        let len = event(&offset::format(0)).len() as u64 + 1;
        let mut data = event(&offset::format(tail + len)).into_bytes();
        data.push(b',');
        let data = Bytes::from(data);
        // Counted but never refused: a gap in the registry would mislead
        // explorers, and events are tiny.
        self.used.fetch_add(data.len() as u64, Ordering::Relaxed);
        if let Some(log) = &writer.log
            && let Err(e) = Disk::append(log, &Header::default(), &data).await
        {
            tracing::warn!("registry write failed: {e}");
            self.release(data.len() as u64);
            return;
        }
        reg.push(data, Box::default(), false);
        drop(writer);
    }
}
