//! A small order-lifecycle simulator behind the `demo/orders` stream.
//!
//! Every order goes created → payment authorised → shipped → delivered, or
//! created → payment failed → cancelled. Ids, customers and amounts stay
//! consistent across an order's events, and the state can be rebuilt from
//! the events already in the stream, so a restarted writer carries on
//! where the stream ends.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const PRODUCTS: &str = include_str!("../../../assets/demo/products.json");
const CUSTOMERS: &str = include_str!("../../../assets/demo/customers.json");

/// Orders take numbers from here up.
const FIRST_ORDER: u64 = 10_001;
/// Orders under way at most; beyond that the simulator only advances.
const MAX_OPEN: usize = 12;

#[derive(Clone, Debug, Deserialize)]
struct Product {
    sku: String,
    name: String,
    price_cents: u64,
}

#[derive(Clone, Debug, Deserialize)]
struct Customer {
    id: String,
    city: String,
    country: String,
    currency: String,
    tax_rate: f64,
}

/// One event of `demo/orders`; fields serialise in this order.
#[derive(Clone, Debug, Serialize)]
#[allow(clippy::struct_field_names, reason = "`event_id` is the wire name")]
pub(crate) struct Event {
    #[serde(rename = "type")]
    kind: &'static str,
    event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    ts: String,
    order_id: String,
    customer_id: String,
    #[serde(flatten)]
    details: Details,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
enum Details {
    Created {
        items: Vec<Item>,
        subtotal_cents: u64,
        shipping_cents: u64,
        tax_cents: u64,
        total_cents: u64,
        currency: String,
        ship_to: ShipTo,
    },
    Payment {
        payment_id: String,
        amount_cents: u64,
        currency: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        method: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'static str>,
    },
    Shipped {
        carrier: &'static str,
        tracking: String,
    },
    Cancelled {
        reason: &'static str,
    },
    Refund {
        payment_id: String,
        refund_cents: u64,
        currency: String,
        reason: &'static str,
    },
    Delivered {},
}

#[derive(Clone, Debug, Serialize)]
struct Item {
    sku: String,
    name: String,
    qty: u64,
    unit_price_cents: u64,
    line_total_cents: u64,
}

#[derive(Clone, Debug, Serialize)]
struct ShipTo {
    city: String,
    country: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Created,
    Paid,
    PaymentFailed,
    Shipped,
}

#[derive(Clone, Debug)]
struct OpenOrder {
    customer_id: String,
    currency: String,
    total_cents: u64,
    stage: Stage,
}

/// Generates order events one at a time.
pub(crate) struct OrderSim {
    products: Vec<Product>,
    customers: Vec<Customer>,
    rng: StdRng,
    next_order: u64,
    next_seq: u64,
    open: BTreeMap<String, OpenOrder>,
}

impl OrderSim {
    /// A simulator with no history; `seed` fixes its random choices.
    pub(crate) fn new(seed: u64) -> Self {
        OrderSim {
            products: serde_json::from_str(PRODUCTS)
                .expect("assets/demo/products.json is valid"),
            customers: serde_json::from_str(CUSTOMERS)
                .expect("assets/demo/customers.json is valid"),
            rng: StdRng::seed_from_u64(seed),
            next_order: FIRST_ORDER,
            next_seq: 1,
            open: BTreeMap::new(),
        }
    }

    /// A simulator that continues after `events` (as read from the stream).
    pub(crate) fn resume(seed: u64, events: &[Value]) -> Self {
        let mut sim = Self::new(seed);
        for event in events {
            sim.absorb(event);
        }
        sim
    }

    /// Ids of orders that exist, newest last (for the log generator).
    pub(crate) fn recent_order_ids(&self) -> Vec<String> {
        let first = self.next_order.saturating_sub(20).max(FIRST_ORDER);
        (first..self.next_order).map(order_id).collect()
    }

    /// Customer ids from the seed data.
    pub(crate) fn customer_ids(&self) -> Vec<String> {
        self.customers.iter().map(|c| c.id.clone()).collect()
    }

    /// The next event, stamped `ts` (RFC 3339).
    pub(crate) fn next_event(&mut self, ts: &str) -> Event {
        let start_new = self.open.len() < 3
            || (self.open.len() < MAX_OPEN && self.rng.random_bool(0.35));
        let event = if start_new {
            self.create_order(ts)
        } else {
            let ids: Vec<String> = self.open.keys().cloned().collect();
            let id = ids
                .choose(&mut self.rng)
                .expect("at least three open orders")
                .clone();
            self.advance(&id, ts)
        };
        if let Ok(value) = serde_json::to_value(&event) {
            self.absorb(&value);
        }
        event
    }

    /// Events for the fork: refunds of the first two paid orders in
    /// `events`.
    pub(crate) fn what_if_refunds(events: &[Value], ts: &str) -> Vec<Event> {
        events
            .iter()
            .filter(|e| e["type"] == "payment.authorized")
            .take(2)
            .enumerate()
            .map(|(i, paid)| Event {
                kind: "order.refunded",
                event_id: format!("evt_fork_{}", i + 1),
                seq: None,
                ts: ts.to_owned(),
                order_id: str_of(&paid["order_id"]),
                customer_id: str_of(&paid["customer_id"]),
                details: Details::Refund {
                    payment_id: str_of(&paid["payment_id"]),
                    refund_cents: paid["amount_cents"].as_u64().unwrap_or(0),
                    currency: str_of(&paid["currency"]),
                    reason: "what-if: goodwill refund (fork only)",
                },
            })
            .collect()
    }

    fn create_order(&mut self, ts: &str) -> Event {
        let customer = self
            .customers
            .choose(&mut self.rng)
            .expect("customers.json is not empty")
            .clone();
        let lines = self.rng.random_range(1..=3);
        let mut items = Vec::new();
        for product in self.products.choose_multiple(&mut self.rng, lines) {
            let qty = if self.rng.random_bool(0.8) { 1 } else { 2 };
            items.push(Item {
                sku: product.sku.clone(),
                name: product.name.clone(),
                qty,
                unit_price_cents: product.price_cents,
                line_total_cents: product.price_cents * qty,
            });
        }
        let subtotal = items.iter().map(|i| i.line_total_cents).sum();
        let shipping = if subtotal >= 5_000 { 0 } else { 499 };
        let tax = round_cents(subtotal, customer.tax_rate);
        self.event(
            ts,
            "order.created",
            &order_id(self.next_order),
            &customer.id,
            Details::Created {
                items,
                subtotal_cents: subtotal,
                shipping_cents: shipping,
                tax_cents: tax,
                total_cents: subtotal + shipping + tax,
                currency: customer.currency,
                ship_to: ShipTo {
                    city: customer.city,
                    country: customer.country,
                },
            },
        )
    }

    fn advance(&mut self, id: &str, ts: &str) -> Event {
        let order = self.open[id].clone();
        let number = order_number(id).unwrap_or(0);
        let payment = |method, reason| Details::Payment {
            payment_id: format!("pay_{number}"),
            amount_cents: order.total_cents,
            currency: order.currency.clone(),
            method,
            reason,
        };
        let (kind, details) = match order.stage {
            Stage::Created if self.rng.random_bool(0.9) => {
                let methods = ["card", "card", "paypal", "bank_transfer"];
                let method = methods.choose(&mut self.rng).copied();
                ("payment.authorized", payment(method, None))
            }
            Stage::Created => {
                let reasons = ["card_declined", "insufficient_funds"];
                let reason = reasons.choose(&mut self.rng).copied();
                ("payment.failed", payment(None, reason))
            }
            Stage::PaymentFailed => (
                "order.cancelled",
                Details::Cancelled {
                    reason: "payment_failed",
                },
            ),
            Stage::Paid => {
                let carrier =
                    *["DHL", "UPS", "PostNL"].choose(&mut self.rng).unwrap();
                let tracking = self.rng.random_range(100_000_000..999_999_999);
                let tracking = format!("{carrier}-{tracking}");
                ("order.shipped", Details::Shipped { carrier, tracking })
            }
            Stage::Shipped => ("order.delivered", Details::Delivered {}),
        };
        self.event(ts, kind, id, &order.customer_id, details)
    }

    fn event(
        &self,
        ts: &str,
        kind: &'static str,
        order_id: &str,
        customer_id: &str,
        details: Details,
    ) -> Event {
        Event {
            kind,
            event_id: event_id(self.next_seq),
            seq: Some(self.next_seq),
            ts: ts.to_owned(),
            order_id: order_id.to_owned(),
            customer_id: customer_id.to_owned(),
            details,
        }
    }

    /// Updates the state from one event (generated or read back).
    fn absorb(&mut self, event: &Value) {
        if let Some(seq) = event["seq"].as_u64() {
            self.next_seq = self.next_seq.max(seq + 1);
        }
        let Some(id) = event["order_id"].as_str() else {
            return;
        };
        if let Some(number) = order_number(id) {
            self.next_order = self.next_order.max(number + 1);
        }
        let stage = match event["type"].as_str() {
            Some("order.created") => {
                self.open.insert(
                    id.to_owned(),
                    OpenOrder {
                        customer_id: str_of(&event["customer_id"]),
                        currency: str_of(&event["currency"]),
                        total_cents: event["total_cents"].as_u64().unwrap_or(0),
                        stage: Stage::Created,
                    },
                );
                return;
            }
            Some("payment.authorized") => Stage::Paid,
            Some("payment.failed") => Stage::PaymentFailed,
            Some("order.shipped") => Stage::Shipped,
            Some("order.delivered" | "order.cancelled") => {
                self.open.remove(id);
                return;
            }
            _ => return,
        };
        if let Some(order) = self.open.get_mut(id) {
            order.stage = stage;
        }
    }
}

fn order_id(number: u64) -> String {
    format!("ord_{number}")
}

fn order_number(id: &str) -> Option<u64> {
    id.strip_prefix("ord_")?.parse().ok()
}

fn event_id(seq: u64) -> String {
    format!("evt_{seq:06}")
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// `cents * rate`, rounded to whole cents.
fn round_cents(cents: u64, rate: f64) -> u64 {
    // Demo amounts stay far below 2^52, where f64 is exact.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "small non-negative amounts"
    )]
    let rounded = (cents as f64 * rate).round() as u64;
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(events: &[Event]) -> Vec<Value> {
        events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    #[test]
    fn lifecycles_stay_consistent_across_a_resume() {
        let mut sim = OrderSim::new(7);
        let first: Vec<Event> = (0..80)
            .map(|_| sim.next_event("2026-01-01T00:00:00.000Z"))
            .collect();
        let mut resumed = OrderSim::resume(99, &values(&first));
        assert_eq!(resumed.next_seq, 81);
        assert_eq!(resumed.next_order, sim.next_order);
        let more: Vec<Event> = (0..200)
            .map(|_| resumed.next_event("2026-01-01T00:01:00.000Z"))
            .collect();
        let all = values(&[first, more].concat());

        // Every event of an order follows its creation, with the same
        // customer; payments carry the order total.
        let mut created: BTreeMap<String, &Value> = BTreeMap::new();
        for (i, event) in all.iter().enumerate() {
            assert_eq!(event["seq"], i as u64 + 1);
            let id = event["order_id"].as_str().unwrap().to_owned();
            if event["type"] == "order.created" {
                assert!(created.insert(id, event).is_none(), "id reused");
                continue;
            }
            let order = created.get(&id).expect("event before creation");
            assert_eq!(event["customer_id"], order["customer_id"]);
            if let Some(amount) = event.get("amount_cents") {
                assert_eq!(*amount, order["total_cents"]);
            }
        }
    }
}
