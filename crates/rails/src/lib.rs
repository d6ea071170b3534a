//! Payout rails: how a micro-deposit reaches the user's card, each behind the core's
//! [`realname_core::ports::PayoutRail`]. A rail talks to core types only; the application
//! layer pays through whichever rail it was built with.
//!
//! - [`sandbox`]: the sandbox bank, whose ledger lives in the service's own database.

pub mod sandbox;

pub use sandbox::SandboxBank;
