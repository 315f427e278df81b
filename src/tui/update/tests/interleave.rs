//! Property: whatever the interleaving of batches (whole or in partial
//! pieces), reader restarts after a dropped connection, live-mode switches,
//! late batches from replaced readers and appends, the tail shows every
//! message of the stream exactly once and in order.
//!
//! A simulated server holds numbered messages (JSON) or numbered lines
//! (text) and answers each reader from the offset it was started at;
//! offsets are opaque names that only the simulated server maps back to
//! positions. The cases come from a seeded generator, so a failure names
//! its seed and replays exactly.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

/// Cases per content kind, and steps per case.
const CASES: u64 = 300;
const STEPS: usize = 250;

/// The simulated stream: units (messages or bytes) and offset names.
struct Server {
    json: bool,
    /// JSON: one message per unit; text: one byte per unit.
    units: Vec<Vec<u8>>,
    lines: usize,
    /// Offset name -> position, for the names handed out.
    offsets: HashMap<String, usize>,
}

impl Server {
    fn new(json: bool) -> Server {
        let mut offsets = HashMap::new();
        offsets.insert("-1".to_owned(), 0);
        Server {
            json,
            units: Vec::new(),
            lines: 0,
            offsets,
        }
    }

    /// An opaque name for position `p` (never parsed by the tail).
    fn offset(&mut self, p: usize) -> String {
        let name = format!("{:016x}_{p:04}", p.wrapping_mul(2_654_435_761));
        self.offsets.insert(name.clone(), p);
        name
    }

    fn position(&self, offset: &str) -> usize {
        *self
            .offsets
            .get(offset)
            .unwrap_or_else(|| panic!("the tail invented offset {offset:?}"))
    }

    fn append(&mut self, n: usize) {
        for _ in 0..n {
            if self.json {
                let k = self.units.len();
                self.units.push(format!(r#"{{"n":{k}}}"#).into_bytes());
            } else {
                let line = format!("line {:05}\n", self.lines);
                self.lines += 1;
                self.units.extend(line.bytes().map(|b| vec![b]));
            }
        }
    }

    /// The response to a read at `p`: up to `max` units, cut into pieces
    /// (all but the last partial).
    fn response(&mut self, p: usize, rng: &mut StdRng) -> Vec<Incoming> {
        let available = self.units.len() - p;
        let cap = if self.json { 12 } else { 60 };
        let k = rng.random_range(0..=available.min(cap));
        let end = p + k;
        let start = self.offset(p);
        let next = self.offset(end);
        let mut cuts: Vec<usize> = (0..rng.random_range(0..3))
            .map(|_| rng.random_range(p..=end))
            .collect();
        cuts.push(end);
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = p;
        for (i, &to) in cuts.iter().enumerate() {
            let last = i + 1 == cuts.len();
            let units = &self.units[from..to];
            let mut piece = Incoming::json(&start, &next, units, !last);
            piece.up_to_date = last && end == self.units.len();
            if !self.json {
                piece.data = Bytes::from(units.concat());
                piece.ends.clear();
            }
            pieces.push(piece);
            from = to;
        }
        pieces
    }
}

/// The running reader as the simulation sees it.
struct Reader {
    id: u64,
    at: usize,
    pending: Vec<Incoming>,
}

/// Everything the tail shows, as units.
fn shown_units(s: &State) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for b in &s.tail.batches {
        if s.tail.kind == ContentKind::Json {
            out.extend((0..b.len()).map(|i| b.message(i).to_vec()));
        } else {
            out.extend(b.data.iter().map(|&x| vec![x]));
        }
    }
    out
}

fn check(s: &State, server: &Server, seed: u64, step: usize) {
    let shown = shown_units(s);
    assert!(
        shown.len() <= server.units.len()
            && shown[..] == server.units[..shown.len()],
        "seed {seed} step {step}: shown is not the stream's prefix\n\
         shown  {:?}\nstream {:?}",
        String::from_utf8_lossy(&shown.concat()),
        String::from_utf8_lossy(&server.units.concat()),
    );
}

/// Adopts the reader a list of effects starts, if any.
fn adopt(
    fx: &[Effect],
    server: &Server,
    reader: &mut Reader,
    stale: &mut Vec<(u64, Incoming)>,
) -> bool {
    let Some((id, from, _, _)) = starts(fx).pop() else {
        return false;
    };
    let old = std::mem::replace(
        reader,
        Reader {
            id,
            at: server.position(&from),
            pending: Vec::new(),
        },
    );
    stale.extend(old.pending.into_iter().map(|p| (old.id, p)));
    true
}

fn run_case(seed: u64, json: bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut server = Server::new(json);
    server.append(rng.random_range(0..30));
    let mut s = new_state();
    let fx = if json {
        open_json(&mut s, "p/interleave")
    } else {
        open_typed(&mut s, "p/interleave", "text/plain")
    };
    let mut reader = Reader {
        id: 0,
        at: 0,
        pending: Vec::new(),
    };
    let mut stale = Vec::new();
    assert!(adopt(&fx, &server, &mut reader, &mut stale), "no reader");
    let mut now = s.now;
    for step in 0..STEPS {
        match rng.random_range(0..100) {
            // The reader hands over its next piece.
            0..45 => {
                if reader.pending.is_empty() {
                    reader.pending = server.response(reader.at, &mut rng);
                    reader.pending.reverse();
                }
                let piece = reader.pending.pop().expect("a piece");
                if !piece.partial {
                    reader.at = server.position(&piece.next_offset);
                }
                deliver_from(&mut s, reader.id, piece);
            }
            // A writer appends.
            45..58 => server.append(rng.random_range(1..8)),
            // The connection drops (mid-response or between responses).
            58..72 => {
                let fx = update(
                    &mut s,
                    Message::Reader {
                        reader: reader.id,
                        event: ReaderEvent::Retry("connection reset".into()),
                    },
                );
                if !adopt(&fx, &server, &mut reader, &mut stale) {
                    // Backing off: the reconnect comes with the clock.
                    now += Duration::from_mins(2);
                    let fx = tick(&mut s, now);
                    assert!(
                        adopt(&fx, &server, &mut reader, &mut stale),
                        "seed {seed} step {step}: no reconnect after backoff"
                    );
                }
            }
            // The user switches the live mode.
            72..86 => {
                let key = ['1', '2', '3', '4'][rng.random_range(0..4)];
                let fx = ch(&mut s, key);
                adopt(&fx, &server, &mut reader, &mut stale);
            }
            // A replaced reader still had something in flight.
            _ => {
                if !stale.is_empty() {
                    let (id, piece) =
                        stale.swap_remove(rng.random_range(0..stale.len()));
                    deliver_from(&mut s, id, piece);
                }
            }
        }
        check(&s, &server, seed, step);
    }
    // Drain: the reader reads to the end, in whole responses.
    for _ in 0..10_000 {
        if let Some(piece) = reader.pending.pop() {
            if !piece.partial {
                reader.at = server.position(&piece.next_offset);
            }
            deliver_from(&mut s, reader.id, piece);
            continue;
        }
        if reader.at == server.units.len() {
            break;
        }
        reader.pending = server.response(reader.at, &mut rng);
        reader.pending.reverse();
    }
    check(&s, &server, seed, STEPS);
    let shown = shown_units(&s);
    assert_eq!(
        shown.len(),
        server.units.len(),
        "seed {seed}: {} of {} units shown after the drain",
        shown.len(),
        server.units.len()
    );
    if json {
        assert_eq!(s.tail.total_messages, server.units.len() as u64);
    }
}

#[test]
fn json_messages_are_shown_once_in_order_through_any_interleaving() {
    for seed in 0..CASES {
        run_case(seed, true);
    }
}

#[test]
fn text_bytes_are_shown_once_in_order_through_any_interleaving() {
    for seed in 0..CASES {
        run_case(1_000_000 + seed, false);
    }
}
