//! Alerts POSTed to a URL, one JSON object a request, with the alert's id in the
//! `Idempotency-Key` header as well as in the body.

use std::time::Duration;

use ureq::Agent;

use super::{Failure, Sink, SinkError};
use crate::alert::Alert;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Webhook {
    agent: Agent,
    url: String,
}

impl Webhook {
    pub fn new(url: &str) -> Result<Webhook, SinkError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(SinkError::Webhook(url.to_string()));
        }
        let agent = Agent::config_builder().timeout_global(Some(TIMEOUT)).http_status_as_error(false).build().new_agent();
        Ok(Webhook { agent, url: url.to_string() })
    }
}

impl Sink for Webhook {
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        for (sent, alert) in alerts.iter().enumerate() {
            let answer = self
                .agent
                .post(&self.url)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", alert.id.as_ref())
                .send(alert.to_json_line());
            let failure = |error: String, permanent: bool| Failure { sent, error, permanent };
            match answer {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => {
                    let status = response.status();
                    // The receiver refused the alert itself; sending it again cannot help
                    // (except when it asks for time: 408 and 429).
                    let permanent = status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429;
                    return Err(failure(format!("{} answered {status}", self.url), permanent));
                }
                Err(e) => return Err(failure(format!("cannot POST to {}: {e}", self.url), false)),
            }
        }
        Ok(())
    }
}
