//! The `kith-sphere` binary, driven from another process as the sweep benchmark drives it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kith_testkit::SphereProcess;
use std::io::{Read, Write};
use std::process::Command;

fn get(url: &str) -> Vec<u8> {
    let url = url::Url::parse(url).unwrap();
    let mut conn =
        std::net::TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    write!(
        conn,
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        url.path()
    )
    .unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).unwrap();
    response
}

#[test]
fn a_blogosphere_in_another_process() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kith-sphere"));
    cmd.args([
        "--blogs",
        "4",
        "--posts",
        "1..=1",
        "--first-ip",
        "127.14.2.1",
    ]);
    let mut sphere = SphereProcess::spawn(cmd).unwrap();
    assert_eq!(sphere.feed_urls().len(), 4);
    let before = get(&sphere.feed_urls()[2]);
    assert!(before.starts_with(b"HTTP/1.1 200"));
    assert_eq!(sphere.total_requests().unwrap(), 1);
    assert_eq!(sphere.publish(2, 3).unwrap(), 3);
    assert_eq!(sphere.publish_all(1).unwrap(), 4);
    assert_eq!(sphere.tick(1.0).unwrap(), 4);
    let after = get(&sphere.feed_urls()[2]);
    assert_ne!(before, after, "the feed changed after publishing");
    sphere.reset_requests().unwrap();
    assert_eq!(sphere.total_requests().unwrap(), 0);
    sphere.shutdown().unwrap();
}

#[test]
fn a_bad_command_line_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_kith-sphere"))
        .args(["--blogs", "many"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--blogs"));
}
