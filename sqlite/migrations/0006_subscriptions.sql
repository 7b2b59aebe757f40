-- 0006: subscriptions. One row per customer and credit currency, kept after
-- a cancellation so that a resubscribe knows the signup bonus was given.
-- A refill updates the row (its period) in the same transaction as the
-- grants it writes, under the wallet's lock.
CREATE TABLE subscriptions (
    customer       TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    id             TEXT    NOT NULL UNIQUE,
    plan           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    anchor         INTEGER NOT NULL,
    period_start   INTEGER NOT NULL,
    period_end     INTEGER NOT NULL,
    trial_end      INTEGER,
    cancel_at      INTEGER,
    canceled_at    INTEGER,
    paused_at      INTEGER,
    scheduled_plan TEXT    NOT NULL DEFAULT '',
    bonus_given    INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (customer, currency)
) WITHOUT ROWID;

-- RunDue finds the subscriptions whose period ended.
CREATE INDEX subscriptions_due ON subscriptions (period_end, customer, currency)
    WHERE status IN ('active', 'trialing');
