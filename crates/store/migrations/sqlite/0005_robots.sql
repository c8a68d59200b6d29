-- 0005: robots.txt decisions, shared by every crawl process and kept across runs, so a
-- `kith crawl --once` from cron does not fetch every host's robots.txt each time.
-- One row per origin (`scheme://host:port`): the status and file as last read, the
-- validators to ask again conditionally, and until when the answer holds (RFC 9309: up to
-- 24 hours). An unreachable server is never stored: it is asked again soon.
CREATE TABLE robots (
    origin        TEXT PRIMARY KEY,
    status        INTEGER NOT NULL,
    body          BLOB NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    fetched_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
