//! What every handler shares: the application layer, and the configuration of the HTTP
//! service around it.

use std::sync::Arc;

use realname_app::Service;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

pub struct Shared {
    pub app: Arc<Service>,
    pub config: Config,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Handlers reach the application layer's store, clock and operations directly.
impl std::ops::Deref for Shared {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.app
    }
}
