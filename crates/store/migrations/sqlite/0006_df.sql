-- 0006: the tagger's document frequencies, saved so that a process starting up (a
-- `kith crawl --once` from cron, say) reads one row instead of every stored post. One row:
-- the table as the tagger encodes it, and the last post it counts; posts stored after
-- that one are counted on top when the table is read.
CREATE TABLE df_snapshot (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    through_post INTEGER,
    terms        BLOB NOT NULL,
    saved_at     TEXT NOT NULL
);
