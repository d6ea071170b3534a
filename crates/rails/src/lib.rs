//! Payout rails: how a micro-deposit reaches the user's card, each behind the core's
//! [`realname_core::ports::PayoutRail`]. A rail talks to core types only; the application
//! layer pays through whichever rail it was built with.
//!
//! - [`sandbox`]: the sandbox bank, whose ledger lives in the service's own database.
//! - [`iso20022`]: the platform's bank, through ISO 20022 files in a host-to-host folder pair.

pub mod iso20022;
pub mod sandbox;

pub use iso20022::Iso20022Rail;
pub use sandbox::SandboxBank;
