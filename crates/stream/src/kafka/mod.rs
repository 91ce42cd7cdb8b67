//! A Kafka consumer for the lake. The lake, not the broker, remembers how far each partition
//! has been stored: each batch carries its partitions' next offsets, which the lake commits
//! in the same atomic commit as the batch's records, and a partition assigned to this
//! consumer starts from the lake's position. A crash, a restart or a rebalance therefore
//! stores every record exactly once.

mod consumer;
mod message;
mod producer;

use std::time::Duration;

pub use consumer::{KafkaError, KafkaIntake};
pub use message::Message;
pub use producer::KafkaProducer;

/// Where and what to consume.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// The brokers to start from, `host:port[,host:port...]`.
    pub brokers: String,
    /// The topics to consume.
    pub topics: Vec<String>,
    /// The consumer group: consumers of one group share the topics' partitions.
    pub group: String,
    /// A name that stays the same across restarts of this consumer (Kafka's static group
    /// membership): restarted, it takes its partitions back at once instead of waiting for
    /// the group to time its old self out.
    pub instance: Option<String>,
    /// A batch is handed on at this many messages...
    pub batch_messages: usize,
    /// ...or this many payload bytes...
    pub batch_bytes: usize,
    /// ...or this long after its first message, whichever comes first.
    pub batch_wait: Duration,
}

impl KafkaOptions {
    /// Options with the batch limits' defaults.
    pub fn new(brokers: impl Into<String>, topics: Vec<String>, group: impl Into<String>) -> KafkaOptions {
        KafkaOptions {
            brokers: brokers.into(),
            topics,
            group: group.into(),
            instance: None,
            batch_messages: 20_000,
            batch_bytes: 16 << 20,
            batch_wait: Duration::from_millis(50),
        }
    }
}

/// Messages read, and the positions they bring their partitions to.
#[derive(Debug, Default)]
pub struct Consumed {
    pub messages: Vec<Message>,
    /// `(position key, next offset)` of every partition the messages come from.
    pub positions: Vec<(String, u64)>,
    /// Payload bytes of the messages.
    pub bytes: usize,
}

/// The lake's side of a consumer.
pub trait Intake: Send + Sync {
    /// The next offset the lake holds for the partition with this position key, if it has
    /// stored any of it.
    fn stored_position(&self, key: &str) -> Option<u64>;
    /// Takes a batch to be stored; waits while the lake is too far behind (back-pressure).
    /// An error means the lake is stopping and took nothing.
    fn deliver(&self, consumed: Consumed) -> Result<(), Stopping>;
}

/// The lake is stopping and takes no more.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the lake is stopping")]
pub struct Stopping;

/// The key under which a partition's position is committed: `kafka/TOPIC/PARTITION`.
pub fn position_key(topic: &str, partition: i32) -> String {
    format!("kafka/{topic}/{partition}")
}
