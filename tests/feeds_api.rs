//! Output feeds, the JSON API and the operational endpoints, on a real server over a
//! crawled simulated blogosphere: feeds parse in feed-rs with the expected entries and
//! links, OPML parses, conditional GET answers 304 without a body, the OpenAPI document
//! parses as OpenAPI 3.1 and live answers validate against its schemas, errors are JSON,
//! `/metrics` parses as Prometheus text, `/readyz` reports, and a WebSub hub is pinged when
//! a hub's feed changes.

use crate::support::{Site, TEST_CONFIG, blogosphere};
use axum::extract::State;
use kith_store::{PostQuery, Store};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A WebSub hub's publish endpoint, as far as a publisher sees it: it records each
/// `hub.mode=publish` request (form fields) and answers 204, as hubs do.
#[derive(Clone, Default)]
struct HubPings(Arc<Mutex<Vec<HashMap<String, String>>>>);

impl HubPings {
    fn urls(&self) -> BTreeSet<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|f| f.get("hub.mode").map(String::as_str) == Some("publish"))
            .filter_map(|f| f.get("hub.url").cloned())
            .collect()
    }
    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

async fn start_hub() -> (String, HubPings) {
    let pings = HubPings::default();
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::post(
                |State(p): State<HubPings>,
                 axum::Form(form): axum::Form<HashMap<String, String>>| async move {
                    p.0.lock().unwrap().push(form);
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(pings.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, pings)
}

struct Fixture {
    base: String,
    client: reqwest::Client,
}

impl Fixture {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        body_json(r).await
    }
}

async fn body_json(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

async fn wait_for(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The response schema the OpenAPI document gives `path`/`method`/`status`, made into a
/// standalone JSON Schema (its `$ref`s resolve into the document's components).
fn response_schema(doc: &Value, path: &str, method: &str, status: u16) -> jsonschema::Validator {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(schema.is_object(), "no schema for {method} {path} {status}");
    let mut full = schema.clone();
    full["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    full["components"] = doc["components"].clone();
    jsonschema::validator_for(&full).unwrap()
}

fn conforms(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let v = response_schema(doc, path, method, status);
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match its schema: {errors:#?}"
    );
}

fn links_of(feed: &feed_rs::model::Feed, rel: &str) -> Vec<String> {
    feed.links
        .iter()
        .filter(|l| l.rel.as_deref() == Some(rel))
        .map(|l| l.href.clone())
        .collect()
}

/// What a feed's page shows, as the store gives it (the hub feeds read the index: two
/// paths to the same answer): the site's newest public posts by date; a hub's posts with
/// its tag, live ones above first-crawl history (its river), first-crawl history included
/// in both.
async fn expected_posts(site: &Site, tag: Option<&str>) -> Vec<kith_model::Post> {
    let store = kith_store::SqliteStore::open(&site.config().database_path())
        .await
        .unwrap();
    let posts = store
        .latest_posts(PostQuery {
            limit: 10_000,
            before: None,
            blog: None,
            public_only: true,
            include_backfill: true,
        })
        .await
        .unwrap();
    let Some(tag) = tag else { return posts };
    let mut posts: Vec<_> = posts
        .into_iter()
        .filter(|p| p.tags.iter().any(|x| x.tag == tag))
        .collect();
    // Stable: newest first within live posts and within history.
    posts.sort_by_key(|p| p.backfill);
    posts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_api_and_operations_on_a_crawled_site() {
    let sphere = blogosphere(24, 61).await;
    let (hub_url, pings) = start_hub().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site = Site::new(&format!(
        "{TEST_CONFIG}[web]\npublic_url = \"{base}/\"\nwebsub_hub = \"{hub_url}\"\n\
         [communities]\nrecompute_secs = 1\n"
    ));
    site.import_and_crawl(&sphere).await;

    let app = kith::App::open(site.config()).await.unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(kith::serve_on(app, listener, stop.clone(), |_| {}));
    let f = Fixture {
        base: base.clone(),
        client: reqwest::Client::new(),
    };

    // --- readiness: the index opens and catches up, the hubs get computed ---
    wait_for("/readyz", 60, async || {
        f.get("/readyz").await.status() == 200
    })
    .await;
    let ready = f.json("/readyz").await;
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["hubs_computed"], true);
    // The pinger's first look only notes where each feed stands.
    wait_for("the websub pinger's first look", 60, async || {
        let text = f.get("/metrics").await.text().await.unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("kith_websub_scans_total "))
            .any(|n| n.trim().parse::<f64>().is_ok_and(|n| n >= 1.0))
    })
    .await;
    assert!(
        pings.urls().is_empty(),
        "pinged before any change: {:?}",
        pings.urls()
    );

    // --- a change: every blog publishes, a crawl (another process) stores the posts ---
    let mut new_urls = BTreeSet::new();
    for i in 0..sphere.len() {
        for p in sphere.publish(i, 1) {
            new_urls.insert(p.url.clone());
        }
    }
    pings.clear();
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    // The index follows, the hubs are recomputed, the pinger sees new newest entries.
    let site_atom = format!("{base}/feed.atom");
    wait_for("a websub ping for the site feed", 60, async || {
        pings.urls().contains(&site_atom)
    })
    .await;
    let hubs = f.json("/api/v1/hubs").await;
    let hub_list = hubs["hubs"].as_array().unwrap();
    assert!(!hub_list.is_empty(), "{hubs}");
    let hub_prefix = format!("{base}/hubs/");
    wait_for("a websub ping for a hub feed", 30, async || {
        pings.urls().iter().any(|u| u.starts_with(&hub_prefix))
    })
    .await;
    for u in pings.urls() {
        assert!(u.starts_with(&base), "pinged a foreign URL {u}");
        let r = reqwest::get(&u).await.unwrap();
        assert_eq!(r.status(), 200, "{u}");
    }

    // --- feeds: every format of the site, a hub and a community parse with the entries
    //     the store says they should have ---
    let hub_tag = hub_list
        .iter()
        .map(|h| h["tag"].as_str().unwrap().to_owned())
        .find(|t| pings.urls().contains(&format!("{base}/hubs/{t}/feed.atom")))
        .expect("a pinged hub with a plain tag");
    let communities = f.json("/api/v1/communities").await;
    let community = communities["communities"][0]["id"]
        .as_str()
        .map(str::to_owned);
    let mut scopes: Vec<(String, Option<String>)> = vec![
        (String::new(), None),
        (format!("/hubs/{hub_tag}"), Some(hub_tag.clone())),
    ];
    if let Some(c) = &community {
        scopes.push((format!("/communities/{c}"), None));
    }
    for (prefix, tag) in &scopes {
        let expected = if prefix.starts_with("/communities/") {
            None
        } else {
            Some(expected_posts(&site, tag.as_deref()).await)
        };
        for (file, mime) in [
            ("feed.atom", "application/atom+xml"),
            ("feed.rss", "application/rss+xml"),
            ("feed.json", "application/feed+json"),
        ] {
            let path = format!("{prefix}/{file}");
            let r = f.get(&path).await;
            assert_eq!(r.status(), 200, "{path}");
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(ct.starts_with(mime), "{path}: {ct}");
            let body = r.bytes().await.unwrap();
            let feed = feed_rs::parser::parse(&body[..])
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
            let self_url = format!("{base}{path}");
            if file == "feed.json" {
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
                assert_eq!(v["feed_url"], self_url.as_str());
                assert_eq!(v["hubs"][0]["type"], "WebSub");
                assert_eq!(v["hubs"][0]["url"], hub_url.as_str());
            } else {
                assert_eq!(links_of(&feed, "self"), vec![self_url.clone()], "{path}");
                assert_eq!(links_of(&feed, "hub"), vec![hub_url.clone()], "{path}");
            }
            assert!(!feed.entries.is_empty(), "{path} has no entries");
            for e in &feed.entries {
                assert!(e.title.is_some(), "{path}: an entry without a title");
                assert!(e.published.is_some(), "{path}: an entry without a date");
                assert!(
                    !e.authors.is_empty() || file == "feed.rss",
                    "{path}: no author"
                );
            }
            let got: Vec<String> = feed
                .entries
                .iter()
                .map(|e| e.links[0].href.clone())
                .collect();
            if let Some(expected) = &expected {
                let want: Vec<String> = expected
                    .iter()
                    .take(kith_web::feeds::FEED_ENTRIES)
                    .filter_map(|p| p.url.clone())
                    .collect();
                assert_eq!(
                    got.iter().collect::<BTreeSet<_>>(),
                    want.iter().collect::<BTreeSet<_>>(),
                    "{path}: entries differ from what its page shows"
                );
                // First-crawl history is in the feed as on the page (it was left out,
                // so a hub of history showed posts on its page and none in its feed).
                assert!(
                    expected
                        .iter()
                        .take(kith_web::feeds::FEED_ENTRIES)
                        .any(|p| p.backfill),
                    "{path}: the test wants history in the feed"
                );
                if let Some(tag) = tag {
                    assert!(
                        feed.entries
                            .iter()
                            .all(|e| e.categories.iter().any(|c| &c.term == tag)),
                        "{path}: an entry without the hub's tag"
                    );
                }
            }
            if prefix.is_empty() {
                // Every new post is live and public: all of them are in the site feed.
                for u in &new_urls {
                    assert!(got.contains(u), "{path} lacks the new post {u}");
                }
            }
        }
        // The blogroll: members with their feeds and homepages.
        let path = format!("{prefix}/blogroll.opml");
        let r = f.get(&path).await;
        assert_eq!(r.status(), 200, "{path}");
        let doc = opml::OPML::from_str(&r.text().await.unwrap())
            .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        assert!(!doc.body.outlines.is_empty(), "{path}");
        for o in &doc.body.outlines {
            assert!(o.xml_url.as_deref().unwrap().starts_with("http://127."));
            assert!(o.html_url.as_deref().unwrap().starts_with("http://127."));
        }
        if prefix.is_empty() {
            assert_eq!(doc.body.outlines.len(), sphere.len());
        }
    }

    // --- conditional GET: both validators, 304 without a body ---
    for path in [
        "/feed.atom".to_owned(),
        format!("/hubs/{hub_tag}/feed.json"),
        format!("/hubs/{hub_tag}/blogroll.opml"),
    ] {
        let first = f.get(&path).await;
        assert_eq!(first.status(), 200);
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let lm = first.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_owned();
        // This client accepts gzip: the gzipped representation's validator is weak.
        assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{etag}");
        assert!(
            first.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let by_etag = f
            .client
            .get(format!("{base}{path}"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(by_etag.status(), 304, "{path}");
        assert_eq!(by_etag.headers()["etag"], etag.as_str());
        assert!(by_etag.bytes().await.unwrap().is_empty());
        let by_date = f
            .client
            .get(format!("{base}{path}"))
            .header("if-modified-since", &lm)
            .send()
            .await
            .unwrap();
        assert_eq!(by_date.status(), 304, "{path}");
        assert!(by_date.bytes().await.unwrap().is_empty());
        let stale = f
            .client
            .get(format!("{base}{path}"))
            .header("if-none-match", "\"something-else\"")
            .header("if-modified-since", &lm)
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 200, "a different ETag wins over the date");
        let old = f
            .client
            .get(format!("{base}{path}"))
            .header("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")
            .send()
            .await
            .unwrap();
        assert_eq!(old.status(), 200);
    }
    // What a 304 saves: the same feed answered in full and as not modified, sequentially
    // (a figure for the log; the 304 must not cost more than the full answer).
    let path = format!("{base}/hubs/{hub_tag}/feed.atom");
    let etag = f.get(&format!("/hubs/{hub_tag}/feed.atom")).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut full = Duration::ZERO;
    let mut cached = Duration::ZERO;
    for _ in 0..30 {
        let t = std::time::Instant::now();
        let r = f.client.get(&path).send().await.unwrap();
        r.bytes().await.unwrap();
        full += t.elapsed();
        let t = std::time::Instant::now();
        let r = f
            .client
            .get(&path)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
        r.bytes().await.unwrap();
        cached += t.elapsed();
    }
    eprintln!(
        "hub feed: 200 in {:.2} ms, 304 in {:.2} ms (mean of 30, debug build)",
        full.as_secs_f64() * 1000.0 / 30.0,
        cached.as_secs_f64() * 1000.0 / 30.0
    );
    assert!(cached < full, "a 304 should cost less than the full feed");
    assert_eq!(f.get("/hubs/no-such-hub/feed.atom").await.status(), 404);
    assert_eq!(f.get("/communities/none/feed.rss").await.status(), 404);

    // --- the OpenAPI document, and live answers against it ---
    let doc_text = f.get("/api/openapi.json").await.text().await.unwrap();
    let spec = oas3::from_json(&doc_text).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    let doc: Value = serde_json::from_str(&doc_text).unwrap();
    assert_eq!(doc["servers"][0]["url"], base.as_str());
    // Every component schema compiles as JSON Schema 2020-12 (refs resolve).
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        let mut s = json!({ "$ref": format!("#/components/schemas/{name}") });
        s["components"] = doc["components"].clone();
        jsonschema::validator_for(&s).unwrap_or_else(|e| panic!("schema {name}: {e}"));
    }
    conforms(&doc, "/api/v1/hubs", "get", 200, &hubs);
    let hub = f.json(&format!("/api/v1/hubs/{hub_tag}")).await;
    conforms(&doc, "/api/v1/hubs/{tag}", "get", 200, &hub);
    assert!(!hub["members"].as_array().unwrap().is_empty());
    let page = f
        .json(&format!("/api/v1/hubs/{hub_tag}/posts?limit=2"))
        .await;
    conforms(&doc, "/api/v1/hubs/{tag}/posts", "get", 200, &page);
    assert_eq!(page["posts"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap();
    let page2 = f
        .json(&format!(
            "/api/v1/hubs/{hub_tag}/posts?limit=2&before={next}"
        ))
        .await;
    conforms(&doc, "/api/v1/hubs/{tag}/posts", "get", 200, &page2);
    assert_ne!(page["posts"][0]["id"], page2["posts"][0]["id"]);
    conforms(&doc, "/api/v1/communities", "get", 200, &communities);
    if let Some(c) = &community {
        let one = f.json(&format!("/api/v1/communities/{c}")).await;
        conforms(&doc, "/api/v1/communities/{id}", "get", 200, &one);
    }
    let blogs = f.json("/api/v1/blogs?status=all").await;
    conforms(&doc, "/api/v1/blogs", "get", 200, &blogs);
    assert_eq!(blogs["total"], sphere.len());
    let blog_id = hub["members"][0]["blog"]["id"].as_i64().unwrap();
    let blog = f.json(&format!("/api/v1/blogs/{blog_id}")).await;
    conforms(&doc, "/api/v1/blogs/{id}", "get", 200, &blog);
    assert_eq!(blog["feed_health"]["health"], "ok");
    assert!(
        blog["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["hub"] == hub_tag.as_str())
    );
    let found = f
        .json(&format!("/api/v1/search?tag={hub_tag}&sort=newest"))
        .await;
    conforms(&doc, "/api/v1/search", "get", 200, &found);
    assert!(found["total"].as_u64().unwrap() > 0);

    // --- errors: JSON with a message and the right status, never a 500 ---
    for (path, status, api_path) in [
        ("/api/v1/hubs/no-such-hub", 404, "/api/v1/hubs/{tag}"),
        ("/api/v1/blogs/abc", 400, "/api/v1/blogs/{id}"),
        ("/api/v1/blogs/999999", 404, "/api/v1/blogs/{id}"),
        ("/api/v1/blogs?status=sleeping", 400, "/api/v1/blogs"),
        ("/api/v1/blogs?limit=0", 400, "/api/v1/blogs"),
        ("/api/v1/search?q=%22unclosed", 400, "/api/v1/search"),
        ("/api/v1/search?from=yesterday", 400, "/api/v1/search"),
        ("/api/v1/search?page=0", 400, "/api/v1/search"),
        ("/api/v1/search?sort=best", 400, "/api/v1/search"),
        ("/api/v1/communities/none", 404, "/api/v1/communities/{id}"),
    ] {
        let r = f.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body = body_json(r).await;
        assert!(
            body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
        conforms(&doc, api_path, "get", status, &body);
    }
    let r = f
        .get(&format!("/api/v1/hubs/{hub_tag}/posts?before=garbage"))
        .await;
    assert_eq!(r.status(), 400);
    let r = f.get("/api/v2/anything").await;
    assert_eq!(r.status(), 404);
    assert!(body_json(r).await["error"].is_string());

    // --- /metrics: Prometheus text with the named families ---
    let r = f.get("/metrics").await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let names: BTreeSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for family in [
        "kith_feeds",
        "kith_blogs",
        "kith_posts",
        "kith_polls_total",
        "kith_posts_ingested_total",
        "kith_index_lag_seconds",
        "kith_http_request_duration_seconds",
    ] {
        assert!(
            names.contains(family),
            "{family} missing from {names:?}\n{text}"
        );
    }
    let sample = |name: &str, label: (&str, &str)| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get(label.0) == Some(label.1))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        sample("kith_feeds", ("health", "ok")),
        Some(sphere.len() as f64)
    );
    // The pings the hub received above, counted.
    assert!(
        sample("kith_websub_pings_total", ("outcome", "sent")).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(
        sample("kith_websub_pings_total", ("outcome", "failed")),
        Some(0.0)
    );
    // Routes are labelled by their pattern, not the URL asked for.
    assert!(text.contains("route=\"/hubs/{tag}/feed.atom\""), "{text}");
    assert!(
        !text.contains(&format!("route=\"/hubs/{hub_tag}")),
        "{text}"
    );

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    sphere.shutdown().await;
}
