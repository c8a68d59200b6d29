//! A blogosphere in its own process, driven over stdin and stdout.
//!
//! A benchmark that measures the crawler's memory must not share its process with the
//! simulator, whose posts and request logs grow as it publishes. The `kith-sphere` binary
//! (and anything else that calls [`serve`]) runs a [`Blogosphere`] and takes commands, one
//! per line; [`SphereProcess`] is the other end.
//!
//! The protocol, line by line in UTF-8:
//! - on start, one line per blog, `feed <index> <feed url>`, then `ready <blogs>`;
//! - `tick <p>`: every blog publishes one post with probability `p` → `ok <posts published>`;
//! - `publish <blog> <n>` → `ok <n>`; `publish-all <n>`: every blog publishes `n` →
//!   `ok <posts published>`;
//! - `reset`: every blog forgets its request log → `ok`;
//! - `requests` → `ok <requests served since the last reset>`;
//! - `quit`, or the end of the input: the servers stop and [`serve`] returns;
//! - anything else → `error <why>`, and the simulator keeps serving.

use crate::{Blogosphere, BlogosphereConfig};
use std::io::{self, BufRead, Write};
use std::net::Ipv4Addr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// The blogosphere a command line asks for: `--blogs N`, `--posts MIN..=MAX`,
/// `--feed-limit N`, `--first-ip IP`, `--seed N`, `--communities N`; anything not given
/// keeps its [`BlogosphereConfig::default`].
pub fn config_from_args<I, S>(args: I) -> Result<BlogosphereConfig, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
        v.trim()
            .parse()
            .map_err(|_| format!("{flag} wants a number, not {v:?}"))
    }
    let mut config = BlogosphereConfig::default();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let flag = flag.as_ref();
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let value = value.as_ref();
        match flag {
            "--blogs" => config.blogs = number(flag, value)?,
            "--feed-limit" => config.feed_limit = number(flag, value)?,
            "--seed" => config.seed = number(flag, value)?,
            "--communities" => config.communities = number(flag, value)?,
            "--first-ip" => {
                config.first_ip = value
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("--first-ip wants an IPv4 address, not {value:?}"))?
            }
            "--posts" => {
                let (lo, hi) = value
                    .split_once("..=")
                    .ok_or_else(|| format!("--posts wants MIN..=MAX, not {value:?}"))?;
                let (lo, hi) = (number::<usize>(flag, lo)?, number::<usize>(flag, hi)?);
                if lo > hi {
                    return Err(format!("--posts: {lo} is more than {hi}"));
                }
                config.posts_per_blog = lo..=hi;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(config)
}

/// The command line [`config_from_args`] reads back as `config` (all but `now`, which a
/// new process takes from its clock, and WebSub, which it does not run).
pub fn args_for(config: &BlogosphereConfig) -> Vec<String> {
    [
        ("--blogs", config.blogs.to_string()),
        ("--communities", config.communities.to_string()),
        ("--seed", config.seed.to_string()),
        (
            "--posts",
            format!(
                "{}..={}",
                config.posts_per_blog.start(),
                config.posts_per_blog.end()
            ),
        ),
        ("--feed-limit", config.feed_limit.to_string()),
        ("--first-ip", config.first_ip.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

/// Starts a blogosphere, announces its feeds on `output` and answers commands from `input`
/// until `quit` or the end of the input; then stops the servers.
pub async fn serve<R, W>(config: BlogosphereConfig, input: R, mut output: W) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let sphere = Blogosphere::start(config).await?;
    let mut hello = String::new();
    for i in 0..sphere.len() {
        hello.push_str(&format!("feed {i} {}\n", sphere.feed_url(i)));
    }
    hello.push_str(&format!("ready {}\n", sphere.len()));
    output.write_all(hello.as_bytes()).await?;
    output.flush().await?;
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            [] => continue,
            ["quit"] => break,
            _ => command(&sphere, &words).unwrap_or_else(|why| format!("error {why}")),
        };
        output.write_all(format!("{reply}\n").as_bytes()).await?;
        output.flush().await?;
    }
    sphere.shutdown().await;
    Ok(())
}

fn command(sphere: &Blogosphere, words: &[&str]) -> Result<String, String> {
    let number = |v: &str| {
        v.parse::<usize>()
            .map_err(|_| format!("{v:?} is not a number"))
    };
    let blog = |v: &str| {
        number(v).and_then(|b| {
            (b < sphere.len())
                .then_some(b)
                .ok_or(format!("no blog {b}: there are {}", sphere.len()))
        })
    };
    Ok(match words {
        ["tick", p] => {
            let p: f64 = p
                .parse()
                .map_err(|_| format!("{p:?} is not a probability"))?;
            format!("ok {}", sphere.tick(p))
        }
        ["publish", b, n] => format!("ok {}", sphere.publish(blog(b)?, number(n)?).len()),
        ["publish-all", n] => {
            let n = number(n)?;
            let total: usize = (0..sphere.len()).map(|b| sphere.publish(b, n).len()).sum();
            format!("ok {total}")
        }
        ["reset"] => {
            (0..sphere.len()).for_each(|b| sphere.reset_requests(b));
            "ok".to_owned()
        }
        ["requests"] => format!("ok {}", sphere.total_requests()),
        _ => return Err(format!("unknown command {:?}", words.join(" "))),
    })
}

/// A blogosphere running in a child process that speaks the protocol of [`serve`] (the
/// `kith-sphere` binary, or a benchmark that runs itself in a simulator mode).
#[derive(Debug)]
pub struct SphereProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: io::BufReader<ChildStdout>,
    feed_urls: Vec<String>,
}

impl SphereProcess {
    /// Starts `command` with piped stdin and stdout and waits until it has announced its
    /// feeds.
    pub fn spawn(mut command: Command) -> io::Result<SphereProcess> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(io::Error::other(
                "the simulator's stdin or stdout is not piped",
            ));
        };
        let mut process = SphereProcess {
            child,
            stdin,
            stdout: io::BufReader::new(stdout),
            feed_urls: Vec::new(),
        };
        loop {
            let line = process.read_line()?;
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["feed", _, url] => process.feed_urls.push((*url).to_owned()),
                ["ready", n] if n.parse() == Ok(process.feed_urls.len()) => break,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected line from the simulator: {line:?}"),
                    ));
                }
            }
        }
        Ok(process)
    }

    /// Blog `i`'s feed URL is `feed_urls()[i]`.
    pub fn feed_urls(&self) -> &[String] {
        &self.feed_urls
    }

    /// The child's process id (its memory can be read in `/proc/<pid>/status`).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// [`Blogosphere::tick`] in the child; returns how many posts were published.
    pub fn tick(&mut self, probability: f64) -> io::Result<usize> {
        self.ask_number(&format!("tick {probability}"))
    }

    /// [`Blogosphere::publish`] in the child.
    pub fn publish(&mut self, blog: usize, n: usize) -> io::Result<usize> {
        self.ask_number(&format!("publish {blog} {n}"))
    }

    /// Every blog publishes `n` posts; returns how many were published.
    pub fn publish_all(&mut self, n: usize) -> io::Result<usize> {
        self.ask_number(&format!("publish-all {n}"))
    }

    /// Every blog forgets its request log.
    pub fn reset_requests(&mut self) -> io::Result<()> {
        self.ask("reset").map(drop)
    }

    /// Requests served since the last [`SphereProcess::reset_requests`].
    pub fn total_requests(&mut self) -> io::Result<usize> {
        self.ask_number("requests")
    }

    /// Asks the child to stop and waits for it.
    pub fn shutdown(mut self) -> io::Result<()> {
        writeln!(self.stdin, "quit")?;
        self.stdin.flush()?;
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "the simulator exited with {status}"
            )))
        }
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the simulator stopped",
            ));
        }
        Ok(line.trim_end().to_owned())
    }

    fn ask(&mut self, command: &str) -> io::Result<String> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()?;
        let line = self.read_line()?;
        match line.strip_prefix("ok") {
            Some(rest) => Ok(rest.trim().to_owned()),
            None => Err(io::Error::other(format!("{command}: {line}"))),
        }
    }

    fn ask_number(&mut self, command: &str) -> io::Result<usize> {
        let answer = self.ask(command)?;
        answer.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{command}: expected a number, got {answer:?}"),
            )
        })
    }
}

impl Drop for SphereProcess {
    /// A benchmark that panics must not leave its simulator running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_round_trip() {
        let config = BlogosphereConfig {
            blogs: 7,
            communities: 3,
            seed: 99,
            posts_per_blog: 2..=4,
            feed_limit: 6,
            first_ip: Ipv4Addr::new(127, 14, 0, 1),
            ..BlogosphereConfig::default()
        };
        let back = config_from_args(args_for(&config)).unwrap();
        assert_eq!(
            (
                back.blogs,
                back.communities,
                back.seed,
                back.posts_per_blog,
                back.feed_limit,
                back.first_ip
            ),
            (7, 3, 99, 2..=4, 6, Ipv4Addr::new(127, 14, 0, 1))
        );
        assert!(config_from_args(["--blogs"]).unwrap_err().contains("value"));
        assert!(config_from_args(["--posts", "5..=2"]).is_err());
        assert!(
            config_from_args(["--colour", "red"])
                .unwrap_err()
                .contains("--colour")
        );
    }

    #[tokio::test]
    async fn commands_drive_the_simulator() {
        let config = config_from_args([
            "--blogs",
            "3",
            "--posts",
            "1..=1",
            "--first-ip",
            "127.14.1.1",
        ])
        .unwrap();
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (their_read, their_write) = tokio::io::split(theirs);
        let server = tokio::spawn(serve(
            config,
            tokio::io::BufReader::new(their_read),
            their_write,
        ));
        let (our_read, mut our_write) = tokio::io::split(ours);
        let mut lines = tokio::io::BufReader::new(our_read).lines();
        let mut feeds = Vec::new();
        loop {
            let line = lines.next_line().await.unwrap().unwrap();
            if line == "ready 3" {
                break;
            }
            feeds.push(line.split_whitespace().nth(2).unwrap().to_owned());
        }
        assert_eq!(feeds.len(), 3);
        assert!(feeds[0].starts_with("http://127.14.1.1:"), "{feeds:?}");
        let mut ask = async |command: &str| {
            our_write
                .write_all(format!("{command}\n").as_bytes())
                .await
                .unwrap();
            lines.next_line().await.unwrap()
        };
        let ok = |s: &str| Some(s.to_owned());
        assert_eq!(ask("publish 1 2").await, ok("ok 2"));
        assert_eq!(ask("publish-all 1").await, ok("ok 3"));
        assert_eq!(ask("tick 1").await, ok("ok 3"));
        assert_eq!(ask("tick 0").await, ok("ok 0"));
        assert_eq!(ask("requests").await, ok("ok 0"));
        // The feeds are served over HTTP, and the request counted.
        let url = url::Url::parse(&feeds[1]).unwrap();
        let addr = (url.host_str().unwrap(), url.port().unwrap());
        let mut http = tokio::net::TcpStream::connect(addr).await.unwrap();
        http.write_all(
            format!(
                "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                url.path()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut response = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut http, &mut response)
            .await
            .unwrap();
        assert!(
            response.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            &response[..20]
        );
        assert_eq!(ask("requests").await, ok("ok 1"));
        assert_eq!(ask("reset").await, ok("ok"));
        assert_eq!(ask("requests").await, ok("ok 0"));
        assert!(
            ask("publish 9 1")
                .await
                .unwrap()
                .starts_with("error no blog 9")
        );
        assert!(
            ask("fly")
                .await
                .unwrap()
                .starts_with("error unknown command")
        );
        assert_eq!(ask("quit").await, None, "quit stops the simulator");
        server.await.unwrap().unwrap();
    }
}
