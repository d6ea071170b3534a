//! The conformance cases of the job queue.

use super::*;

pub async fn jobs_are_leased_lapse_and_finish(store: DynStore) {
    // Six jobs of their own, so that no job a transition queues (payouts, event dispatch)
    // is in the way of what is counted.
    for n in 0..6u8 {
        let queued = store
            .queue_job(&NewJob {
                key: format!("lease-{n}"),
                kind: JobKind::PayDeposit,
                application_id: None,
                subject: None,
                due_at: t0(),
            })
            .await
            .unwrap();
        assert!(queued);
    }
    assert!(
        store
            .claim_jobs(t0() - TimeDelta::seconds(1), 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    // Two workers at once take disjoint jobs.
    let (a, b) = tokio::join!(store.claim_jobs(t0(), 60, 3), store.claim_jobs(t0(), 60, 3));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 6);
    assert!(a.iter().all(|j| !b.iter().any(|k| k.id == j.id)));
    assert!(
        store
            .claim_jobs(t0() + TimeDelta::seconds(30), 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    for job in &a {
        store.finish_job(job, t0()).await.unwrap();
    }
    store
        .retry_job(&b[0], t0() + TimeDelta::seconds(10))
        .await
        .unwrap();
    // After the lease lapses, unfinished jobs come back; finished ones never do.
    let again = store
        .claim_jobs(t0() + TimeDelta::seconds(61), 60, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), b.len());
    assert!(again.iter().all(|j| b.iter().any(|k| k.id == j.id)));
    assert!(again.iter().all(|j| j.attempts == 2));
    let id = account(&store, "j@example.com").await;
    let paid = draft(&store, id, &[]).await;
    store
        .submit(&submit_command(paid, id, b"j-paid", &[], t0()))
        .await
        .unwrap();
    store.mark_deposit_paid(paid, t0()).await.unwrap();
    store
        .mark_deposit_paid(paid, t0() + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .application(paid)
            .await
            .unwrap()
            .unwrap()
            .deposit
            .unwrap()
            .paid_at,
        Some(t0()),
        "the first payment time stays"
    );
}

pub async fn jobs_are_keyed_and_may_be_about_no_application(store: DynStore) {
    let id = account(&store, "k@example.com").await;
    let app = draft(&store, id, &[]).await;
    let job = |key: &str, application_id: Option<Uuid>| NewJob {
        key: key.into(),
        kind: JobKind::PayDeposit,
        application_id,
        subject: Some(format!("about {key}")),
        due_at: t0(),
    };
    assert!(store.queue_job(&job("one", Some(app))).await.unwrap());
    assert!(
        !store.queue_job(&job("one", Some(app))).await.unwrap(),
        "a key is queued once"
    );
    assert!(
        store.queue_job(&job("two", Some(app))).await.unwrap(),
        "an application may have many jobs of a kind"
    );
    assert!(store.queue_job(&job("batch", None)).await.unwrap());
    let jobs = store.claim_jobs(t0(), 60, 10).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.subject.as_deref() == Some(format!("about {}", j.key).as_str())),
        "a job keeps what it is about"
    );
    let mut keys: Vec<(&str, Option<Uuid>)> = jobs
        .iter()
        .map(|j| (j.key.as_str(), j.application_id))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [("batch", None), ("one", Some(app)), ("two", Some(app))]
    );
    // A transition's job is keyed as the core names it, so writing it twice queues it once.
    store
        .apply(&change(app, Status::Draft, Event::Cancel, t0()))
        .await
        .unwrap();
    let submitted = draft(&store, id, &[]).await;
    store
        .submit(&submit_command(submitted, id, b"card-k", &[], t0()))
        .await
        .unwrap();
    assert!(
        !store
            .queue_job(&NewJob::pay_deposit(submitted, t0()))
            .await
            .unwrap()
    );
}
