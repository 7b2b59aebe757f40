-- 0006: subscriptions. The same table as sqlite/migrations/0006_subscriptions.sql.
-- One row per customer and credit currency, kept after a cancellation so
-- that a resubscribe knows the signup bonus was given. A refill updates the
-- row (its period) in the same transaction as the grants it writes, under
-- the wallet's lock.
CREATE TABLE subscriptions (
    customer       TEXT COLLATE "C" NOT NULL,
    currency       TEXT COLLATE "C" NOT NULL,
    id             TEXT    NOT NULL UNIQUE,
    plan           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    anchor         BIGINT  NOT NULL,
    period_start   BIGINT  NOT NULL,
    period_end     BIGINT  NOT NULL,
    trial_end      BIGINT,
    cancel_at      BIGINT,
    canceled_at    BIGINT,
    paused_at      BIGINT,
    scheduled_plan TEXT    NOT NULL DEFAULT '',
    bonus_given    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    PRIMARY KEY (customer, currency)
);

-- RunDue finds the subscriptions whose period ended.
CREATE INDEX subscriptions_due ON subscriptions (period_end, customer, currency)
    WHERE status IN ('active', 'trialing');
