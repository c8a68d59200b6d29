-- 0002: what `kith retag` needs to re-tag stored posts, and the surface forms of tags.

-- The feed's own categories of each post, as the author wrote them, in feed order: the
-- tagger's first input. Without them a re-tag under new rules could not redo the
-- author's tags. Replaced whenever the post is stored again.
CREATE TABLE post_categories (
    post_id  INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    raw      TEXT NOT NULL,
    PRIMARY KEY (post_id, position)
);

-- Posts stored before this migration: their categories survive only in the reasons of
-- their author tags, `feed category "Rust"` (Rust's {:?} quoting, maybe followed by
-- ` (alias of rust)` or `; also ...`). Best effort: categories that were dropped as
-- stop-tags or junk are gone.
INSERT INTO post_categories (post_id, position, raw)
SELECT post_id,
       ROW_NUMBER() OVER (PARTITION BY post_id ORDER BY rid) - 1,
       replace(replace(substr(rest, 1, stop - 1), char(1), '"'), char(2), '\')
FROM (
    SELECT post_id, rid, rest,
           CASE
               WHEN instr(rest, '" (') > 0
                    AND (instr(rest, '";') = 0 OR instr(rest, '" (') < instr(rest, '";'))
                   THEN instr(rest, '" (')
               WHEN instr(rest, '";') > 0 THEN instr(rest, '";')
               ELSE length(rest)
           END AS stop
    FROM (
        -- Escaped backslashes and quotes out of the way first (char(2), char(1)), so that
        -- the first bare quote ends the category.
        SELECT post_id, rowid AS rid,
               replace(replace(substr(reason, 16), '\\', char(2)), '\"', char(1)) AS rest
        FROM post_tags
        WHERE source = 'author' AND reason LIKE 'feed category "%'
    )
)
WHERE stop > 1;

-- The surface form this post's tag was written in ("Rust", "rust", "RUST"): a tag is
-- shown in its most common form across posts (tags.display keeps the first one seen).
-- NULL on rows stored before this migration.
ALTER TABLE post_tags ADD COLUMN display TEXT;
CREATE INDEX post_tags_tag_display ON post_tags (tag_id, display);

-- Where an interrupted `kith retag` stopped: at most one row. `rules_fingerprint` is a
-- hash of the rules file (and the kith version), so a checkpoint left by other rules is
-- not resumed. The totals cover the whole run, resumed parts included.
CREATE TABLE retag_checkpoint (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    rules_fingerprint TEXT NOT NULL,
    last_post_id      INTEGER NOT NULL,
    checked           INTEGER NOT NULL DEFAULT 0,
    changed           INTEGER NOT NULL DEFAULT 0,
    rewritten         INTEGER NOT NULL DEFAULT 0,
    skipped           INTEGER NOT NULL DEFAULT 0,
    tags_added        INTEGER NOT NULL DEFAULT 0,
    tags_removed      INTEGER NOT NULL DEFAULT 0,
    started_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
