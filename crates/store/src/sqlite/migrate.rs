//! Embedded, numbered, append-only migrations.
//!
//! Order is important: add new migrations at the end with the next number, never edit one
//! that has shipped. Each runs in its own transaction together with its bookkeeping row,
//! so a crash mid-migration leaves the previous version intact.

use crate::{Error, Result};
use rusqlite::{Connection, params};

/// A migration: version, name, SQL.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "retag",
        sql: include_str!("../../migrations/sqlite/0002_retag.sql"),
    },
    Migration {
        version: 3,
        name: "hubs",
        sql: include_str!("../../migrations/sqlite/0003_hubs.sql"),
    },
    Migration {
        version: 4,
        name: "poll_notes",
        sql: include_str!("../../migrations/sqlite/0004_poll_notes.sql"),
    },
    Migration {
        version: 5,
        name: "robots",
        sql: include_str!("../../migrations/sqlite/0005_robots.sql"),
    },
    Migration {
        version: 6,
        name: "df",
        sql: include_str!("../../migrations/sqlite/0006_df.sql"),
    },
    Migration {
        version: 7,
        name: "store_epoch",
        sql: include_str!("../../migrations/sqlite/0007_store_epoch.sql"),
    },
    Migration {
        version: 8,
        name: "leases",
        sql: include_str!("../../migrations/sqlite/0008_leases.sql"),
    },
    Migration {
        version: 9,
        name: "hubs_snapshots",
        sql: include_str!("../../migrations/sqlite/0009_hubs_snapshots.sql"),
    },
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version a database is at (0 for a new one).
pub fn current_version(conn: &Connection) -> Result<i64> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .map_err(Error::backend("creating schema_migrations"))?;
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
    .map_err(Error::backend("reading the schema version"))
}

/// Applies every migration newer than the database; returns how many ran.
pub fn apply(conn: &mut Connection) -> Result<usize> {
    let current = current_version(conn)?;
    let known = latest_version();
    if current > known {
        return Err(Error::TooNew {
            found: current,
            known,
        });
    }
    let mut ran = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let fail = |e: rusqlite::Error| Error::Migration {
            version: m.version,
            name: m.name,
            message: e.to_string(),
        };
        let tx = conn.transaction().map_err(fail)?;
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![
                m.version,
                m.name,
                crate::sqlite::fmt_time(chrono::Utc::now())
            ],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        ran += 1;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in super::MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }
}
