-- 0008: purchases. One row per fulfilled payment of a pack, unique per
-- (provider, external_id): the key that makes a purchase exactly once. It
-- is inserted in the same transaction as the grant it gives (grant_id),
-- under the wallet's lock, and saved again by each refund (refunded_cents
-- and how the clawed-back credits were recovered are cumulative).
CREATE TABLE purchases (
    id                TEXT    NOT NULL PRIMARY KEY,
    customer          TEXT    NOT NULL,
    currency          TEXT    NOT NULL,
    pack              TEXT    NOT NULL,
    provider          TEXT    NOT NULL,
    external_id       TEXT    NOT NULL,
    charge_id         TEXT    NOT NULL DEFAULT '',
    payment_intent_id TEXT    NOT NULL DEFAULT '',
    credits           INTEGER NOT NULL,
    amount_paid       INTEGER NOT NULL,
    money_currency    TEXT    NOT NULL,
    grant_id          TEXT    NOT NULL,
    purchased_at      INTEGER NOT NULL,
    refunded_cents    INTEGER NOT NULL DEFAULT 0,
    clawed_back       INTEGER NOT NULL DEFAULT 0,
    refund_debt       INTEGER NOT NULL DEFAULT 0,
    shortfall         INTEGER NOT NULL DEFAULT 0,
    metadata          TEXT    NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    CONSTRAINT purchases_external UNIQUE (provider, external_id)
) WITHOUT ROWID;

-- A customer's purchases, in the order they were made.
CREATE INDEX purchases_customer ON purchases (customer, id);
-- A refund names the purchase by the provider's charge or payment intent.
CREATE INDEX purchases_charge ON purchases (provider, charge_id, id) WHERE charge_id <> '';
CREATE INDEX purchases_payment_intent ON purchases (provider, payment_intent_id, id) WHERE payment_intent_id <> '';
