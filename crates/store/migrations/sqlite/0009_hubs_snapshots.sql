-- 0009: hubs and communities computed once for every node. One process at a time holds a
-- role's lease (`hubs`: the leader that computes them) and renews it while it lives; the
-- snapshots it computes are kept by generation, and every other node loads the newest.
CREATE TABLE leaders (
    role  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until TEXT NOT NULL
);
CREATE TABLE hub_snapshots (
    generation  INTEGER PRIMARY KEY,
    computed_at TEXT NOT NULL,
    body        BLOB NOT NULL
);
