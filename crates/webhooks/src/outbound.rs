//! The core's `WebhookSender` port, over this crate: the address policy
//! of `webhooks.allow_cidrs` (judged when an endpoint is made and again before every attempt,
//! the attempt connecting to the very address judged), Standard Webhooks signatures, and one
//! attempt with a 15 s timeout and no redirects.

use realname_core::ports::{SendOutcome, WebhookSender};
use realname_core::report::WebhookUrlProblem;

use crate::{AddressPolicy, Attempt, DELIVERY_TIMEOUT, Headers, Sender, UrlRefusal};

pub struct Outbound {
    policy: AddressPolicy,
    sender: Sender,
}

impl Outbound {
    pub fn new(policy: AddressPolicy) -> Outbound {
        Outbound {
            policy,
            sender: Sender::new(DELIVERY_TIMEOUT),
        }
    }
}

fn outcome(attempt: Attempt) -> SendOutcome {
    SendOutcome {
        status: attempt.status,
        retry_after: attempt.retry_after,
        error: attempt.error,
    }
}

#[async_trait::async_trait]
impl WebhookSender for Outbound {
    async fn admit(&self, url: &str) -> Result<(), WebhookUrlProblem> {
        let problem = |refusal: UrlRefusal| match refusal {
            UrlRefusal::Malformed
            | UrlRefusal::Userinfo
            | UrlRefusal::Fragment
            | UrlRefusal::Port => WebhookUrlProblem::Form,
            UrlRefusal::Scheme | UrlRefusal::PlainHttp { .. } => WebhookUrlProblem::Scheme,
            UrlRefusal::NotPublic { .. } => WebhookUrlProblem::NotPublic,
            UrlRefusal::Unresolvable => WebhookUrlProblem::Unresolvable,
        };
        let target = self.policy.check_url(url).map_err(problem)?;
        self.policy
            .resolve(&target)
            .await
            .map(drop)
            .map_err(problem)
    }

    fn new_secret(&self) -> Result<String, String> {
        crate::new_secret().map_err(|e| e.to_string())
    }

    async fn send(
        &self,
        url: &str,
        secrets: &[String],
        event_id: &str,
        timestamp: i64,
        body: Vec<u8>,
    ) -> SendOutcome {
        let target = match self.policy.check_url(url) {
            Ok(target) => target,
            Err(refusal) => return outcome(Attempt::refused(&refusal)),
        };
        let keys: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let headers = match Headers::new(&keys, event_id, timestamp, &body) {
            Ok(headers) => headers,
            Err(e) => return outcome(Attempt::failed(e.to_string())),
        };
        match self.policy.resolve(&target).await {
            Ok(addr) => outcome(self.sender.send(&target, addr, &headers, body).await),
            Err(refusal) => outcome(Attempt::refused(&refusal)),
        }
    }
}
