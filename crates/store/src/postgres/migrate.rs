//! PostgreSQL's embedded, numbered, append-only migrations, applied under an advisory
//! lock: ten processes starting at once against a new database apply each migration once
//! (the others wait on the lock, then find the schema current).

use super::pg_err;
use crate::sqlite::migrate::Migration;
use crate::{Error, Result};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "leases",
        sql: include_str!("../../migrations/postgres/0002_leases.sql"),
    },
    Migration {
        version: 3,
        name: "hubs_snapshots",
        sql: include_str!("../../migrations/postgres/0003_hubs_snapshots.sql"),
    },
];

/// The advisory lock key migrations are applied under ("kith" in ASCII).
const MIGRATION_LOCK: i64 = 0x6b69_7468;

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version the database is at (0 for a new one).
pub async fn current_version(client: &tokio_postgres::Client) -> Result<i64> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(pg_err("creating schema_migrations"))?;
    client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(pg_err("reading the schema version"))
}

/// Applies every migration newer than the database, each in its own transaction with its
/// bookkeeping row; returns how many ran. Refuses a database newer than this build.
pub async fn apply(client: &mut tokio_postgres::Client) -> Result<usize> {
    // A session lock, held across the migrations' own transactions. Creating
    // schema_migrations happens under it too: concurrent CREATE TABLE IF NOT EXISTS can
    // collide on the catalog.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err("waiting for the migration lock"))?;
    let result = apply_locked(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err("releasing the migration lock"));
    let ran = result?;
    unlocked?;
    Ok(ran)
}

async fn apply_locked(client: &mut tokio_postgres::Client) -> Result<usize> {
    let current = current_version(client).await?;
    let known = latest_version();
    if current > known {
        return Err(Error::TooNew {
            found: current,
            known,
        });
    }
    let mut ran = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let fail = |e: tokio_postgres::Error| Error::Migration {
            version: m.version,
            name: m.name,
            message: super::describe(&e),
        };
        let tx = client.transaction().await.map_err(fail)?;
        tx.batch_execute(m.sql).await.map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
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
