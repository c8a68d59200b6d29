//! What every format becomes ([`RawFeed`]), and how it becomes posts: links picked,
//! HTML sanitised, text extracted, dates clamped, ids settled.

use super::text::{Declared, category, derived_title, escape_text, text_as, text_of};
use super::{ParsedFeed, dates::parse_date, xml_repair};
use crate::sanitize::Sanitizer;
use chrono::{DateTime, Utc};
use kith_model::{NewPost, content_hash};
use url::Url;

#[derive(Debug, Default)]
pub(super) struct RawFeed {
    /// Plain text.
    pub(super) title: Option<String>,
    /// Plain text.
    pub(super) description: Option<String>,
    pub(super) links: Vec<RawLink>,
    pub(super) ttl: Option<u32>,
    pub(super) author: Option<String>,
    pub(super) items: Vec<RawItem>,
}

#[derive(Debug, Default)]
pub(super) struct RawItem {
    pub(super) id: String,
    /// Whether `id` may stand in for a missing link (RSS `isPermaLink="false"` says not).
    pub(super) id_is_permalink: bool,
    /// Plain text.
    pub(super) title: Option<String>,
    pub(super) links: Vec<RawLink>,
    /// HTML.
    pub(super) body: Option<String>,
    /// `xml:base` in effect for the item's content.
    pub(super) base: Option<String>,
    pub(super) published: Option<DateTime<Utc>>,
    pub(super) updated: Option<DateTime<Utc>>,
    pub(super) authors: Vec<String>,
    pub(super) categories: Vec<String>,
}

#[derive(Debug)]
pub(super) struct RawLink {
    pub(super) href: String,
    pub(super) rel: Option<String>,
    /// A link to the comments (RSS `<comments>`, `wfw:commentRss`), not to the post.
    pub(super) comments: bool,
}

impl RawFeed {
    pub(super) fn from_feed_rs(feed: feed_rs::model::Feed, hints: xml_repair::Hints) -> RawFeed {
        // Atom declares its text constructs (`type="text"` is text); RSS says nothing, and
        // feed-rs calls its text plain.
        let plain = if feed.feed_type == feed_rs::model::FeedType::Atom {
            Declared::Text
        } else {
            Declared::Unsaid
        };
        let link = |l: feed_rs::model::Link| RawLink {
            href: l.href,
            rel: l.rel,
            comments: l.target.is_some(),
        };
        // The hints were counted the way feed-rs counts entries; if that ever differs, a
        // hint would land on the wrong post, so none are used.
        let entry_hints = if hints.entries.len() == feed.entries.len() {
            hints.entries
        } else {
            tracing::debug!(
                hints = hints.entries.len(),
                entries = feed.entries.len(),
                "entry hints do not line up; ignored"
            );
            Vec::new()
        };
        let mut entry_hints = entry_hints.into_iter();
        let items = feed
            .entries
            .into_iter()
            .map(|e| {
                let hint = entry_hints.next().unwrap_or_default();
                let body = e
                    .content
                    .and_then(|c| {
                        let plain = c.content_type.subty() == "plain";
                        c.body.map(|b| if plain { escape_text(&b) } else { b })
                    })
                    .filter(|b| !b.trim().is_empty())
                    .or_else(|| {
                        e.summary.map(|s| {
                            if s.content_type.subty() == "plain" {
                                escape_text(&s.content)
                            } else {
                                s.content
                            }
                        })
                    });
                let mut links: Vec<RawLink> = e.links.into_iter().map(link).collect();
                links.extend(hint.links.into_iter().map(|(href, rel)| RawLink {
                    href,
                    rel,
                    comments: false,
                }));
                let own_id = Some(e.id.trim().to_owned()).filter(|id| !id.is_empty());
                // rdf:about names the item; feedparser and miniflux do not take it for the
                // link, and neither do we.
                let id_is_permalink = own_id.is_some() && !hint.guid_not_permalink;
                let id = own_id.or(hint.about).unwrap_or_default();
                RawItem {
                    id,
                    id_is_permalink,
                    title: e
                        .title
                        .as_ref()
                        .map(|t| text_of(t, plain))
                        .filter(|t| !t.is_empty())
                        .or_else(|| hint.title.map(|t| text_as(&t, Declared::Unsaid))),
                    links,
                    body,
                    base: e.base,
                    published: e
                        .published
                        .or_else(|| hint.published.as_deref().and_then(parse_date)),
                    updated: e
                        .updated
                        .or_else(|| hint.updated.as_deref().and_then(parse_date)),
                    authors: e
                        .authors
                        .iter()
                        .filter_map(|p| person_name(p.name.as_deref()))
                        .collect(),
                    categories: e
                        .categories
                        .into_iter()
                        .filter_map(|c| {
                            nonempty(Some(&c.term))
                                .or_else(|| nonempty(c.label.as_deref()))
                                .and_then(|raw| category(&raw))
                        })
                        .collect(),
                }
            })
            .collect();
        RawFeed {
            title: feed
                .title
                .as_ref()
                .map(|t| text_of(t, plain))
                .filter(|t| !t.is_empty())
                .or_else(|| hints.feed_title.map(|t| text_as(&t, Declared::Unsaid))),
            description: feed.description.as_ref().map(|t| text_of(t, plain)),
            links: feed.links.into_iter().map(link).collect(),
            ttl: feed.ttl,
            author: feed
                .authors
                .iter()
                .find_map(|p| person_name(p.name.as_deref())),
            items,
        }
    }

    pub(super) fn into_parsed(self, feed_url: &Url, now: DateTime<Utc>) -> ParsedFeed {
        let sanitizer = Sanitizer::new(Some(feed_url));
        let feed_author = self.author;
        let entries = self
            .items
            .into_iter()
            .map(|item| item.into_post(feed_url, feed_author.as_deref(), &sanitizer, now))
            .collect();
        ParsedFeed {
            title: self.title.filter(|t| !t.is_empty()),
            description: self.description.filter(|t| !t.is_empty()),
            site_url: pick_link(&self.links, feed_url).map(|u| u.to_string()),
            ttl_minutes: self.ttl,
            entries,
        }
    }
}

impl RawItem {
    fn into_post(
        self,
        feed_url: &Url,
        feed_author: Option<&str>,
        feed_sanitizer: &Sanitizer,
        now: DateTime<Utc>,
    ) -> NewPost {
        let id = self.id.trim();
        // An id that is a web address is the post's address when nothing else says so
        // (RSS `<guid>` is a permalink unless it says otherwise; Atom ids often are).
        let url = pick_link(&self.links, feed_url).or_else(|| {
            Url::parse(id)
                .ok()
                .filter(|u| self.id_is_permalink && matches!(u.scheme(), "http" | "https"))
        });
        let raw_html = self.body.unwrap_or_default();
        // xml:base on the entry changes what relative links mean inside it.
        let entry_base = self.base.as_deref().and_then(|b| feed_url.join(b).ok());
        let (content_html, text) = match &entry_base {
            Some(base) if base != feed_url => Sanitizer::new(Some(base)).clean_with_text(&raw_html),
            _ => feed_sanitizer.clean_with_text(&raw_html),
        };
        let mut title = self.title.unwrap_or_default();
        if title.is_empty() {
            title = derived_title(&text);
        }
        let hash = content_hash(&title, &text);
        let guid = Some(id.to_owned())
            .filter(|id| !id.is_empty())
            .or_else(|| url.as_ref().map(|u| u.to_string()))
            .unwrap_or_else(|| format!("sha256:{hash}"));
        let clamp = |t: DateTime<Utc>| t.min(now);
        let published = self.published.or(self.updated).map(clamp).unwrap_or(now);
        let updated = self.updated.map(clamp).filter(|u| *u != published);
        let author = self
            .authors
            .into_iter()
            .next()
            .or_else(|| feed_author.map(str::to_owned));
        let mut categories: Vec<String> = Vec::new();
        for name in self.categories {
            if !categories.iter().any(|x| x.eq_ignore_ascii_case(&name)) {
                categories.push(name);
            }
        }
        NewPost {
            guid,
            url: url.map(|u| u.to_string()),
            language: None,
            title,
            author,
            published,
            updated,
            content_html,
            text,
            content_hash: hash,
            categories,
            // The crawler decides what is history on a first crawl (`mark_backfill`).
            backfill: false,
            tags: Vec::new(),
        }
    }
}

/// A person's name as text. No format declares names as HTML, and a name is never
/// markup: one that holds tags is reduced to its text (the tags removed), whatever the
/// format.
pub(super) fn person_name(s: Option<&str>) -> Option<String> {
    s.map(|s| text_as(s, Declared::Unsaid))
        .filter(|s| !s.is_empty())
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The best "this is the page" link: `alternate` or no rel, resolved, http(s) only.
pub(super) fn pick_link(links: &[RawLink], base: &Url) -> Option<Url> {
    let rank = |l: &RawLink| match l.rel.as_deref() {
        _ if l.comments => 9,
        None | Some("alternate") => 0,
        Some("self" | "hub" | "enclosure" | "replies" | "edit" | "payment" | "license") => 9,
        Some(_) => 5,
    };
    let mut candidates: Vec<_> = links
        .iter()
        .filter(|l| rank(l) < 9 && !l.href.trim().is_empty())
        .collect();
    candidates.sort_by_key(|l| rank(l));
    candidates.into_iter().find_map(|l| {
        base.join(l.href.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    })
}
