-- 0001: the ledger. The same tables, columns and indexes as
-- sqlite/migrations/0001_init.sql.
--
-- Timestamps are BIGINT microseconds since the Unix epoch (UTC), as on
-- SQLite. Identifiers use the "C" collation, so that ORDER BY and cursor
-- comparisons sort by bytes, like SQLite and Go's string comparison,
-- whatever the database's locale.

CREATE TABLE wallets (
    customer       TEXT COLLATE "C" NOT NULL,
    currency       TEXT COLLATE "C" NOT NULL,
    ledger_balance BIGINT  NOT NULL DEFAULT 0,
    low_notified   BOOLEAN NOT NULL DEFAULT false,
    created_at     BIGINT  NOT NULL,
    PRIMARY KEY (customer, currency)
);

CREATE TABLE grants (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    customer     TEXT COLLATE "C" NOT NULL,
    currency     TEXT COLLATE "C" NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    remaining    BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    reason       TEXT   NOT NULL,
    source       TEXT   NOT NULL,
    priority     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    effective_at BIGINT NOT NULL,
    expires_at   BIGINT,
    voided_at    BIGINT,
    expired_at   BIGINT,
    cost_basis   JSONB,
    metadata     JSONB  NOT NULL DEFAULT '{}'
);
-- The grants a spend can draw from: a handful per wallet, however long the history.
CREATE INDEX grants_live ON grants (customer, currency)
    WHERE remaining > 0 AND voided_at IS NULL AND expired_at IS NULL;
-- The expiry sweep.
CREATE INDEX grants_due ON grants (expires_at)
    WHERE remaining > 0 AND voided_at IS NULL AND expired_at IS NULL AND expires_at IS NOT NULL;
CREATE INDEX grants_customer ON grants (customer, id);

CREATE TABLE entries (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT COLLATE "C" NOT NULL UNIQUE,
    customer        TEXT COLLATE "C" NOT NULL,
    currency        TEXT COLLATE "C" NOT NULL,
    category        TEXT   NOT NULL,
    amount          BIGINT NOT NULL,
    balance_after   BIGINT NOT NULL,
    operation       TEXT   NOT NULL DEFAULT '',
    metadata        JSONB  NOT NULL DEFAULT '{}',
    allocations     JSONB  NOT NULL DEFAULT '[]',
    actor           TEXT   NOT NULL DEFAULT '',
    idempotency_key TEXT   NOT NULL DEFAULT '',
    at              BIGINT NOT NULL,
    recorded_at     BIGINT NOT NULL
);
CREATE INDEX entries_customer ON entries (customer, seq);
CREATE INDEX entries_wallet_at ON entries (customer, currency, at);

-- The ledger is append-only: corrections are new entries.
CREATE FUNCTION entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END
$$;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_append_only();
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_append_only();
-- TRUNCATE fires no row triggers; stop it at the statement.
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_append_only();

CREATE TABLE holds (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    customer    TEXT COLLATE "C" NOT NULL,
    currency    TEXT COLLATE "C" NOT NULL,
    operation   TEXT   NOT NULL DEFAULT '',
    params      JSONB,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    captured    BIGINT NOT NULL DEFAULT 0 CHECK (captured >= 0 AND captured <= amount),
    status      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    allocations JSONB  NOT NULL DEFAULT '[]',
    metadata    JSONB,
    entry_id    TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX holds_active ON holds (customer, currency) WHERE status = 'active';
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_wallet ON holds (customer, currency, created_at);

CREATE TABLE idempotency (
    key         TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT   NOT NULL,
    result      JSONB  NOT NULL,
    created_at  BIGINT NOT NULL,
    -- Named, because the store recognizes a concurrent insert of the same
    -- key by this constraint and asks the domain to retry.
    CONSTRAINT idempotency_pkey PRIMARY KEY (key)
);

CREATE TABLE events (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       TEXT COLLATE "C" NOT NULL UNIQUE,
    type     TEXT   NOT NULL,
    customer TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    data     JSONB  NOT NULL,
    at       BIGINT NOT NULL
);
