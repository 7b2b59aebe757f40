-- 0010: auto top-up. topup_settings is a wallet's own settings (a row with
-- enabled = 0 turns the config's default off for it); topup_state is what
-- the domain needs to start at most one purchase at a time: the attempt in
-- flight, the last attempt (the cooldown), the month's spend (the cap) and
-- the last failure. The domain saves a state row only if its version is
-- still the one it read, so one claim wins across goroutines and processes.
CREATE TABLE topup_settings (
    customer          TEXT    NOT NULL,
    currency          TEXT    NOT NULL,
    enabled           INTEGER NOT NULL,
    threshold         INTEGER NOT NULL,
    pack              TEXT    NOT NULL,
    target_balance    INTEGER NOT NULL DEFAULT 0,
    monthly_cap_cents INTEGER NOT NULL DEFAULT 0,
    cooldown_us       INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (customer, currency)
) WITHOUT ROWID;

CREATE TABLE topup_state (
    customer               TEXT    NOT NULL,
    currency               TEXT    NOT NULL,
    version                INTEGER NOT NULL,
    attempt_id             TEXT    NOT NULL DEFAULT '',
    attempt_started_at     INTEGER,
    attempt_pack           TEXT    NOT NULL DEFAULT '',
    attempt_credits        INTEGER NOT NULL DEFAULT 0,
    attempt_cents          INTEGER NOT NULL DEFAULT 0,
    attempt_money_currency TEXT    NOT NULL DEFAULT '',
    last_attempt_at        INTEGER,
    last_purchase_at       INTEGER,
    month_key              TEXT    NOT NULL DEFAULT '',
    month_spent_cents      INTEGER NOT NULL DEFAULT 0,
    last_failure           TEXT    NOT NULL DEFAULT '',
    last_failure_at        INTEGER,
    failures               INTEGER NOT NULL DEFAULT 0,
    updated_at             INTEGER NOT NULL,
    PRIMARY KEY (customer, currency)
) WITHOUT ROWID;

-- The runner finds attempts left in flight, untouched since updated_at (a
-- crash between the charge and the purchase).
CREATE INDEX topup_state_in_flight ON topup_state (updated_at) WHERE attempt_id <> '';
