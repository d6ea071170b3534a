//! The service over a bank that misbehaves: the payout rail is a part the service is given,
//! so these tests give it one that fails, holds a payout, or says everything twice, around
//! the real sandbox bank.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use realname_core::ports::{PayoutInstruction, PayoutNotice, PayoutRail, RailError};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::helpers::*;

/// The sandbox bank behind a switchboard of faults.
struct Unreliable {
    bank: Arc<dyn PayoutRail>,
    /// This many payouts are refused as "bank unreachable" before the bank answers again.
    unreachable_for: AtomicU32,
    /// Every payout and every notice happens twice.
    twice: bool,
    /// A payout waits for a permit: the bank holds it until the test lets it through.
    gate: Option<Arc<Semaphore>>,
    pays: AtomicU32,
}

impl Unreliable {
    fn around(bank: Arc<dyn PayoutRail>) -> Unreliable {
        Unreliable {
            bank,
            unreachable_for: AtomicU32::new(0),
            twice: false,
            gate: None,
            pays: AtomicU32::new(0),
        }
    }
}

#[async_trait::async_trait]
impl PayoutRail for Unreliable {
    async fn pay(&self, payout: &PayoutInstruction, now: DateTime<Utc>) -> Result<(), RailError> {
        self.pays.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await;
        }
        if self
            .unreachable_for
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(RailError::Unavailable("connection refused".into()));
        }
        self.bank.pay(payout, now).await?;
        if self.twice {
            self.bank.pay(payout, now).await?;
        }
        Ok(())
    }

    async fn notices(&self, now: DateTime<Utc>) -> Result<Vec<PayoutNotice>, RailError> {
        let mut notices = self.bank.notices(now).await?;
        if self.twice {
            notices.extend(notices.clone());
        }
        Ok(notices)
    }

    async fn acknowledge(&self, end_to_end_ids: &[String]) -> Result<(), RailError> {
        self.bank.acknowledge(end_to_end_ids).await
    }
}

/// A service whose bank is `rail(sandbox bank)`; returns the wrapper too.
async fn with_bank(
    make: impl FnOnce(Arc<dyn PayoutRail>) -> Unreliable,
) -> (TestApp, Arc<Unreliable>) {
    let mut made = None;
    let app = spawn_changed(|mut parts| {
        let rail = Arc::new(make(parts.rail.clone()));
        made = Some(rail.clone());
        parts.rail = rail;
        parts
    })
    .await;
    (app, made.expect("the rail was made"))
}

#[tokio::test]
async fn an_unreachable_bank_is_tried_again_until_it_pays_once() {
    let (app, bank) = with_bank(|b| {
        let bank = Unreliable::around(b);
        bank.unreachable_for.store(2, Ordering::SeqCst);
        bank
    })
    .await;
    let token = app.register("anna@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit(&token, &id).await;
    app.advance(0).await;
    let waiting = app.application(&token, &id).await;
    assert_eq!(waiting["status"], "deposit_pending");
    assert_eq!(waiting["deposit"]["status"], "scheduled");
    assert!(app.statement(CARD).await.is_empty(), "nothing paid yet");

    // The job backs off (60 s, then 120 s) and tries again; the third attempt pays.
    app.advance(61).await;
    assert_eq!(
        app.application(&token, &id).await["status"],
        "deposit_pending"
    );
    app.advance(121).await;
    let settled = app.application(&token, &id).await;
    assert_eq!(settled["status"], "awaiting_amount", "{settled}");
    assert_eq!(bank.pays.load(Ordering::SeqCst), 3);
    assert_eq!(
        app.statement(CARD).await.len(),
        1,
        "one deposit, whatever the retries"
    );
    app.advance(3600).await;
    assert_eq!(
        bank.pays.load(Ordering::SeqCst),
        3,
        "a paid deposit is never paid again"
    );

    let amount = app.deposit_amount(CARD).await;
    let (status, body) = app
        .post(
            &format!("/v1/verifications/{id}/deposit_confirmation"),
            Some(&token),
            json!({"amount": amount}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("under_review"))
    );
}

#[tokio::test]
async fn a_bank_that_says_everything_twice_moves_the_application_once() {
    let (app, bank) = with_bank(|b| Unreliable {
        twice: true,
        ..Unreliable::around(b)
    })
    .await;
    let token = app.register("anna@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    app.submit(&token, &id).await;
    app.advance(0).await;
    app.advance(0).await;
    let settled = app.application(&token, &id).await;
    assert_eq!(settled["status"], "awaiting_amount");
    assert_eq!(
        event_statuses(&settled),
        ["draft", "deposit_pending", "awaiting_amount"]
    );
    assert_eq!(bank.pays.load(Ordering::SeqCst), 1);
    assert_eq!(app.statement(CARD).await.len(), 1);

    // A returned card said twice fails its application once and blocks the card once.
    let other = app.register("bob@example.com").await;
    let returned = "6222020000000080002";
    let second = app.ready_draft(&other, returned).await;
    app.submit(&other, &second).await;
    app.advance(0).await;
    let failed = app.application(&other, &second).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure"]["bank_reason"], "AC04");
    assert_eq!(failed["events"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_slow_bank_does_not_hold_the_user() {
    let gate = Arc::new(Semaphore::new(0));
    let (app, bank) = with_bank({
        let gate = gate.clone();
        move |b| Unreliable {
            gate: Some(gate),
            ..Unreliable::around(b)
        }
    })
    .await;
    let token = app.register("anna@example.com").await;
    let id = app.ready_draft(&token, CARD).await;
    // The submit answers while the bank still holds the payout.
    app.submit(&token, &id).await;
    for _ in 0..50 {
        if bank.pays.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        bank.pays.load(Ordering::SeqCst),
        1,
        "the worker is at the bank"
    );
    let waiting = app.application(&token, &id).await;
    assert_eq!(waiting["status"], "deposit_pending");
    assert_eq!(waiting["deposit"]["status"], "scheduled");
    gate.add_permits(10);
    app.advance(0).await;
    assert_eq!(
        app.application(&token, &id).await["status"],
        "awaiting_amount"
    );
    assert_eq!(bank.pays.load(Ordering::SeqCst), 1);
}
