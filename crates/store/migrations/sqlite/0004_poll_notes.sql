-- 0004: what the last poll of a feed left out or changed, in words a blogger reads
-- ("12 entries skipped: they are already stored as blog #7's posts", a field cut to its
-- limit), one note per line; NULL when it left nothing out. Shown with the feed's health.
ALTER TABLE feed_state ADD COLUMN notes TEXT;
