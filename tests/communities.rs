//! Hubs and communities end to end: the binary on a crawled blogosphere.
//!
//! - `kith hubs` / `kith communities` / `kith blogs list --json` on the simulated
//!   blogosphere (always runs);
//! - the quality measure of issue 5 on the real bloggers of `$KITH_CORPUS/blogosphere`
//!   (skipped without the corpus): each blogger's primary community against their
//!   `community` label, as NMI and adjusted Rand index, with floors.

use crate::support::{Site, TEST_CONFIG, blogosphere};
use kith_testkit::StaticSite;
use serde_json::Value;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub(crate) fn json(run: &crate::support::Run) -> Value {
    run.ok();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[tokio::test]
async fn hubs_and_communities_of_a_crawled_blogosphere() {
    let sphere = blogosphere(30, 11).await;
    let site = Site::new(TEST_CONFIG);
    // Nothing yet: a clear message, not an error.
    let empty = site.kith(&["hubs"]).await;
    empty.ok();
    assert!(empty.stdout.contains("No hubs yet"), "{}", empty.stdout);

    site.import_and_crawl(&sphere).await;

    let hubs = json(&site.kith(&["hubs", "--json"]).await);
    let hubs = hubs.as_array().unwrap();
    assert!(hubs.len() >= 3, "{hubs:#?}");
    for h in hubs {
        // The default thresholds: 5 posts, 3 bloggers.
        assert!(h["posts"].as_u64().unwrap() >= 5, "{h}");
        let members = h["members"].as_array().unwrap();
        assert_eq!(members.len() as u64, h["member_count"].as_u64().unwrap());
        assert!(members.len() >= 3, "{h}");
        assert!(members.iter().all(|m| {
            m["homepage_url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.")
        }));
        assert!(
            members
                .iter()
                .all(|m| ["core", "active", "peripheral"].contains(&m["role"].as_str().unwrap()))
        );
    }
    // Most bloggers first.
    let sizes: Vec<u64> = hubs
        .iter()
        .map(|h| h["member_count"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");

    let communities = json(&site.kith(&["communities", "--json"]).await);
    let communities = communities.as_array().unwrap();
    assert!(!communities.is_empty());
    let mut community_of_blog: HashMap<String, String> = HashMap::new();
    for c in communities {
        assert!(c["hubs"].as_array().unwrap().len() >= 2, "{c}");
        for m in c["members"].as_array().unwrap() {
            if m["primary"].as_bool().unwrap() {
                community_of_blog.insert(
                    m["homepage_url"].as_str().unwrap().to_owned(),
                    c["id"].as_str().unwrap().to_owned(),
                );
            }
        }
    }
    // `blogs list --json` agrees with `communities --json` on primary communities.
    let blogs = json(&site.kith(&["blogs", "list", "--json"]).await);
    let mut with_primary = 0;
    for b in blogs.as_array().unwrap() {
        let url = b["homepage_url"].as_str().unwrap();
        let primary = b["primary_community"].as_str().map(str::to_owned);
        assert_eq!(primary.as_ref(), community_of_blog.get(url), "{url}");
        with_primary += usize::from(primary.is_some());
    }
    assert!(with_primary > 0);

    // The text forms a person reads.
    let text = site.kith(&["hubs", "--limit", "3"]).await;
    text.ok();
    assert_eq!(text.stdout.lines().count(), 4, "{}", text.stdout);
    assert!(text.stdout.contains(hubs[0]["display"].as_str().unwrap()));
    let text = site.kith(&["communities"]).await;
    text.ok();
    assert!(text.stdout.contains("members)"), "{}", text.stdout);
}

/// A blogger of the real-world blogosphere corpus.
pub(crate) struct Blogger {
    pub name: String,
    pub community: String,
    feed_path: String,
}

fn corpus_bloggers(dir: &std::path::Path) -> Vec<Blogger> {
    std::fs::read_to_string(dir.join("bloggers.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Blogger {
                name: v["blogger"].as_str().unwrap().to_owned(),
                community: v["community"].as_str().unwrap().to_owned(),
                feed_path: v["feed_path"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

/// The labelled blogosphere of the corpus, registered and crawled: every blogger on a
/// loopback host of their own in `127.{block}.0.0/24`.
pub(crate) struct CorpusSphere {
    pub site: Site,
    pub bloggers: Vec<Blogger>,
    /// Blogger index by feed URL.
    pub blogger_of_feed: HashMap<String, usize>,
    sites: Vec<kith_testkit::StaticSiteHandle>,
}

impl CorpusSphere {
    pub(crate) async fn crawl(corpus: &std::path::Path, block: u8) -> CorpusSphere {
        let dir = corpus.join("blogosphere");
        let bloggers = corpus_bloggers(&dir);
        let mut sites = Vec::new();
        let mut opml = String::from("<opml version=\"2.0\"><body>\n");
        let mut blogger_of_feed: HashMap<String, usize> = HashMap::new();
        for (i, b) in bloggers.iter().enumerate() {
            let ip = Ipv4Addr::new(127, block, 0, u8::try_from(i + 1).unwrap());
            let site =
                StaticSite::serve(dir.join("sites").join(&b.name), SocketAddr::from((ip, 0)))
                    .await
                    .unwrap();
            let feed_file = b.feed_path.rsplit('/').next().unwrap();
            let feed = site.url(&format!("/{feed_file}"));
            opml.push_str(&format!(
                "<outline type=\"rss\" text=\"{0}\" xmlUrl=\"{feed}\" htmlUrl=\"{1}\"/>\n",
                b.name,
                site.url("/")
            ));
            blogger_of_feed.insert(feed, i);
            sites.push(site);
        }
        opml.push_str("</body></opml>\n");
        let site = Site::new(TEST_CONFIG);
        let opml_path = site.path().join("corpus.opml");
        std::fs::write(&opml_path, opml).unwrap();
        site.kith(&["opml", "import", opml_path.to_str().unwrap()])
            .await
            .ok();
        site.kith(&["crawl", "--once", "--all"]).await.ok();
        CorpusSphere {
            site,
            bloggers,
            blogger_of_feed,
            sites,
        }
    }

    pub(crate) async fn shutdown(self) {
        for s in self.sites {
            s.shutdown().await;
        }
    }
}

#[tokio::test]
async fn primary_communities_match_the_labelled_blogosphere() {
    let Some(corpus) = std::env::var_os("KITH_CORPUS").map(PathBuf::from) else {
        eprintln!("KITH_CORPUS is not set: skipping the community quality measure");
        return;
    };
    let sphere = CorpusSphere::crawl(&corpus, 61).await;
    let (site, bloggers, blogger_of_feed) =
        (&sphere.site, &sphere.bloggers, &sphere.blogger_of_feed);

    let blogs = json(&site.kith(&["blogs", "list", "--json"]).await);
    let mut truth = Vec::new();
    let mut found = Vec::new();
    let mut table = Vec::new();
    for b in blogs.as_array().unwrap() {
        let feed = b["feed_url"].as_str().unwrap();
        let i = blogger_of_feed[feed];
        // A blogger with no primary community is a cluster of their own.
        let primary = b["primary_community"]
            .as_str()
            .map_or_else(|| format!("(none: {})", bloggers[i].name), str::to_owned);
        truth.push(bloggers[i].community.clone());
        table.push(format!(
            "{:<24} {:<20} {}",
            bloggers[i].name, bloggers[i].community, primary
        ));
        found.push(primary);
    }
    assert_eq!(truth.len(), bloggers.len(), "every blogger registered");
    let nmi = kith_hubs::metrics::nmi(&truth, &found);
    let ari = kith_hubs::metrics::ari(&truth, &found);

    let hubs_text = site.kith(&["hubs", "--limit", "15"]).await;
    let communities_text = site.kith(&["communities", "--members", "5"]).await;
    eprintln!("blogger                  label                primary community");
    for row in &table {
        eprintln!("{row}");
    }
    eprintln!("\nNMI {nmi:.3}, ARI {ari:.3} over {} bloggers", truth.len());
    eprintln!("\n$ kith hubs --limit 15\n{}", hubs_text.stdout);
    eprintln!(
        "$ kith communities --members 5\n{}",
        communities_text.stdout
    );
    assert!(nmi >= 0.75, "NMI {nmi:.3} below the floor (measured 0.83)");
    assert!(ari >= 0.5, "ARI {ari:.3} below the floor (measured 0.60)");
    sphere.shutdown().await;
}

/// A community is called after its largest hub, which changes as people write: an address
/// made under another of its hubs (a bookmark, a feed subscription) leads on to it, on the
/// page, its feeds, its blogroll and the API; a name that is no hub of any community is
/// still 404.
#[tokio::test]
async fn a_community_is_found_under_any_of_its_hubs() {
    use crate::support::{Served, get};
    let sphere = blogosphere(30, 11).await;
    let site = Site::new(TEST_CONFIG);
    site.import_and_crawl(&sphere).await;
    let served = Served::start(&site).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let community = loop {
        let list: Value = serde_json::from_str(&served.text("/api/v1/communities").await).unwrap();
        let found = list["communities"]
            .as_array()
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c["hubs"].as_array().is_some_and(|h| h.len() >= 2))
            })
            .cloned();
        if let Some(c) = found {
            break c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no community with two hubs: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let id = community["id"].as_str().unwrap();
    let other = community["hubs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|h| *h != id)
        .unwrap();
    for (from, to) in [
        (
            format!("/communities/{other}"),
            format!("/communities/{id}"),
        ),
        (
            format!("/communities/{other}/feed.atom"),
            format!("/communities/{id}/feed.atom"),
        ),
        (
            format!("/communities/{other}/blogroll.opml"),
            format!("/communities/{id}/blogroll.opml"),
        ),
        (
            format!("/api/v1/communities/{other}"),
            format!("/api/v1/communities/{id}"),
        ),
    ] {
        let r = get(&served.base, &from).await;
        assert_eq!(r.status(), 307, "{from}");
        assert_eq!(r.headers()["location"], to.as_str(), "{from}");
        assert_eq!(get(&served.base, &to).await.status(), 200, "{to}");
    }
    for missing in [
        "/communities/no-such-hub",
        "/api/v1/communities/no-such-hub",
    ] {
        assert_eq!(get(&served.base, missing).await.status(), 404, "{missing}");
    }
    served.stop().await;
}
