//! `realname-bench rotation`: a data-key rotation (`realname key rotate --data`) over a store
//! of submitted applications, while virtual users go through the whole journey. Prints the
//! values re-sealed per second (the rotation's own wait for the nodes to take up the new key
//! left out) and the journeys' latency before the rotation and while it re-seals.
//!
//! The applications are seeded through the product's own code before the server starts (see
//! `queue.rs`): each holds a sealed form, a sealed card and two sealed images of the size asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;

use crate::{
    Backend, Driver, data_key, fresh_database, percentile, realname_bin, reviewer_token,
    run_journeys, start_server, stop_after, write_out,
};

#[derive(clap::Args)]
pub struct RotationArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Backend,
    /// Applications in the store before the rotation.
    #[arg(long, default_value_t = 2000)]
    applications: usize,
    /// The size of each document image, in KiB.
    #[arg(long, default_value_t = 50)]
    image_kib: usize,
    /// Virtual users going through the journey, before and during the rotation.
    #[arg(long, default_value_t = 8)]
    users: usize,
    /// How long the journeys run before the rotation, for the figures to compare with.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Values per transaction (`--batch` of the command).
    #[arg(long, default_value_t = 500)]
    batch: u32,
    /// Milliseconds between batches (`--pause-ms` of the command).
    #[arg(long, default_value_t = 0)]
    pause_ms: u64,
}

async fn seed(url: &str, n: usize, image_kib: usize) -> f64 {
    let state = crate::queue::seeding_state(url).await;
    let image = Arc::new(realname_store_tests::fixtures::document_jpeg(
        b"",
        image_kib * 1024,
    ));
    let started = Instant::now();
    crate::queue::seed_each(&state, n, "applications", move |state, i| {
        let image = Arc::clone(&image);
        async move {
            let card = realname_store_tests::fixtures::icbc_card(i, "5555");
            let login = format!("rotation{i}@example.com");
            crate::queue::submit_with_images(&state, &login, &format!("K{i:08}"), &card, &image)
                .await
                .map(|_| ())
        }
    })
    .await;
    started.elapsed().as_secs_f64()
}

/// One line of figures: journeys, and requests of every kind pooled.
fn line(label: &str, wall: f64, mut whole: Vec<Duration>, mut requests: Vec<Duration>) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    whole.sort();
    requests.sort();
    println!(
        "| {label} | {wall:.1} | {} | {:.1} | {:.0} | {:.0} | {} | {:.1} | {:.1} |",
        whole.len(),
        whole.len() as f64 / wall,
        ms(percentile(&whole, 50.0)),
        ms(percentile(&whole, 99.0)),
        requests.len(),
        ms(percentile(&requests, 50.0)),
        ms(percentile(&requests, 99.0)),
    );
}

async fn take_requests(driver: &Driver) -> (Vec<Duration>, usize) {
    let timings = std::mem::take(&mut *driver.timings.lock().await);
    let errors = timings.errors.values().sum();
    (
        timings.by_endpoint.into_values().flatten().collect(),
        errors,
    )
}

pub async fn run(args: &RotationArgs) {
    let bin = realname_bin(None);
    let (dir, url) = fresh_database(args.database).await;
    let seeded = seed(&url, args.applications, args.image_kib).await;
    write_out(args.database, &url).await;
    let server = start_server(&bin, dir, &url);
    println!(
        "data-key rotation, {} store: {} applications seeded in {seeded:.1} s (a form, a card and two {} KiB images each), {} users",
        args.database.name(),
        args.applications,
        args.image_kib,
        args.users
    );
    let driver = Arc::new(Driver::new(Client::new(), server.base.clone()));
    let reviewer = reviewer_token(&driver, &server).await;
    take_requests(&driver).await;

    // Before: the journeys alone.
    let stop = stop_after(Duration::from_secs(args.seconds));
    let started = Instant::now();
    let before = run_journeys(&driver, args.users, &reviewer, 0, &stop).await;
    let before_wall = started.elapsed().as_secs_f64();
    let (before_requests, before_errors) = take_requests(&driver).await;

    // During: the same journeys while the rotation runs, until it ends.
    let stop = Arc::new(AtomicBool::new(false));
    let rotation = {
        let (bin, url, stop, dir) = (
            server.bin.clone(),
            server.url.clone(),
            Arc::clone(&stop),
            server.dir.path().to_path_buf(),
        );
        let (batch, pause) = (args.batch.to_string(), args.pause_ms.to_string());
        tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let started = Instant::now();
            let mut child = std::process::Command::new(bin)
                .args([
                    "key",
                    "rotate",
                    "--data",
                    "--batch",
                    &batch,
                    "--pause-ms",
                    &pause,
                ])
                .args(["--database", &url])
                .current_dir(dir)
                .env("REALNAME_DATA_KEY", data_key())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            // The re-sealing ends where the command says nothing is left and waits to count
            // again: the journeys' figures and the rate are of the time before that.
            let (mut resealed_by, mut said) = (None, String::new());
            let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
            for line in lines.map_while(Result::ok) {
                if resealed_by.is_none() && line.starts_with("nothing left under") {
                    resealed_by = Some(started.elapsed());
                    stop.store(true, Ordering::Relaxed);
                }
                if line.starts_with("data key replaced") {
                    said = line;
                }
            }
            let status = child.wait().unwrap();
            stop.store(true, Ordering::Relaxed);
            assert!(status.success(), "the rotation failed");
            (resealed_by.unwrap_or_else(|| started.elapsed()), said)
        })
    };
    // The figures are of the re-sealing itself: the journeys start once the rotation has
    // waited for the nodes to take up the new key.
    tokio::time::sleep(realname_server::rotation::TAKE_UP).await;
    let started = Instant::now();
    let during = run_journeys(&driver, args.users, &reviewer, 1_000_000, &stop).await;
    let during_wall = started.elapsed().as_secs_f64();
    let (took, said) = rotation.await.unwrap();
    let (during_requests, during_errors) = take_requests(&driver).await;
    let resealed: u64 = said
        .strip_prefix("data key replaced: ")
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the rotation says how many values it re-sealed");
    let working = took.saturating_sub(realname_server::rotation::TAKE_UP);
    println!(
        "rotation: {resealed} values re-sealed in {:.1} s after a wait of {:.1} s for the nodes, {:.0} values/s, batches of {}, {} ms apart",
        working.as_secs_f64(),
        realname_server::rotation::TAKE_UP.as_secs_f64(),
        resealed as f64 / working.as_secs_f64().max(f64::MIN_POSITIVE),
        args.batch,
        args.pause_ms
    );
    println!("errors: {before_errors} before, {during_errors} during");
    println!();
    println!(
        "| | s | journeys | journeys/s | journey p50 ms | journey p99 ms | requests | request p50 ms | request p99 ms |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    line("before", before_wall, before, before_requests);
    line("while re-sealing", during_wall, during, during_requests);
}
