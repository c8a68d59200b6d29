-- 0003: links between posts, for conversations between members of a hub.
-- One row per distinct http(s) link in a post's sanitised content (fragment dropped).
-- The target is matched against posts.url when read, so a link written before its target
-- was crawled still joins up later.
CREATE TABLE post_links (
    post_id    INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    target_url TEXT NOT NULL,
    PRIMARY KEY (post_id, target_url)
);
CREATE INDEX post_links_target_url ON post_links (target_url);
