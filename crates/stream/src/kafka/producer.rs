//! A Kafka producer that writes a batch of keyed messages and waits until the brokers have
//! them all.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};

use super::KafkaError;

/// How long a batch may take to be acknowledged by the brokers.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes messages to one topic; every message acknowledged by all in-sync replicas.
pub struct KafkaProducer {
    producer: ThreadedProducer<Deliveries>,
    topic: String,
}

impl KafkaProducer {
    /// A producer to `topic` at `brokers`.
    pub fn new(brokers: &str, topic: &str) -> Result<KafkaProducer, KafkaError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("client.id", "hela")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", DELIVERY_TIMEOUT.as_millis().to_string())
            .create_with_context(Deliveries::default())
            .map_err(KafkaError::Config)?;
        Ok(KafkaProducer { producer, topic: topic.to_string() })
    }

    /// The topic written to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Writes `(key, payload)` messages in order and returns once the brokers hold them all,
    /// or with the first error.
    pub fn send(&self, messages: &[(&str, &[u8])]) -> Result<(), String> {
        for (key, payload) in messages {
            let mut record = BaseRecord::to(&self.topic).key(*key).payload(*payload);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    // The local queue is full: wait for deliveries to make room.
                    Err((rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        self.producer.poll(Duration::from_millis(50));
                    }
                    Err((error, _)) => return Err(format!("cannot write to Kafka topic {}: {error}", self.topic)),
                }
            }
        }
        self.producer
            .flush(DELIVERY_TIMEOUT)
            .map_err(|error| format!("Kafka topic {} did not take the messages: {error}", self.topic))?;
        match self.producer.context().failed.lock().expect("not poisoned").take() {
            Some(error) => Err(format!("Kafka topic {} did not take a message: {error}", self.topic)),
            None => Ok(()),
        }
    }
}

/// Remembers the first message the brokers did not take since the last batch.
#[derive(Default)]
struct Deliveries {
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            self.failed.lock().expect("not poisoned").get_or_insert_with(|| error.to_string());
        }
    }
}
