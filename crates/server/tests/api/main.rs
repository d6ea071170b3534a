//! The service over real HTTP on a real SQLite file: one test binary, a module per concern.

// Test helpers fail loudly: a panic is how a test says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;
mod iso20022;

mod accounts;
mod concurrency;
mod deposit;
mod diligence;
mod edge;
mod erasure;
mod errors;
mod journey;
mod limits;
mod pages;
mod platform;
mod purges;
mod rails;
mod review;
mod rotation;
mod rules;
mod screening;
mod staff;
mod webhooks;
