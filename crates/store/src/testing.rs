//! Throwaway PostgreSQL databases for tests (this crate's conformance suite and any test
//! that runs Kith on PostgreSQL).
//!
//! `KITH_TEST_POSTGRES` names a server (`postgres://postgres@127.0.0.1:5432/postgres`);
//! each [`TestDatabase`] creates a database of its own there and drops it when dropped.
//! Without the variable, [`TestDatabase::create`] says the test is skipped and returns
//! `None`, except under `CI=true`, where a missing or unreachable server fails the test.

use crate::postgres::describe;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the test server.
pub const ENV: &str = "KITH_TEST_POSTGRES";

/// A database made for one test, dropped with it.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// A new, empty database on the `KITH_TEST_POSTGRES` server; `None` (the test is
    /// skipped, and says so) without the variable outside CI.
    ///
    /// # Panics
    /// When the variable is set (or CI requires it) and the server cannot be reached: a
    /// test that should run on PostgreSQL must not pass silently.
    pub async fn create(test: &str) -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(ENV) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{ENV} is not set: under CI the PostgreSQL tests must run"
            );
            eprintln!("skipped on PostgreSQL: set {ENV} to a server URL to run {test} there");
            return None;
        };
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "kith_test_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database: {}", describe(&e)));
        let mut url = url::Url::parse(&admin_url)
            .unwrap_or_else(|e| panic!("{ENV} is not a URL ({e}): {admin_url}"));
        url.set_path(&name);
        Some(TestDatabase {
            admin_url,
            name,
            url: url.to_string(),
        })
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{ENV} names a PostgreSQL server that cannot be reached ({}): {}",
                crate::postgres::redact(url),
                describe(&e)
            )
        });
    tokio::spawn(conn);
    client
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside any runtime guarantee: a thread with its own small runtime.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
                    .await
                    .ok()?;
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}
