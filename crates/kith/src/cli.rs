//! The command line, declared with clap.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "kith",
    version,
    about = "A blog-aggregation hub where tags reveal communities of practice"
)]
pub struct Cli {
    /// Configuration file (default: ./kith.toml if present, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More logging (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the hub: the web site and the crawler, until Ctrl-C.
    Serve(ServeArgs),
    /// A self-contained demo: a simulated blogosphere on loopback, crawled and served.
    Demo(DemoArgs),
    /// Register, list, verify and remove blogs.
    #[command(subcommand)]
    Blogs(BlogsCommand),
    /// Import or export the blogroll as OPML.
    #[command(subcommand)]
    Opml(OpmlCommand),
    /// Write every stored post as JSON lines: your way out of Kith.
    Export(ExportArgs),
    /// Poll feeds: `--once` polls the due ones and exits; without it, keeps polling
    /// (a crawler without the web site).
    Crawl(CrawlArgs),
    /// Hubs: tags with enough posts and bloggers, with members, roles and related hubs.
    Hubs(HubsArgs),
    /// Communities: clusters of hubs, with their members and roles.
    Communities(CommunitiesArgs),
    /// Full-text search over stored posts: words (all required), "phrases", AND/OR/NOT,
    /// -word, tag:rust, title:word.
    Search(SearchArgs),
    /// Rebuild the search index from the store (a running Kith switches to it when done).
    Reindex(ReindexArgs),
    /// Tag a post read from standard input (text or HTML) and say why each tag is there.
    Tag(TagArgs),
    /// Check the curator's tag rules, or preview what new rules would change.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Apply the tag rules in force to every stored post (resumable; Ctrl-C stops after
    /// the batch in hand).
    Retag(RetagArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve the site (and keep this node's search index following the store) without
    /// polling feeds: a web node, while another process runs `kith crawl`.
    #[arg(long)]
    pub no_crawl: bool,
    /// Address to listen on, overriding `web.listen` and `KITH_LISTEN` (port 0 picks a
    /// free one; the address is printed).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct HubsArgs {
    /// Print JSON: every hub with posts, members (homepage URL, role, score), related hubs,
    /// weekly activity and rising tags.
    #[arg(long)]
    pub json: bool,
    /// Show only the largest N hubs.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CommunitiesArgs {
    /// Print JSON: every community with its hubs and members (homepage URL, role, score).
    #[arg(long)]
    pub json: bool,
    /// Members listed per community (text output; default 10).
    #[arg(long, value_name = "N")]
    pub members: Option<usize>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Read JSON lines `{"id", "title"?, "text" or "html", "categories"?}` and write
    /// `{"id", "tags": [{"tag", "source", "score", "reason"}]}` per line; the whole batch
    /// (plus stored posts) gives the document frequencies.
    #[arg(long)]
    pub jsonl: bool,
    /// Most tags per post, best first (default: the rules' limits.max_tags_per_post, which
    /// bounds stored posts only; a larger N gives more).
    #[arg(long)]
    pub top: Option<usize>,
    /// The post's title (plain input only).
    #[arg(long)]
    pub title: Option<String>,
    /// Use these rules instead of the configured tags_file.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a rules file (default: the configured tags_file, else the built-in rules).
    Check {
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
    /// Dry run: tag every stored post under the rules in force and under FILE, and show
    /// per hub how many posts would enter and leave, and which tags would appear or
    /// vanish. Nothing is written.
    Preview {
        /// The proposed rules.
        #[arg(long, value_name = "FILE")]
        rules: PathBuf,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
        /// Example post titles per hub and direction.
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
}

#[derive(Debug, Args)]
pub struct RetagArgs {
    /// Start from the first post, ignoring the checkpoint of an interrupted run.
    #[arg(long)]
    pub restart: bool,
    /// Posts tagged and written per transaction (and per checkpoint).
    #[arg(long, default_value_t = crate::retag::BATCH, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub batch: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to serve the site on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Number of simulated blogs.
    #[arg(long, default_value_t = 240)]
    pub blogs: usize,
    /// Seed of the simulated blogosphere (same seed, same blogs and posts).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Keep the demo's data here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Exit after the site is up and the first crawl is stored (for scripts and tests).
    #[arg(long)]
    pub exit_when_ready: bool,
}

#[derive(Debug, Subcommand)]
pub enum BlogsCommand {
    /// Register a blog by its homepage or feed URL; the feed is discovered and read.
    Add {
        url: String,
        /// Print the registered blog as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List blogs with their status and feed health.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Check now whether a pending blog proves its ownership (token in feed or homepage).
    Verify { blog: String },
    /// Remove a blog and its posts, by id or URL.
    Remove { blog: String },
    /// The blogs whose writing is closest to this one's (by id or URL), best first, each
    /// with the hubs both write in and the links between them.
    Kin {
        blog: String,
        /// Print JSON: an array of {"id", "title", "homepage_url", "score", "shared_hubs",
        /// "links", "community"}, best first.
        #[arg(long)]
        json: bool,
        /// Show at most N kin (default 10).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OpmlCommand {
    /// Register every outline with an xmlUrl (feeds are read on the next crawl).
    Import { file: PathBuf },
    /// Write all blogs as OPML 2.0.
    Export {
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// JSON lines, one post per line (the only format, and the default).
    #[arg(long, default_value_t = true)]
    pub jsonl: bool,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Poll once and exit, printing a summary.
    #[arg(long)]
    pub once: bool,
    /// With --once: poll every feed, not only the due ones.
    #[arg(long, requires = "once")]
    pub all: bool,
    /// Print the summary as JSON.
    #[arg(long, requires = "once")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query (several words are joined with spaces).
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Only posts with this tag (repeat for several: all are required).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Only posts of this blog (id or URL).
    #[arg(long, value_name = "BLOG")]
    pub blog: Option<String>,
    /// Only posts in this language (as detected, e.g. eng, fra).
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Only posts published on or after this day (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only posts published on or before this day (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Order of results.
    #[arg(long, value_enum, default_value_t = SearchSortArg::Relevance)]
    pub sort: SearchSortArg,
    /// Page of results (10 per page), from 1.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub page: usize,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchSortArg {
    /// Best matches first (BM25; title matches weigh double).
    Relevance,
    /// Newest posts first.
    Newest,
}

#[derive(Debug, Args)]
pub struct ReindexArgs {}
