//! End-to-end tests across crates: one test binary (ripgrep's layout), real loopback HTTP
//! (the testkit's simulated blogosphere), real SQLite files, the real `kith` binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod browser;
mod cli;
mod communities;
mod crash;
mod crawl;
mod df;
mod feeds_api;
mod hub_aliases;
mod kin;
mod pages;
mod post_page;
mod postgres;
mod register_web;
mod reload;
mod retag;
mod robots;
mod search;
mod search_web;
mod skipped;
mod thin_slice;
mod web;
mod websub;
