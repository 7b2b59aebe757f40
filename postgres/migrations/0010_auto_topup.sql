-- 0010: auto top-up. The same tables as sqlite/migrations/0010_auto_topup.sql.
-- topup_settings is a wallet's own settings (a row with enabled = false
-- turns the config's default off for it); topup_state is what the domain
-- needs to start at most one purchase at a time: the attempt in flight, the
-- last attempt (the cooldown), the month's spend (the cap) and the last
-- failure. The domain saves a state row only if its version is
-- still the one it read, so one claim wins across goroutines and processes.
CREATE TABLE topup_settings (
    customer          TEXT COLLATE "C" NOT NULL,
    currency          TEXT COLLATE "C" NOT NULL,
    enabled           BOOLEAN NOT NULL,
    threshold         BIGINT  NOT NULL,
    pack              TEXT    NOT NULL,
    target_balance    BIGINT  NOT NULL DEFAULT 0,
    monthly_cap_cents BIGINT  NOT NULL DEFAULT 0,
    cooldown_us       BIGINT  NOT NULL,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    PRIMARY KEY (customer, currency)
);

CREATE TABLE topup_state (
    customer               TEXT COLLATE "C" NOT NULL,
    currency               TEXT COLLATE "C" NOT NULL,
    version                BIGINT  NOT NULL,
    attempt_id             TEXT    NOT NULL DEFAULT '',
    attempt_started_at     BIGINT,
    attempt_pack           TEXT    NOT NULL DEFAULT '',
    attempt_credits        BIGINT  NOT NULL DEFAULT 0,
    attempt_cents          BIGINT  NOT NULL DEFAULT 0,
    attempt_money_currency TEXT    NOT NULL DEFAULT '',
    last_attempt_at        BIGINT,
    last_purchase_at       BIGINT,
    month_key              TEXT    NOT NULL DEFAULT '',
    month_spent_cents      BIGINT  NOT NULL DEFAULT 0,
    last_failure           TEXT    NOT NULL DEFAULT '',
    last_failure_at        BIGINT,
    failures               BIGINT  NOT NULL DEFAULT 0,
    updated_at             BIGINT  NOT NULL,
    PRIMARY KEY (customer, currency)
);

-- The runner finds attempts left in flight, untouched since updated_at (a
-- crash between the charge and the purchase).
CREATE INDEX topup_state_in_flight ON topup_state (updated_at) WHERE attempt_id <> '';
