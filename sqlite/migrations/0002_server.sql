-- 0002: what the server keeps beside the ledger: API keys, shared secrets,
-- webhook endpoints and deliveries, and notices of grants about to expire.
-- Timestamps are microseconds since the Unix epoch (UTC).
CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_created ON api_keys (created_at, id);

CREATE TABLE secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhook_endpoints (
    id          TEXT    NOT NULL PRIMARY KEY,
    url         TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    secret      TEXT    NOT NULL,
    event_types TEXT    NOT NULL DEFAULT '[]', -- JSON array; empty: every event
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);

CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,
    endpoint_id     TEXT    NOT NULL REFERENCES webhook_endpoints (id),
    event_id        TEXT    NOT NULL, -- an events row's id
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
-- The claim: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE grant_notices (
    grant_id   TEXT    NOT NULL,
    kind       TEXT    NOT NULL, -- 'expiring'
    created_at INTEGER NOT NULL,
    PRIMARY KEY (grant_id, kind)
) WITHOUT ROWID;

-- The outbox events no dispatcher has taken yet. Events written before
-- webhooks existed had no endpoint to go to: they count as dispatched, as
-- the first dispatch would have left them with no delivery anyway.
ALTER TABLE events ADD COLUMN dispatched_at INTEGER;
UPDATE events SET dispatched_at = at;
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;
