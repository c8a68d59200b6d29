-- 0001: blogs, their feed's crawl state, posts, tags.
-- Migrations are append-only: never edit a released file, add the next number instead.
-- Times are stored as RFC 3339 UTC text with microseconds ("2026-11-22T01:02:03.000000Z"),
-- fixed width, so text order is time order and indexes on them work for ranges.

CREATE TABLE blogs (
    id                 INTEGER PRIMARY KEY,
    homepage_url       TEXT NOT NULL,
    feed_url           TEXT NOT NULL,
    -- identity_key(feed_url): the same feed reached over http/https, with or without
    -- "www." or a trailing slash, is one blog.
    feed_key           TEXT NOT NULL UNIQUE,
    title              TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'paused', 'gone')),
    verification_token TEXT NOT NULL,
    added_at           TEXT NOT NULL
);
CREATE INDEX blogs_homepage_url ON blogs (homepage_url);

-- One row per blog: what the crawler remembers between polls.
CREATE TABLE feed_state (
    blog_id            INTEGER PRIMARY KEY REFERENCES blogs (id) ON DELETE CASCADE,
    etag               TEXT,
    last_modified      TEXT,
    next_check_at      TEXT,          -- NULL: never polled, due now
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_status        INTEGER,       -- HTTP status of the last poll, NULL if none came back
    last_error         TEXT,          -- human reason, NULL after a success
    last_checked_at    TEXT,
    last_success_at    TEXT,
    interval_secs      INTEGER,       -- learnt from the feed's posting rhythm
    redirect_to        TEXT,          -- a permanent redirect seen on the last polls ...
    redirect_count     INTEGER NOT NULL DEFAULT 0  -- ... this many times in a row
);
CREATE INDEX feed_state_next_check_at ON feed_state (next_check_at);

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY,
    blog_id       INTEGER NOT NULL REFERENCES blogs (id) ON DELETE CASCADE,
    guid          TEXT NOT NULL,
    url           TEXT,
    title         TEXT NOT NULL,
    author        TEXT,
    published     TEXT NOT NULL,
    updated       TEXT,
    content_html  TEXT NOT NULL,      -- sanitised
    text          TEXT NOT NULL,      -- plain text for the tagger and the index
    content_hash  TEXT NOT NULL,
    language      TEXT,
    backfill      INTEGER NOT NULL DEFAULT 0,  -- history read on the blog's first crawl
    first_seen_at TEXT NOT NULL,
    changed_at    TEXT NOT NULL,      -- last insert or edit: later stages re-tag from here
    UNIQUE (blog_id, guid)
);
CREATE INDEX posts_published ON posts (published DESC, id DESC);
CREATE INDEX posts_blog_published ON posts (blog_id, published DESC);
CREATE INDEX posts_changed_at ON posts (changed_at);
CREATE INDEX posts_url ON posts (url);

-- The same post reached through another feed (a planet, a cross-post): one row in posts,
-- one row here per other feed that carries it.
CREATE TABLE post_sources (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    blog_id INTEGER NOT NULL REFERENCES blogs (id) ON DELETE CASCADE,
    guid    TEXT NOT NULL,
    PRIMARY KEY (blog_id, guid)
);
CREATE INDEX post_sources_post_id ON post_sources (post_id);

CREATE TABLE tags (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,     -- normal form
    display TEXT NOT NULL             -- a surface form people wrote
);

CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    source  TEXT NOT NULL CHECK (source IN ('author', 'rule', 'extracted')),
    score   REAL NOT NULL,
    reason  TEXT,                     -- which rule, which keyword evidence
    PRIMARY KEY (post_id, tag_id, source)
);
CREATE INDEX post_tags_tag_id ON post_tags (tag_id, post_id);

-- WebSub: at most one subscription per blog, at the hub its feed names.
CREATE TABLE websub (
    blog_id          INTEGER PRIMARY KEY REFERENCES blogs (id) ON DELETE CASCADE,
    hub              TEXT NOT NULL,
    topic            TEXT NOT NULL,
    secret           TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('wanted', 'requested', 'active', 'failed')),
    requested_at     TEXT,
    lease_expires_at TEXT,
    last_error       TEXT
);
CREATE INDEX websub_state ON websub (state, lease_expires_at);
