//! How long alerts took from their batch being taken to store to their delivery.

use std::sync::Mutex;
use std::time::Duration;

use crate::alert::Alert;

/// Latencies kept: the newest, enough for a stable 99th percentile.
const KEPT: usize = 10_000;

/// The newest delivery latencies of a sink, and how many alerts it delivered.
#[derive(Debug, Default)]
pub struct Latencies {
    inner: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    values: Vec<Duration>,
    next: usize,
    delivered: u64,
}

impl Latencies {
    /// Records the delivery, now, of `alerts`.
    pub fn record_all(&self, alerts: &[Alert]) {
        let mut ring = self.inner.lock().expect("not poisoned");
        for alert in alerts {
            let took = alert.taken.elapsed();
            if ring.values.len() < KEPT {
                ring.values.push(took);
            } else {
                let next = ring.next;
                ring.values[next] = took;
            }
            ring.next = (ring.next + 1) % KEPT;
            ring.delivered += 1;
        }
    }

    /// Alerts delivered in all.
    pub fn delivered(&self) -> u64 {
        self.inner.lock().expect("not poisoned").delivered
    }

    /// The `q` quantile (0 to 1) of the latencies kept; none before the first delivery.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let mut values = self.inner.lock().expect("not poisoned").values.clone();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len());
        Some(values[rank - 1])
    }
}
