//! Erasure and the retention sweep's selection (CONTRACT 11), on every backend.

use chrono::{DateTime, TimeDelta, Utc};
use realname_core::platform::{EventQuery, EventType, KeyMode, LinkToken, PlatformSession};
use realname_core::retention::{RetentionRules, due};
use realname_core::review::ReviewReason;
use realname_core::state::{Event, Status};
use realname_core::store::*;
use uuid::Uuid;

use crate::{DynStore, account, change, draft, draft_with_card, settled, t0};

fn audit(app: Option<Uuid>, action: &str, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        id: Uuid::new_v4(),
        at,
        actor: Uuid::nil(),
        action: action.into(),
        application_id: app,
        detail: "{\"rule\":\"retention.failed_after\"}".into(),
    }
}

fn erasure(app: Uuid, account: Uuid, status: Status, at: DateTime<Utc>) -> Erasure {
    Erasure {
        application_id: app,
        status,
        cancel: None,
        at,
        livemode: false,
        audit: audit(Some(app), "erase", at),
        answers_scope: account.to_string(),
    }
}

/// A platform's user bound to a new account.
async fn platform_user(store: &DynStore, ext: &str) -> Uuid {
    let account = Account {
        id: Uuid::new_v4(),
        login: format!("platform:{ext}"),
        password_hash: String::new(),
        role: Role::User,
        created_at: t0(),
    };
    store.link_platform_user(ext, &account).await.unwrap()
}

/// Takes an application in `awaiting_amount` to `verified`.
async fn verify(store: &DynStore, app: Uuid, at: DateTime<Utc>) {
    for (from, event) in [
        (Status::AwaitingAmount, Event::AmountAccepted),
        (Status::UnderReview, Event::Approve),
    ] {
        let applied = store.apply(&change(app, from, event, at)).await.unwrap();
        assert_eq!(applied, Applied::Done);
    }
}

pub async fn erasure_takes_the_sealed_parts_and_keeps_the_history_and_hashes(store: DynStore) {
    let later = t0() + TimeDelta::days(91);
    let owner = account(&store, "erase@example.com").await;
    let app = settled(&store, owner, b"card-erase").await;
    let image = ImageMeta {
        slot: "passport_photo_page".into(),
        content_type: "image/png".into(),
        bytes: 4,
        sha256: "ab".into(),
    };
    let expired = change(app, Status::AwaitingAmount, Event::DepositExpired, t0());
    assert_eq!(store.apply(&expired).await.unwrap(), Applied::Done);
    // A replayable answer of the owner's, and one of someone else's.
    for scope in [owner.to_string(), "someone else".to_owned()] {
        store
            .begin_idempotent(&scope, "k", b"h", t0())
            .await
            .unwrap();
        store
            .finish_idempotent(&scope, "k", 201, b"sealed answer")
            .await
            .unwrap();
    }
    let other = account(&store, "erase-other@example.com").await;
    let history_before = store.card_history(other, b"card-erase").await.unwrap();

    assert_eq!(
        store
            .erase(&erasure(app, owner, Status::Cancelled, later))
            .await
            .unwrap(),
        Erased::Moved,
        "an erasure is guarded by the status it expects"
    );
    assert_eq!(
        store
            .erase(&erasure(Uuid::new_v4(), owner, Status::Failed, later))
            .await
            .unwrap(),
        Erased::NotFound
    );
    let before = store.application(app).await.unwrap().unwrap();
    assert_eq!(before.redacted_at, None);
    assert_eq!(
        store
            .erase(&erasure(app, owner, Status::Failed, later))
            .await
            .unwrap(),
        Erased::Done
    );
    assert_eq!(
        store
            .erase(&erasure(app, owner, Status::Failed, later))
            .await
            .unwrap(),
        Erased::Already
    );

    let after = store.application(app).await.unwrap().unwrap();
    assert_eq!(after.redacted_at, Some(later));
    assert!(after.form.is_empty(), "the sealed identity is gone");
    assert_eq!(after.card, None, "the sealed card is gone");
    assert!(after.deposit.as_ref().unwrap().amount.is_empty());
    // What stays: the status, its history, the failure, when it changed.
    assert_eq!(after.status, Status::Failed);
    assert_eq!(after.events, before.events);
    assert_eq!(after.failure, before.failure);
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(
        store.card_history(other, b"card-erase").await.unwrap(),
        history_before,
        "the card's keyed hash still answers for it"
    );
    // The owner's kept answers went with it; another caller's did not.
    assert_eq!(
        store
            .begin_idempotent(&owner.to_string(), "k", b"h", later)
            .await
            .unwrap(),
        Idempotency::New
    );
    assert!(matches!(
        store
            .begin_idempotent("someone else", "k", b"h", later)
            .await
            .unwrap(),
        Idempotency::Replay { .. }
    ));
    // One `verification.redacted` event, next in the sequence, and one audit row.
    let events = store
        .events(&EventQuery {
            event_type: None,
            application_id: Some(app),
            since: t0() - TimeDelta::days(1),
            livemode: false,
            before: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(events[0].event_type, EventType::Redacted);
    assert_eq!(events[0].status, Status::Failed);
    assert_eq!(events[0].sequence, events[1].sequence + 1);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == EventType::Redacted)
            .count(),
        1
    );
    let facts = store.case_facts(&[app]).await.unwrap();
    assert!(
        facts.iter().all(|f| f.form.is_none()),
        "no sealed identity to flag by"
    );
    let trail = store.audit_trail(Some(app), 10).await.unwrap();
    assert_eq!(
        trail.iter().filter(|e| e.action == "erase").count(),
        1,
        "a second erasure writes nothing"
    );

    // A draft is cancelled and erased in one transaction, its images with it.
    let owner2 = account(&store, "erase-draft@example.com").await;
    let draft_app = draft(&store, owner2, &[b"doc-erase-draft"]).await;
    store
        .put_image(draft_app, &image, b"sealed image", t0())
        .await
        .unwrap();
    let mut cancel_and_erase = erasure(draft_app, owner2, Status::Cancelled, later);
    cancel_and_erase.cancel = Some(change(draft_app, Status::Draft, Event::Cancel, later));
    assert_eq!(store.erase(&cancel_and_erase).await.unwrap(), Erased::Done);
    let erased_draft = store.application(draft_app).await.unwrap().unwrap();
    assert_eq!(erased_draft.status, Status::Cancelled);
    assert_eq!(erased_draft.redacted_at, Some(later));
    assert!(erased_draft.images.is_empty());
    assert_eq!(
        store.image(draft_app, "passport_photo_page").await.unwrap(),
        None
    );
    // Its cancellation was guarded too: a second attempt finds it no draft.
    assert_eq!(store.erase(&cancel_and_erase).await.unwrap(), Erased::Moved);
    // A store that holds only erased applications offers none as a sample of its sealing.
    let sample = store.sample_sealed().await.unwrap();
    assert!(sample.is_none_or(|(id, form)| id != app && id != draft_app && !form.is_empty()));
}

pub async fn the_sweep_finds_what_is_due_to_the_second(store: DynStore) {
    let rules = RetentionRules::default();
    let second = TimeDelta::seconds(1);
    let at = t0();
    let found = |due: Vec<RetentionCandidate>| -> Vec<Uuid> {
        due.into_iter().map(|c| c.application_id).collect()
    };

    let owner = account(&store, "due-failed@example.com").await;
    let failed = settled(&store, owner, b"card-due-1").await;
    store
        .apply(&change(
            failed,
            Status::AwaitingAmount,
            Event::DepositExpired,
            at,
        ))
        .await
        .unwrap();
    let fraudster = account(&store, "due-fraud@example.com").await;
    let fraud = settled(&store, fraudster, b"card-due-2").await;
    for (from, event) in [
        (Status::AwaitingAmount, Event::AmountAccepted),
        (
            Status::UnderReview,
            Event::Reject(ReviewReason::SuspectedFraud),
        ),
    ] {
        store.apply(&change(fraud, from, event, at)).await.unwrap();
    }
    let idle = account(&store, "due-draft@example.com").await;
    let untouched = draft_with_card(&store, idle, &[b"doc-due-draft"], b"card-due-3").await;
    let open_user = platform_user(&store, "due-open").await;
    let verified_open = settled(&store, open_user, b"card-due-4").await;
    verify(&store, verified_open, at).await;
    let closed_user = platform_user(&store, "due-closed").await;
    let verified_closed = settled(&store, closed_user, b"card-due-5").await;
    verify(&store, verified_closed, at).await;
    let closed_at = at + TimeDelta::days(10);
    assert_eq!(
        store
            .close_platform_user(&Closure {
                account_id: closed_user,
                at: closed_at,
                cancel: None,
                audit: audit(None, "close_account", closed_at),
            })
            .await
            .unwrap(),
        Closed::Done
    );
    assert_eq!(
        store.account_closed_at(closed_user).await.unwrap(),
        Some(closed_at)
    );
    assert_eq!(store.account_closed_at(open_user).await.unwrap(), None);

    let sweep = |now: DateTime<Utc>| {
        let store = store.clone();
        async move { found(store.retention_due(&due(&rules, now), 100).await.unwrap()) }
    };
    // The draft was last touched at t0 (its card).
    let draft_due = at + rules.draft_after;
    assert!(!sweep(draft_due - second).await.contains(&untouched));
    assert_eq!(sweep(draft_due).await, vec![untouched]);
    let failed_due = at + rules.failed_after;
    assert!(!sweep(failed_due - second).await.contains(&failed));
    let at_90 = sweep(failed_due).await;
    assert!(at_90.contains(&failed) && at_90.contains(&untouched));
    assert!(
        !at_90.contains(&fraud),
        "a fraud finding is held for its own span"
    );
    let fraud_due = at + rules.fraud_hold;
    assert!(!sweep(fraud_due - second).await.contains(&fraud));
    assert!(sweep(fraud_due).await.contains(&fraud));
    let closed_due = closed_at + rules.verified_after;
    assert!(!sweep(closed_due - second).await.contains(&verified_closed));
    let last = sweep(closed_due).await;
    assert!(last.contains(&verified_closed));
    assert!(
        !last.contains(&verified_open),
        "a verified identity is kept while its account is open"
    );
    assert_eq!(
        store
            .retention_due(&due(&rules, closed_due), 2)
            .await
            .unwrap()
            .len(),
        2,
        "a sweep takes at most its batch"
    );
    // The candidates carry what the rules read.
    let candidates = store
        .retention_due(&due(&rules, closed_due), 100)
        .await
        .unwrap();
    let closed = candidates
        .iter()
        .find(|c| c.application_id == verified_closed)
        .unwrap();
    assert_eq!(closed.status, Status::Verified);
    assert_eq!(closed.account_closed_at, Some(closed_at));
    assert_eq!(closed.account_id, closed_user);

    // Erased applications are found no more.
    store
        .erase(&erasure(failed, owner, Status::Failed, failed_due))
        .await
        .unwrap();
    assert!(!sweep(closed_due).await.contains(&failed));
}

pub async fn closing_a_platform_user_cancels_its_draft_and_frees_its_id(store: DynStore) {
    let at = t0() + TimeDelta::days(1);
    let first = platform_user(&store, "ext-close").await;
    let open_draft = draft(&store, first, &[b"doc-close"]).await;
    store
        .create_page_session(b"page-close", first, at + TimeDelta::hours(1))
        .await
        .unwrap();
    let session = PlatformSession {
        id: Uuid::new_v4(),
        account_id: first,
        external_user_id: "ext-close".into(),
        return_url: None,
        locale: None,
        metadata: "{}".into(),
        mode: KeyMode::Test,
        created_at: t0(),
        purpose: realname_core::platform::SessionPurpose::Verification,
    };
    let link = LinkToken {
        token_hash: b"link-close".to_vec(),
        session_id: session.id,
        expires_at: at + TimeDelta::minutes(15),
    };
    store
        .create_platform_session(&session, &link)
        .await
        .unwrap();

    // Without cancelling the draft, the closure refuses and writes nothing.
    let refused = store
        .close_platform_user(&Closure {
            account_id: first,
            at,
            cancel: None,
            audit: audit(None, "close_account", at),
        })
        .await;
    assert_eq!(
        refused,
        Err(StoreError::Conflict("application_in_progress".into()))
    );
    assert_eq!(
        store.platform_account("ext-close").await.unwrap(),
        Some(first)
    );
    let closure = Closure {
        account_id: first,
        at,
        cancel: Some(change(open_draft, Status::Draft, Event::Cancel, at)),
        audit: audit(None, "close_account", at),
    };
    assert_eq!(
        store.close_platform_user(&closure).await.unwrap(),
        Closed::Done
    );
    assert_eq!(
        store.application(open_draft).await.unwrap().unwrap().status,
        Status::Cancelled
    );
    assert_eq!(store.platform_account("ext-close").await.unwrap(), None);
    assert_eq!(
        store.page_session_account(b"page-close", at).await.unwrap(),
        None,
        "its browser sessions end"
    );
    assert_eq!(store.link(b"link-close", at).await.unwrap(), None);
    assert_eq!(
        store.close_platform_user(&closure).await.unwrap(),
        Closed::NotOpen
    );
    // A later session for the id makes a new account under the same login.
    let second = platform_user(&store, "ext-close").await;
    assert_ne!(second, first);
    assert_eq!(
        store.external_user_of(first).await.unwrap().as_deref(),
        Some("ext-close"),
        "the closed account still says whose it was"
    );
    let trail = store.audit_trail(None, 50).await.unwrap();
    assert_eq!(
        trail.iter().filter(|e| e.action == "close_account").count(),
        1
    );

    // An application in progress refuses the closure.
    let busy = platform_user(&store, "ext-busy").await;
    settled(&store, busy, b"card-busy").await;
    assert_eq!(
        store
            .close_platform_user(&Closure {
                account_id: busy,
                at,
                cancel: None,
                audit: audit(None, "close_account", at),
            })
            .await,
        Err(StoreError::Conflict("application_in_progress".into()))
    );
}
