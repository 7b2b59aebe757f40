-- 0002: what the server keeps beside the ledger (store.ServerStore): API
-- keys, shared secrets, webhook endpoints and their deliveries, the notices
-- of grants about to expire, and which outbox events were dispatched. The
-- same tables as sqlite/migrations/0002_server.sql.
--
-- Timestamps are BIGINT microseconds since the Unix epoch (UTC), and
-- identifiers use the "C" collation, as in 0001.

CREATE TABLE api_keys (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    scope      TEXT   NOT NULL,
    -- Every request looks its key up by hash.
    hash       TEXT COLLATE "C" NOT NULL UNIQUE,
    prefix     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE secrets (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE webhook_endpoints (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    url         TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    secret      TEXT   NOT NULL,
    -- Empty: every event (store.MatchEventType).
    event_types TEXT[] NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);

CREATE TABLE webhook_deliveries (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    endpoint_id     TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id),
    event_id        TEXT COLLATE "C" NOT NULL REFERENCES events (id),
    status          TEXT   NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    -- One delivery per event and endpoint, even if two dispatchers raced.
    UNIQUE (endpoint_id, event_id)
);
-- The deliveries workers claim: only the pending ones, however long the
-- history, in the order they are claimed.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- A grant is notified of its coming expiry once: the primary key decides
-- which of several concurrent notifiers writes the event.
CREATE TABLE grant_notices (
    grant_id   TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (grant_id, kind)
);

-- When the webhook dispatcher fanned an event out to the endpoints; NULL
-- until then. The events written before this migration predate webhooks:
-- they read as dispatched at 0, so that an endpoint created later is not
-- flooded with history. (A column added with a constant default is not
-- rewritten into every row: the old rows read the default, and once it is
-- dropped new rows get NULL.)
ALTER TABLE events ADD COLUMN dispatched_at BIGINT DEFAULT 0;
ALTER TABLE events ALTER COLUMN dispatched_at DROP DEFAULT;
-- The events left to dispatch: a handful, however long the outbox.
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;
