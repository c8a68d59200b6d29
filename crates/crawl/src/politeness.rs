//! Politeness: a global limit on requests in flight, a per-host limit, and a minimum gap
//! between requests to one host. Every blog on one host shares that host's budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Hosts whose state is kept when idle; beyond this, idle hosts are forgotten.
const MAX_IDLE_HOSTS: usize = 4096;

#[derive(Debug)]
pub struct Politeness {
    global: Arc<Semaphore>,
    per_host: usize,
    delay: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    slots: Arc<Semaphore>,
    /// Earliest time the next request to this host may start.
    next_start: tokio::sync::Mutex<Instant>,
}

/// Held while a request is in flight; dropping it frees the slots.
#[derive(Debug)]
pub struct Permit {
    _global: OwnedSemaphorePermit,
    _host: OwnedSemaphorePermit,
}

impl Politeness {
    pub fn new(global: usize, per_host: usize, delay: Duration) -> Self {
        Self {
            global: Arc::new(Semaphore::new(global.max(1))),
            per_host: per_host.max(1),
            delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot on `host`, for the host's minimum gap, then for a global slot.
    /// `None` only if the limiter was shut down.
    pub async fn acquire(&self, host: &str) -> Option<Permit> {
        let h = self.host(host);
        // Host first: a busy host must not hold global slots while it waits for its own.
        let host_permit = Arc::clone(&h.slots).acquire_owned().await.ok()?;
        {
            let mut next = h.next_start.lock().await;
            if *next > Instant::now() {
                tokio::time::sleep_until(*next).await;
            }
            *next = Instant::now() + self.delay;
        }
        let global_permit = Arc::clone(&self.global).acquire_owned().await.ok()?;
        Some(Permit {
            _global: global_permit,
            _host: host_permit,
        })
    }

    fn host(&self, host: &str) -> Arc<Host> {
        let mut hosts = match self.hosts.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        };
        if hosts.len() > MAX_IDLE_HOSTS {
            // Forget hosts nobody is using right now (no outstanding Arc, all slots free).
            let per_host = self.per_host;
            hosts.retain(|_, h| Arc::strong_count(h) > 1 || h.slots.available_permits() < per_host);
        }
        Arc::clone(hosts.entry(host.to_owned()).or_insert_with(|| {
            Arc::new(Host {
                slots: Arc::new(Semaphore::new(self.per_host)),
                next_start: tokio::sync::Mutex::new(Instant::now()),
            })
        }))
    }
}
