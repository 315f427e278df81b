//! The README's client example: create, append, producer, live read.
//! Run `dsx serve` first, then `cargo run --example quickstart`.

use dsx::client::{AppendOptions, Client, CreateOptions, IdempotentProducer};
use dsx::client::{LiveMode, ProducerOptions, ReadOptions};
use futures::StreamExt;

#[tokio::main]
#[rustfmt::skip] // kept in the compact shape the README shows
async fn main() -> dsx::client::Result<()> {
    let client = Client::builder().base_url("http://127.0.0.1:4437/v1/stream").build()?;
    let json = CreateOptions { content_type: Some("application/json".into()), ..Default::default() };
    let orders = client.create(&format!("orders-{}", std::process::id()), json).await?;
    orders.append(r#"{"id":1,"total":9.5}"#, AppendOptions::default()).await?;
    let producer = IdempotentProducer::new(orders.clone(), "shop-1", ProducerOptions::default());
    for id in 2..=100 {
        producer.append(format!(r#"{{"id":{id}}}"#)).await?; // batched and pipelined
    }
    producer.close().await?; // waits for every batch, then closes the stream
    let mut tail = orders.read_json::<serde_json::Value>(ReadOptions { live: LiveMode::Sse, ..Default::default() });
    while let Some(batch) = tail.next().await {
        let batch = batch?; // the read ends after the batch that reports the close
        println!("{} messages, resume from {}", batch.items.len(), batch.meta.offset);
    }
    Ok(())
}
