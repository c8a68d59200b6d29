//! WebSub subscriptions: a blog's feed pushed to us by its hub.

use crate::BlogId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    /// The feed names a hub; we have not asked it yet.
    Wanted,
    /// We asked; the hub has not verified our intent yet.
    Requested,
    /// Verified: the hub pushes new content until the lease ends.
    Active,
    /// The hub refused or never verified; asked again later.
    Failed,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wanted => "wanted",
            Self::Requested => "requested",
            Self::Active => "active",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Wanted, Self::Requested, Self::Active, Self::Failed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

impl fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One blog's WebSub subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub blog_id: BlogId,
    pub hub: String,
    pub topic: String,
    /// HMAC key for deliveries; never shown.
    pub secret: String,
    pub state: SubscriptionState,
    pub requested_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}
