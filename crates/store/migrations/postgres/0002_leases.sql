-- PostgreSQL 0002 (SQLite 0008): crawl leases. A crawl worker claims the due feeds it will
-- poll: its id and until when the claim holds. Other workers skip feeds claimed by someone
-- else (and every feed on a host someone else holds), until the claim ends: when the poll
-- is stored, or when the lease runs out because its worker died.
ALTER TABLE feed_state ADD COLUMN lease_owner TEXT;
ALTER TABLE feed_state ADD COLUMN lease_until TIMESTAMPTZ;
CREATE INDEX feed_state_lease_until ON feed_state (lease_until) WHERE lease_until IS NOT NULL;
