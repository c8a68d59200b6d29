//! # kith-config: strict, documented configuration
//!
//! Two files, both TOML, both strict (`deny_unknown_fields`) and validated after parsing so
//! that a mistake names the key (and for rules, the line) and says why:
//!
//! - [`Config`] (`kith.toml`): the service: data directory, web listener, crawl limits,
//!   registration. Every key has a default ([`defaults`]); `KITH_DATA` and `KITH_LISTEN`
//!   override the data directory and the listen address.
//! - [`TagRules`] (`tags.toml`): the curator's rules: aliases, merges, stop-tags, phrase and
//!   regex rules, exclusions, per-blog overrides and hub thresholds.
//!
//! `config/kith.example.toml` and `config/tags.example.toml` document every key; a test
//! loads both.
//!
//! ## Layout
//! - [`service`] — [`Config`] and its sections.
//! - [`rules`] — [`TagRules`].
//! - [`error`] — [`Error`], shared by both.

pub mod error;
pub mod rules;
pub mod service;

pub use error::{Error, Result};
pub use rules::{MatchScope, TagRules};
pub use service::{
    CommunitiesConfig, Config, CrawlConfig, RegistrationConfig, StoreConfig, WebConfig, defaults,
};

#[cfg(test)]
mod examples {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::PathBuf;

    fn example(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../config")
            .join(name)
    }

    /// The example service file is valid and documents exactly the defaults.
    #[test]
    fn kith_example_loads_and_matches_defaults() {
        let c = Config::from_file(&example("kith.example.toml")).unwrap();
        assert_eq!(c, Config::default());
    }

    /// Every key of every section appears in the example file, so none is undocumented.
    #[test]
    fn kith_example_documents_every_key() {
        let text = std::fs::read_to_string(example("kith.example.toml")).unwrap();
        for key in [
            "data_dir",
            "tags_file",
            "listen",
            "public_url",
            "trusted_proxies",
            "concurrency",
            "per_host",
            "per_host_delay_ms",
            "connect_timeout_secs",
            "timeout_secs",
            "max_body_bytes",
            "max_redirects",
            "min_interval_secs",
            "max_interval_secs",
            "sweep_every_secs",
            "allowed_networks",
            "contact",
            "require_verification",
            "websub",
            "websub_lease_secs",
            "url",
            "pool_size",
        ] {
            assert!(
                text.contains(&format!("{key} =")),
                "{key} is not documented"
            );
        }
    }

    #[test]
    fn tags_example_loads() {
        let r = TagRules::from_file(&example("tags.example.toml")).unwrap();
        assert_eq!(r.hubs.min_posts, 5);
        assert_eq!(r.merges.len(), 1);
        assert_eq!(r.phrases.len(), 2);
        assert_eq!(r.regexes.len(), 1);
        assert_eq!(r.exclusions.len(), 1);
        assert_eq!(r.blogs.len(), 1);
        assert!(r.effective_stop_tags().contains(&"personal".to_string()));
    }
}
