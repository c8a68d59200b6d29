-- PostgreSQL 0003 (SQLite 0009): hubs and communities computed once for every node. One
-- process at a time holds a role's lease (`hubs`: the leader that computes them) and
-- renews it while it lives; the snapshots it computes are kept by generation, and every
-- other node loads the newest.
CREATE TABLE leaders (
    role  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until TIMESTAMPTZ NOT NULL
);
CREATE TABLE hub_snapshots (
    generation  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    computed_at TIMESTAMPTZ NOT NULL,
    body        BYTEA NOT NULL
);
