//! The index feed: what `kith-index` reads to follow the store.
//!
//! The full-text index is derived data. It remembers the [`ChangeMark`] of the last post it
//! indexed and asks for the posts changed after it; a consistency check compares per-blog post counts and statuses with
//! what the index holds. Every query here is keyset-paginated on an index of `posts`.

use chrono::{DateTime, SecondsFormat, Utc};
use kith_model::{BlogId, BlogStatus, Post, PostId};

/// A position in the store's change order: posts are ordered by (`seq`, `id`), and a
/// reader that has seen a mark never sees a post commit before it.
///
/// - SQLite has one writer, which stamps `changed_at` just before it commits: time order
///   is commit order, and `seq` is `changed_at` in microseconds.
/// - PostgreSQL has many writers at once, and a transaction that started earlier may
///   commit later: `seq` is the id of the transaction that last wrote the post, and the
///   store hands out only posts written by transactions older than every transaction
///   still running (`pg_snapshot_xmin`), so nothing can later appear below a mark given
///   out (see `postgres::index_feed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeMark {
    pub seq: i64,
    pub id: PostId,
    /// When the post last changed (what a lag is measured against).
    pub changed_at: DateTime<Utc>,
}

impl ChangeMark {
    /// The mark of a store whose change order is time order (SQLite).
    pub fn at(changed_at: DateTime<Utc>, id: PostId) -> ChangeMark {
        ChangeMark {
            seq: changed_at.timestamp_micros(),
            id,
            changed_at,
        }
    }

    /// A compact text form, e.g. for an index commit payload: `RFC 3339 micros/id`, then
    /// `/seq` when the order is not time order.
    pub fn encode(&self) -> String {
        let time = self.changed_at.to_rfc3339_opts(SecondsFormat::Micros, true);
        if self.seq == self.changed_at.timestamp_micros() {
            format!("{time}/{}", self.id.0)
        } else {
            format!("{time}/{}/{}", self.id.0, self.seq)
        }
    }

    /// The inverse of [`ChangeMark::encode`]; `None` for anything else.
    pub fn decode(s: &str) -> Option<ChangeMark> {
        let mut parts = s.trim().split('/');
        let (t, id, seq) = (parts.next()?, parts.next()?, parts.next());
        if parts.next().is_some() {
            return None;
        }
        let changed_at = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc);
        let mark = ChangeMark::at(changed_at, PostId(id.parse().ok()?));
        Some(match seq {
            None => mark,
            Some(seq) => ChangeMark {
                seq: seq.parse().ok()?,
                ..mark
            },
        })
    }
}

/// A post as the index needs it: with its change mark and its blog's status.
#[derive(Debug, Clone)]
pub struct ChangedPost {
    pub mark: ChangeMark,
    pub blog_status: BlogStatus,
    pub post: Post,
}

/// Which store, and how far what is public in it has changed outside the posts' change
/// marks (see [`crate::Store::store_epoch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEpoch {
    /// Random, made when the store was created.
    pub store_id: String,
    pub epoch: i64,
}

impl StoreEpoch {
    /// `store_id:epoch`, as an index keeps it in its commit payload.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.store_id, self.epoch)
    }

    /// The inverse of [`StoreEpoch::encode`]; `None` for anything else.
    pub fn decode(s: &str) -> Option<StoreEpoch> {
        let (id, epoch) = s.trim().rsplit_once(':')?;
        (!id.is_empty() && !id.contains(char::is_whitespace)).then_some(())?;
        Some(StoreEpoch {
            store_id: id.to_owned(),
            epoch: epoch.parse().ok()?,
        })
    }
}

/// One blog's status and how many posts it has in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlogPostCount {
    pub blog: BlogId,
    pub status: BlogStatus,
    pub posts: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn change_marks_round_trip_and_reject_junk() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let m = ChangeMark::at(t, PostId(42));
        assert_eq!(m.encode(), "2026-01-02T03:04:05.123456Z/42");
        assert_eq!(ChangeMark::decode(&m.encode()), Some(m));
        let pg = ChangeMark {
            seq: 7_654_321,
            ..m
        };
        assert_eq!(pg.encode(), "2026-01-02T03:04:05.123456Z/42/7654321");
        assert_eq!(ChangeMark::decode(&pg.encode()), Some(pg));
        assert!(m < ChangeMark::at(t, PostId(43)));
        assert_eq!(ChangeMark::decode("2026-01-02T03:04:05Z/1/2/3"), None);
        assert_eq!(ChangeMark::decode(""), None);
        assert_eq!(ChangeMark::decode("yesterday/1"), None);
        assert_eq!(ChangeMark::decode("2026-01-02T03:04:05Z/x"), None);
    }
}
