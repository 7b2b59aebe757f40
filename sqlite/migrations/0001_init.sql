-- 0001: the ledger. Timestamps are microseconds since the Unix epoch (UTC).
CREATE TABLE wallets (
    customer       TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    ledger_balance INTEGER NOT NULL DEFAULT 0,
    low_notified   INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (customer, currency)
) WITHOUT ROWID;

CREATE TABLE grants (
    id           TEXT    NOT NULL PRIMARY KEY,
    customer     TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount > 0),
    remaining    INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    reason       TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    priority     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    effective_at INTEGER NOT NULL,
    expires_at   INTEGER,
    voided_at    INTEGER,
    expired_at   INTEGER,
    cost_basis   TEXT,
    metadata     TEXT    NOT NULL DEFAULT '{}'
);
-- The grants a spend can draw from: a handful per wallet, however long the history.
CREATE INDEX grants_live ON grants (customer, currency)
    WHERE remaining > 0 AND voided_at IS NULL AND expired_at IS NULL;
-- The expiry sweep.
CREATE INDEX grants_due ON grants (expires_at)
    WHERE remaining > 0 AND voided_at IS NULL AND expired_at IS NULL AND expires_at IS NOT NULL;
CREATE INDEX grants_customer ON grants (customer, id);

CREATE TABLE entries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    customer        TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    balance_after   INTEGER NOT NULL,
    operation       TEXT    NOT NULL DEFAULT '',
    metadata        TEXT    NOT NULL DEFAULT '{}',
    allocations     TEXT    NOT NULL DEFAULT '[]',
    actor           TEXT    NOT NULL DEFAULT '',
    idempotency_key TEXT    NOT NULL DEFAULT '',
    at              INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL
);
CREATE INDEX entries_customer ON entries (customer, seq);
CREATE INDEX entries_wallet_at ON entries (customer, currency, at);

-- The ledger is append-only: corrections are new entries.
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;

CREATE TABLE holds (
    id          TEXT    NOT NULL PRIMARY KEY,
    customer    TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    operation   TEXT    NOT NULL DEFAULT '',
    params      TEXT,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    captured    INTEGER NOT NULL DEFAULT 0 CHECK (captured >= 0 AND captured <= amount),
    status      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    allocations TEXT    NOT NULL DEFAULT '[]',
    metadata    TEXT,
    entry_id    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX holds_active ON holds (customer, currency) WHERE status = 'active';
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_wallet ON holds (customer, currency, created_at);

CREATE TABLE idempotency (
    key         TEXT    NOT NULL PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    result      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT    NOT NULL UNIQUE,
    type     TEXT    NOT NULL,
    customer TEXT    NOT NULL,
    currency TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
