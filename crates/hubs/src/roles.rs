//! Members' roles, after Wenger's communities of practice: a small **core** that carries
//! the practice, an **active** ring that takes part regularly, and the **periphery**.
//!
//! Members are ranked by engagement (posts in the rolling window, with a little weight for
//! older posts so that a long-standing member outranks a newcomer with the same recent
//! count). The top `core_share` of members are core and the next `active_share` active,
//! each subject to a floor of recent posts: a hub where nobody wrote lately has no core.

use serde::{Deserialize, Serialize};

/// A member's role in a hub or a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Core,
    Active,
    Peripheral,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Core => "core",
            Role::Active => "active",
            Role::Peripheral => "peripheral",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How roles are assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleParams {
    /// Share of members (rounded up) that are core, at most.
    pub core_share: f64,
    /// Share of members (rounded up) after the core that are active, at most.
    pub active_share: f64,
    /// Recent posts a core member has written at least.
    pub core_min_recent: u32,
    /// Recent posts an active member has written at least.
    pub active_min_recent: u32,
    /// Weight of a post older than the window, against 1 for a recent one.
    pub older_weight: f64,
}

impl Default for RoleParams {
    fn default() -> Self {
        Self {
            core_share: 0.15,
            active_share: 0.20,
            core_min_recent: 2,
            active_min_recent: 1,
            older_weight: 0.1,
        }
    }
}

impl RoleParams {
    /// Engagement score of a member with `posts` in all, `recent` of them in the window.
    pub fn score(&self, posts: u32, recent: u32) -> f64 {
        f64::from(recent) + self.older_weight * f64::from(posts.saturating_sub(recent))
    }

    /// Roles for members already sorted by engagement, best first; `recent[i]` is member
    /// i's recent posts.
    pub fn assign(&self, recent: &[u32]) -> Vec<Role> {
        let n = recent.len();
        let take = |share: f64| {
            // Shares are in [0, 1]: the product is a small non-negative count.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = (share.clamp(0.0, 1.0) * n as f64).ceil() as usize;
            k.min(n)
        };
        let core = take(self.core_share);
        let active = core + take(self.active_share);
        recent
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                if i < core && r >= self.core_min_recent {
                    Role::Core
                } else if i < active && r >= self.active_min_recent {
                    Role::Active
                } else {
                    Role::Peripheral
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_floors() {
        let p = RoleParams::default();
        // 20 members: 3 core (15%, rounded up), 4 active (20%), 13 peripheral.
        let recent: Vec<u32> = (0..20).rev().map(|i| i + 2).collect();
        let roles = p.assign(&recent);
        let count = |r| roles.iter().filter(|&&x| x == r).count();
        assert_eq!(
            (
                count(Role::Core),
                count(Role::Active),
                count(Role::Peripheral)
            ),
            (3, 4, 13)
        );
        assert_eq!(roles[0], Role::Core);
        assert_eq!(roles[19], Role::Peripheral);
    }

    #[test]
    fn nobody_recent_means_no_core_and_no_active() {
        let p = RoleParams::default();
        assert!(
            p.assign(&[0, 0, 0, 0])
                .iter()
                .all(|&r| r == Role::Peripheral)
        );
        // One recent post is enough for active, not for core.
        assert_eq!(
            p.assign(&[1, 0, 0]),
            vec![Role::Active, Role::Peripheral, Role::Peripheral]
        );
    }

    #[test]
    fn older_posts_break_ties_but_do_not_outweigh_recent_ones() {
        let p = RoleParams::default();
        assert!(p.score(10, 2) > p.score(2, 2));
        // Ten older posts weigh as much as one recent one.
        assert!((p.score(3, 3) - p.score(12, 2)).abs() < 1e-9);
        assert!(p.score(3, 3) > p.score(11, 2));
    }
}
