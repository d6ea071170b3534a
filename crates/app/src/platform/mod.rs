//! The platform side (CONTRACT 9): what a payment platform's backend does with its API keys.
//!
//! - [`keys`]: making, listing and revoking keys, and resolving one to a caller.
//! - [`sessions`]: linking the platform's users, and the single-use links that sign them in.
//! - [`events`]: the event feed.
//! - [`webhooks`]: endpoints, and the delivery of every event to them.
//! - [`reads`]: what the platform may read of its users and their applications.

pub mod events;
pub mod keys;
pub mod reads;
pub mod sessions;
pub mod webhooks;
