-- 0004: per-wallet balance alerts (the customer's own low-balance
-- thresholds, which of them are crossed, the last refill), as JSON.
ALTER TABLE wallets ADD COLUMN alerts TEXT;
