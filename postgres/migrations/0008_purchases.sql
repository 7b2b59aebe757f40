-- 0008: purchases. The same table as sqlite/migrations/0008_purchases.sql.
-- One row per fulfilled payment of a pack, unique per (provider,
-- external_id): the key that makes a purchase exactly once, even when two
-- processes race (the loser's insert violates purchases_external and its
-- transaction reruns, finding the row). It is inserted in the same
-- transaction as the grant it gives (grant_id), under the wallet's lock,
-- and saved again by each refund.
CREATE TABLE purchases (
    id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    customer          TEXT COLLATE "C" NOT NULL,
    currency          TEXT COLLATE "C" NOT NULL,
    pack              TEXT   NOT NULL,
    provider          TEXT COLLATE "C" NOT NULL,
    external_id       TEXT COLLATE "C" NOT NULL,
    charge_id         TEXT COLLATE "C" NOT NULL DEFAULT '',
    payment_intent_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    credits           BIGINT NOT NULL,
    amount_paid       BIGINT NOT NULL,
    money_currency    TEXT   NOT NULL,
    grant_id          TEXT   NOT NULL,
    purchased_at      BIGINT NOT NULL,
    refunded_cents    BIGINT NOT NULL DEFAULT 0,
    clawed_back       BIGINT NOT NULL DEFAULT 0,
    refund_debt       BIGINT NOT NULL DEFAULT 0,
    shortfall         BIGINT NOT NULL DEFAULT 0,
    metadata          TEXT   NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT purchases_external UNIQUE (provider, external_id)
);

-- A customer's purchases, in the order they were made.
CREATE INDEX purchases_customer ON purchases (customer, id);
-- A refund names the purchase by the provider's charge or payment intent.
CREATE INDEX purchases_charge ON purchases (provider, charge_id, id) WHERE charge_id <> '';
CREATE INDEX purchases_payment_intent ON purchases (provider, payment_intent_id, id) WHERE payment_intent_id <> '';
