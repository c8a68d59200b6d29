//! The tagger's document frequencies live in the store (issue 17): each crawl saves what it
//! counted with the last post it covers, and the next process reads that and counts only
//! the posts stored since, so start-up does not read every stored post.

use crate::support::{Site, TEST_CONFIG, blogosphere};
use kith_store::{SqliteStore, Store};
use kith_tag::{DfTable, DocFreq, doc_terms};

/// Every stored post counted from scratch, and the distinct terms they use.
async fn recount(store: &SqliteStore) -> (DfTable, Vec<String>) {
    let mut df = DfTable::new();
    let mut terms = Vec::new();
    let mut after = None;
    loop {
        let page = store.posts_after(after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for p in &page {
            df.add(&p.title, &p.text);
            terms.extend(doc_terms(&p.title, &p.text));
        }
    }
    terms.sort_unstable();
    terms.dedup();
    (df, terms)
}

async fn saved(store: &SqliteStore) -> (DfTable, Option<kith_model::PostId>) {
    let s = store
        .stored_df()
        .await
        .unwrap()
        .expect("saved after a crawl");
    (DfTable::from_bytes(&s.bytes).expect("a table"), s.through)
}

fn assert_same(got: &DfTable, want: &DfTable, terms: &[String]) {
    assert_eq!(got.docs(), want.docs());
    assert_eq!(got.len(), want.len());
    for t in terms {
        assert_eq!(got.df(t), want.df(t), "{t}");
    }
}

#[tokio::test]
async fn document_frequencies_are_saved_and_follow_new_posts() {
    let sphere = blogosphere(5, 404).await;
    let site = Site::new(TEST_CONFIG);
    site.import_and_crawl(&sphere).await;
    let store = SqliteStore::open(site.config().database_path())
        .await
        .unwrap();
    let (table, through) = saved(&store).await;
    assert_eq!(through, store.last_post_id().await.unwrap());
    let (want, terms) = recount(&store).await;
    assert!(want.docs() > 20, "{} posts", want.docs());
    assert_same(&table, &want, &terms);

    // New posts: the next crawl (another process) counts them on top of the saved table.
    for blog in 0..sphere.len() {
        sphere.publish(blog, 2);
    }
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let (table, through) = saved(&store).await;
    assert_eq!(through, store.last_post_id().await.unwrap());
    let (want, terms) = recount(&store).await;
    assert_eq!(table.docs(), want.docs(), "the new posts are counted once");
    assert_same(&table, &want, &terms);

    // A table saved for other match keys is not used: the next crawl counts every post.
    let mut stale = store.stored_df().await.unwrap().unwrap();
    stale.bytes[3] = stale.bytes[3].wrapping_add(1);
    stale.through = None;
    store.save_df(stale).await.unwrap();
    sphere.publish(0, 1);
    site.kith(&["crawl", "--once", "--all"]).await.ok();
    let (table, _) = saved(&store).await;
    let (want, terms) = recount(&store).await;
    assert_same(&table, &want, &terms);
}
