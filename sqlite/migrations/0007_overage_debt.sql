-- 0007: overage and debt. overage_limit is how far into debt the wallet may
-- go (0: never negative); debt is what it owes now (0 <= debt). The domain
-- sets both; the store only keeps them.
ALTER TABLE wallets ADD COLUMN overage_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wallets ADD COLUMN debt BIGINT NOT NULL DEFAULT 0;
