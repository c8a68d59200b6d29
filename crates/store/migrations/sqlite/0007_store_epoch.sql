-- 0007: what a search index needs to trust itself at start-up without counting every
-- post. One row: a random id for this store (an index built from another store must not
-- match it) and an epoch that every change of what is public outside the posts' own
-- change marks moves on: a blog's status changed, a blog or a post deleted. Triggers keep
-- it, so no write path can forget to.
CREATE TABLE store_meta (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    store_id         TEXT NOT NULL,
    visibility_epoch INTEGER NOT NULL
);
INSERT INTO store_meta (id, store_id, visibility_epoch)
VALUES (1, lower(hex(randomblob(16))), 0);

CREATE TRIGGER blogs_status_epoch AFTER UPDATE OF status ON blogs
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE store_meta SET visibility_epoch = visibility_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER blogs_delete_epoch AFTER DELETE ON blogs
BEGIN
    UPDATE store_meta SET visibility_epoch = visibility_epoch + 1 WHERE id = 1;
END;

CREATE TRIGGER posts_delete_epoch AFTER DELETE ON posts
BEGIN
    UPDATE store_meta SET visibility_epoch = visibility_epoch + 1 WHERE id = 1;
END;
