-- 0003: entries gain a type from a closed set, a free-text description, the
-- spendable balance after them, the time the usage happened, and details (the
-- library's own fields, kept apart from the caller's metadata).
ALTER TABLE entries ADD COLUMN type TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- NULL on entries written before this migration: it cannot be rebuilt.
ALTER TABLE entries ADD COLUMN available_after BIGINT;
ALTER TABLE entries ADD COLUMN occurred_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN details JSONB NOT NULL DEFAULT '{}';

-- Existing rows get their type (from category and sign), their occurred_at
-- (their at), and their metadata split: the caller's metadata was nested
-- under "metadata", the library's fields sat beside it. This one-time
-- rewrite is the migration's, so it lifts the append-only trigger for its
-- duration, in the migration's transaction.
ALTER TABLE entries DISABLE TRIGGER entries_no_update;
UPDATE entries SET
    type = CASE
        WHEN category IN ('transfer_in', 'transfer_out') THEN 'transfer'
        WHEN category = 'expiration' THEN 'expiration'
        WHEN category = 'void' THEN 'void'
        WHEN amount < 0 THEN 'charge'
        ELSE 'grant'
    END,
    occurred_at = at,
    details = metadata - 'metadata' - 'operation',
    metadata = CASE WHEN jsonb_typeof(metadata -> 'metadata') = 'object' THEN metadata -> 'metadata' ELSE '{}'::jsonb END;
ALTER TABLE entries ENABLE TRIGGER entries_no_update;

-- Usage (charges) summed by when it happened. Partial, so that queries on at
-- keep entries_wallet_at. History by type pages entries_customer, as it does
-- by category.
CREATE INDEX entries_usage ON entries (customer, currency, occurred_at) WHERE type = 'charge';
