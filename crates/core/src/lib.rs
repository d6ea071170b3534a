//! The domain of `realname`: every rule of real-name authentication for foreign users, with
//! no I/O, no async runtime, no SQL and no HTTP. The outer crates are thin around it.
//!
//! - [`application`]: the whole form, checked at creation and again at submission.
//! - [`name`], [`phone`], [`applicant`], [`documents`], [`card`]: types that parse and, once
//!   made, are valid; personal data among them masks itself in `Debug`.
//! - [`policy`]: the bank policy as data, with the default compiled in.
//! - [`deposit`]: the micro-deposit amount, answers, attempts, expiry and limits.
//! - [`state`]: the one transition function over (status, event), and failures.
//! - [`review`]: reasons, decisions and flags.
//! - [`platform`]: API keys, their modes and scopes.
//! - [`codes`]: the catalogue of every stable code with its English and Chinese message.
//! - [`ports`]: the traits the outer layers implement (clock, vault, payout rail), and
//!   [`store`]: the one storage trait every database backend implements.

pub mod applicant;
pub mod application;
pub mod card;
pub mod codes;
mod countries;
pub mod delivery;
pub mod deposit;
pub mod diligence;
pub mod documents;
pub mod name;
pub mod phone;
pub mod platform;
pub mod policy;
pub mod ports;
pub mod report;
pub mod retention;
pub mod review;
pub mod risk;
pub mod state;
pub mod store;

pub use codes::Code;
pub use report::{Breach, Detail, Report};
