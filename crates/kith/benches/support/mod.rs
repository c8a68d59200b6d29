//! What the bench binaries share: settings from the environment, a process's memory and
//! CPU time, and `wrk` runs read back.

// Each bench binary compiles this module and uses a part of it.
#![allow(dead_code)]

use kith_testkit::{BlogosphereConfig, SphereProcess, control};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The first argument that makes a bench binary the simulated blogosphere (see
/// [`spawn_sphere`]).
const SIMULATOR_MODE: &str = "--kith-sphere";

/// The simulated blogosphere in a child process (this binary in simulator mode), so that
/// what a bench measures of the crawler is the crawler's alone.
pub fn spawn_sphere(config: &BlogosphereConfig) -> SphereProcess {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg(SIMULATOR_MODE).args(control::args_for(config));
    SphereProcess::spawn(cmd).unwrap()
}

/// Serves the blogosphere when this process was started by [`spawn_sphere`], and says
/// so: the bench's `main` then returns.
pub async fn serve_sphere_if_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(SIMULATOR_MODE) {
        return false;
    }
    let config = control::config_from_args(&args[2..]).unwrap();
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    control::serve(config, input, tokio::io::stdout())
        .await
        .unwrap();
    true
}

/// A `kith serve` child process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A whole number from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmRSS of a process (`self` or a pid), in MiB.
pub fn rss_mib(process: &str) -> f64 {
    status_mib(process, "VmRSS:")
}

/// A line of `/proc/{process}/status` given in kB (`VmRSS:`, `RssAnon:`, `RssFile:`), in
/// MiB.
pub fn status_mib(process: &str, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU time a process has used (user + system, all its threads), in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks = *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses: utime and
    // stime are the 14th and 15th fields of the line, the 12th and 13th after it.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let used: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    used / ticks
}

/// What one wrk run reports.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub requests: u64,
    /// Server CPU time per request, in microseconds (filled in by the caller).
    pub cpu_us: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Socket errors, timeouts and answers other than the script expects.
    pub errors: u64,
    /// What the errors were, as wrk and the script said (`status 503: 2`, `timeout 1`).
    pub error_kinds: Vec<String>,
}

/// wrk prints latencies as `812.00us`, `1.23ms` or `1.02s`.
fn parse_duration_ms(s: &str) -> Option<f64> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        "m" => v * 60_000.0,
        _ => return None,
    })
}

/// wrk's report (run with `--latency` and a script from [`write_script`]).
pub fn parse_wrk(out: &str) -> Option<Load> {
    let mut load = Load::default();
    let mut unexpected = None;
    for line in out.lines().map(str::trim) {
        if let Some(n) = line.strip_prefix("Unexpected statuses: ") {
            unexpected = n.trim().parse::<u64>().ok();
            continue;
        }
        if let Some(kind) = line.strip_prefix("Status ") {
            load.error_kinds.push(format!("status {kind}"));
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => load.rps = v.parse().ok()?,
            // `123456 requests in 10.00s, 1.2MB read`
            (Some(n), Some("requests")) => load.requests = n.parse().ok()?,
            (Some("50%"), Some(v)) => load.p50_ms = parse_duration_ms(v)?,
            (Some("99%"), Some(v)) => load.p99_ms = parse_duration_ms(v)?,
            (Some("Socket"), Some("errors:")) => {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                for part in line.trim_start_matches("Socket errors:").split(',') {
                    let mut words = part.split_whitespace();
                    if let (Some(kind), Some(n)) = (words.next(), words.next())
                        && let Ok(n) = n.parse::<u64>()
                        && n > 0
                    {
                        load.errors += n;
                        load.error_kinds.push(format!("{kind} {n}"));
                    }
                }
            }
            _ => {}
        }
    }
    // The script's tally covers every status (wrk's own "Non-2xx or 3xx" line counts
    // only those above 399); a report without it is not one of ours.
    load.errors += unexpected?;
    (load.rps > 0.0).then_some(load)
}

/// A wrk script: sends `header` if any, asks for `paths` in turn (or the URL given on
/// the command line when empty) and counts every answer whose status is not in `expect`.
///
/// Each wrk thread runs its own Lua state, and `done` runs in yet another: the counts
/// are gathered from the threads through `setup`, or `done` would always see zero.
pub fn write_script(
    dir: &Path,
    name: &str,
    header: Option<(&str, &str)>,
    paths: &[String],
    expect: &[u16],
) -> PathBuf {
    let path = dir.join(format!("{name}.lua"));
    let header = header
        .map(|(k, v)| format!("wrk.headers[\"{k}\"] = {v:?}\n"))
        .unwrap_or_default();
    let request = if paths.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
        format!(
            "paths = {{ {} }}\n\
             n = 0\n\
             function request()\n\
               n = n % #paths + 1\n\
               return wrk.format(nil, paths[n])\n\
             end\n",
            list.join(", ")
        )
    };
    let expected: Vec<String> = expect.iter().map(|s| format!("[{s}] = true")).collect();
    let expected = expected.join(", ");
    std::fs::write(
        &path,
        format!(
            "{header}{request}\
             threads = {{}}\n\
             function setup(thread) table.insert(threads, thread) end\n\
             unexpected = 0\n\
             statuses = {{}}\n\
             expected = {{ {expected} }}\n\
             function response(status, headers, body)\n\
               if not expected[status] then\n\
                 unexpected = unexpected + 1\n\
                 statuses[status] = (statuses[status] or 0) + 1\n\
               end\n\
             end\n\
             function done(summary, latency, requests)\n\
               local total = 0\n\
               local by = {{}}\n\
               for _, t in ipairs(threads) do\n\
                 total = total + t:get(\"unexpected\")\n\
                 for s, n in pairs(t:get(\"statuses\")) do by[s] = (by[s] or 0) + n end\n\
               end\n\
               io.write(string.format(\"Unexpected statuses: %d\\n\", total))\n\
               for s, n in pairs(by) do io.write(string.format(\"Status %d: %d\\n\", s, n)) end\n\
             end\n"
        ),
    )
    .unwrap();
    path
}

/// Starts wrk against `url` for `secs` seconds; [`finish_wrk`] reads its report.
pub fn spawn_wrk(url: &str, script: &Path, secs: usize, connections: usize) -> Child {
    Command::new("wrk")
        .args(["--latency", "-t", &connections.min(2).to_string()])
        .args(["-c", &connections.to_string()])
        .args(["-d", &format!("{secs}s"), "--timeout", "10s", "-s"])
        .arg(script)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wrk runs (apt-get install wrk)")
}

/// Waits for a wrk run and reads its report.
pub fn finish_wrk(child: Child) -> Load {
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    parse_wrk(&text).unwrap_or_else(|| panic!("cannot read wrk's report:\n{text}"))
}

/// Runs wrk against `url` and adds what the requests cost `server` in CPU time.
pub fn wrk(url: &str, script: &Path, secs: usize, connections: usize, server: u32) -> Load {
    let cpu_before = cpu_seconds(server);
    let mut load = finish_wrk(spawn_wrk(url, script, secs, connections));
    let requests = load.requests.max(1) as f64;
    load.cpu_us = (cpu_seconds(server) - cpu_before) * 1e6 / requests;
    load
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
