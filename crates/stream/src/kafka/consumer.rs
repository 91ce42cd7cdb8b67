//! The consumer thread: polls the brokers, drops what the lake already holds, batches the
//! rest and hands each batch to the lake; a partition assigned to it starts where the lake
//! says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Message as _;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;

use super::{Consumed, Intake, KafkaOptions, Message, position_key};

/// The consumer could not start.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("cannot set up the Kafka consumer: {0}")]
    Config(rdkafka::error::KafkaError),
    #[error("cannot reach Kafka at {brokers}: {error}")]
    Unreachable { brokers: String, error: rdkafka::error::KafkaError },
    #[error("cannot subscribe to {topics}: {error}")]
    Subscribe { topics: String, error: rdkafka::error::KafkaError },
    #[error("cannot start the Kafka consumer's thread: {0}")]
    Thread(std::io::Error),
}

/// A running consumer; [`KafkaIntake::stop`] hands on what it read and leaves the group.
pub struct KafkaIntake {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long a poll waits for a message before checking the batch's age and the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// How long the broker may hold a fetch that found no data, in milliseconds. (At 50 ms,
/// tansu 0.6 stopped serving one partition after a restart in the exactly-once test.)
const FETCH_WAIT_MS: &str = "100";
/// How long to wait for the brokers' answer at start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl KafkaIntake {
    /// Connects to the brokers (an error if none answers), subscribes to the topics and
    /// starts consuming into `intake`.
    pub fn start(options: KafkaOptions, intake: Arc<dyn Intake>) -> Result<KafkaIntake, KafkaError> {
        let context = Positions { intake: intake.clone(), next: Mutex::default(), last_error: Mutex::default() };
        let mut config = ClientConfig::new();
        if let Some(instance) = &options.instance {
            config.set("group.instance.id", instance);
        }
        let consumer: BaseConsumer<Positions> = config
            .set("bootstrap.servers", &options.brokers)
            .set("group.id", &options.group)
            .set("client.id", "hela")
            // The lake keeps the positions; nothing is committed to the broker.
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "range,roundrobin")
            // A fetch the broker holds for want of data returns within this, so that events
            // arriving meanwhile wait no longer to be read (librdkafka's default is 500 ms).
            .set("fetch.wait.max.ms", FETCH_WAIT_MS)
            .create_with_context(context)
            .map_err(KafkaError::Config)?;
        let metadata = consumer
            .fetch_metadata(None, CONNECT_TIMEOUT)
            .map_err(|error| KafkaError::Unreachable { brokers: options.brokers.clone(), error })?;
        for topic in &options.topics {
            if !metadata.topics().iter().any(|t| t.name() == topic && t.error().is_none()) {
                eprintln!("warning: Kafka topic `{topic}` does not exist yet; it is consumed once it does");
            }
        }
        let topics: Vec<&str> = options.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|error| KafkaError::Subscribe { topics: options.topics.join(", "), error })?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("hela-kafka".into())
                .spawn(move || consume(&consumer, &options, intake.as_ref(), &stop))
                .map_err(KafkaError::Thread)?
        };
        Ok(KafkaIntake { stop, thread: Some(thread) })
    }

    /// Hands on the batch being gathered, leaves the group and waits for the thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for KafkaIntake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Polls until stopped, handing on a batch when it is full or old enough.
fn consume(consumer: &BaseConsumer<Positions>, options: &KafkaOptions, intake: &dyn Intake, stop: &AtomicBool) {
    let mut batch = Batch::default();
    let mut topics: HashMap<String, Arc<str>> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        match consumer.poll(POLL) {
            Some(Ok(message)) => {
                let (partition, offset) = (message.partition(), message.offset());
                if consumer.context().take(message.topic(), partition, offset) {
                    let topic = topics.entry(message.topic().to_string()).or_insert_with_key(|t| Arc::from(t.as_str())).clone();
                    batch.push(Message { topic, partition, offset, payload: message.payload().map(<[u8]>::to_vec) });
                }
            }
            Some(Err(error)) => consumer.context().report(&error.to_string()),
            None => {}
        }
        if batch.is_due(options) && intake.deliver(batch.take()).is_err() {
            return;
        }
    }
    if !batch.consumed.messages.is_empty() {
        let _ = intake.deliver(batch.take());
    }
}

/// Messages gathered for the lake.
#[derive(Default)]
struct Batch {
    consumed: Consumed,
    /// The next offset of each partition the messages come from.
    positions: HashMap<(Arc<str>, i32), i64>,
    first: Option<Instant>,
}

impl Batch {
    fn push(&mut self, message: Message) {
        self.first.get_or_insert_with(Instant::now);
        self.consumed.bytes += message.payload.as_ref().map_or(0, Vec::len);
        self.positions.insert((message.topic.clone(), message.partition), message.offset + 1);
        self.consumed.messages.push(message);
    }

    fn is_due(&self, options: &KafkaOptions) -> bool {
        let messages = self.consumed.messages.len();
        messages >= options.batch_messages
            || self.consumed.bytes >= options.batch_bytes
            || (messages > 0 && self.first.is_some_and(|first| first.elapsed() >= options.batch_wait))
    }

    fn take(&mut self) -> Consumed {
        let mut consumed = std::mem::take(&mut self.consumed);
        consumed.positions =
            self.positions.drain().map(|((topic, partition), next)| (position_key(&topic, partition), next as u64)).collect();
        self.first = None;
        consumed
    }
}

/// The consumer's context: the next offset of each partition handed on, which decides
/// where an assigned partition starts and which messages are repeats.
struct Positions {
    intake: Arc<dyn Intake>,
    next: Mutex<HashMap<(String, i32), i64>>,
    /// The last error reported, to report a repeated one once.
    last_error: Mutex<String>,
}

impl Positions {
    /// Whether a message is new; a message before the partition's next offset was handed on
    /// already (read again after a seek or a rebalance) and is dropped.
    fn take(&self, topic: &str, partition: i32, offset: i64) -> bool {
        let mut next = self.next.lock().expect("not poisoned");
        let expected = next.entry((topic.to_string(), partition)).or_insert(0);
        if offset < *expected {
            return false;
        }
        *expected = offset + 1;
        true
    }

    /// Where an assigned partition starts: after what this process handed on, else where
    /// the lake's commits say; none leaves it to the group's committed offset, else the
    /// partition's start.
    fn start(&self, topic: &str, partition: i32) -> Option<i64> {
        let handed_on = self.next.lock().expect("not poisoned").get(&(topic.to_string(), partition)).copied();
        handed_on.or_else(|| self.intake.stored_position(&position_key(topic, partition)).map(|p| p as i64))
    }

    fn report(&self, error: &str) {
        let mut last = self.last_error.lock().expect("not poisoned");
        if *last != error {
            eprintln!("warning: kafka: {error}");
            *last = error.to_string();
        }
    }
}

impl ClientContext for Positions {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.report(&format!("{error}: {reason}"));
    }
}

impl ConsumerContext for Positions {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, partitions: &mut TopicPartitionList) {
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let starts: Vec<(String, i32, i64)> = partitions
                    .elements()
                    .iter()
                    .filter_map(|p| self.start(p.topic(), p.partition()).map(|start| (p.topic().to_string(), p.partition(), start)))
                    .collect();
                for (topic, partition, start) in starts {
                    if let Err(e) = partitions.set_partition_offset(&topic, partition, Offset::Offset(start)) {
                        self.report(&format!("cannot start {topic} partition {partition} at offset {start}: {e}"));
                    }
                }
                consumer.assign(partitions)
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => consumer.unassign(),
            other => {
                self.report(&format!("rebalancing failed: {}", RDKafkaErrorCode::from(other)));
                consumer.unassign()
            }
        };
        if let Err(e) = result {
            self.report(&format!("cannot take the group's assignment: {e}"));
        }
    }
}
