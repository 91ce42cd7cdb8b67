//! Alerts written to a Kafka topic, keyed by their id.

use hela_stream::kafka::KafkaProducer;

use super::{Failure, Sink, SinkError};
use crate::alert::Alert;

pub struct KafkaTopic {
    producer: KafkaProducer,
}

impl KafkaTopic {
    pub fn new(brokers: &str, topic: &str) -> Result<KafkaTopic, SinkError> {
        Ok(KafkaTopic { producer: KafkaProducer::new(brokers, topic)? })
    }
}

impl Sink for KafkaTopic {
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        let lines: Vec<String> = alerts.iter().map(Alert::to_json_line).collect();
        let messages: Vec<(&str, &[u8])> = alerts.iter().zip(&lines).map(|(a, l)| (a.id.as_ref(), l.as_bytes())).collect();
        self.producer.send(&messages).map_err(|error| Failure { sent: 0, error, permanent: false })
    }
}
