//! The service forgets what it keeps for a while only (CONTRACT 11): under a steady load of
//! journeys over months of sandbox time, the tables of events, jobs and sessions stay bounded.

use crate::helpers::*;

/// How many rows `table` holds now, read from the database itself.
fn rows(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT CAST(count(*) AS TEXT) FROM {table}");
    let count = db_column(app, &sql, &sql);
    count[0].parse().unwrap()
}

#[tokio::test]
async fn a_steady_load_leaves_the_purged_tables_bounded() {
    let app = spawn_app().await;
    const ROUNDS: u32 = 18;
    const DAYS_A_ROUND: i64 = 5;
    let mut sizes = Vec::new();
    for round in 0..ROUNDS {
        // A user a round: registers, submits, and the bank settles the deposit.
        let token = app.register(&format!("steady-{round}@example.com")).await;
        let mut person = identity();
        person["documents"]["passport"]["number"] = format!("P{round:07}").into();
        let id = app
            .ready_draft_with(&token, person, &card_number(round + 1))
            .await;
        app.submit_and_settle(&token, &id).await;
        app.advance(DAYS_A_ROUND * 86_400).await;
        sizes.push((
            rows(&app, "platform_events"),
            rows(&app, "jobs"),
            rows(&app, "sessions"),
        ));
    }
    // Events and finished jobs are kept 30 days, sessions 12 hours: after the first 30 days the
    // tables hold what the last 30 days made, not everything since the start.
    let steady = (30 / DAYS_A_ROUND) as usize;
    let (early, late) = (sizes[steady + 1], sizes[ROUNDS as usize - 1]);
    assert!(late.0 <= early.0 && late.1 <= early.1, "{sizes:?}");
    assert!(late.0 > 0, "the last 30 days' events are kept: {sizes:?}");
    assert!(late.2 <= 1, "lapsed sessions are gone: {sizes:?}");
}
