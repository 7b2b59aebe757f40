-- 0009: payment providers. provider_customers links a creditkit customer
-- to its customer at a provider (a Stripe customer id), one each way.
-- provider_events records every provider event (a Stripe event id) the
-- server received, so that a redelivery is answered without running it
-- again; provider_cursors keeps how far a provider's outbox worker read
-- the ledger's events (overage into invoice items).
CREATE TABLE provider_customers (
    provider    TEXT    NOT NULL,
    customer    TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, customer),
    CONSTRAINT provider_customers_external UNIQUE (provider, external_id)
) WITHOUT ROWID;

CREATE TABLE provider_events (
    provider     TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    outcome      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (provider, event_id)
) WITHOUT ROWID;

CREATE TABLE provider_cursors (
    provider TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (provider, name)
) WITHOUT ROWID;

-- A past_due subscription still refills during its grace, so the
-- scheduler's due query looks at it too.
DROP INDEX subscriptions_due;
CREATE INDEX subscriptions_due ON subscriptions (period_end, customer, currency)
    WHERE status IN ('active', 'trialing', 'past_due');
