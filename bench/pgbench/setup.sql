-- The database's own limit, for creditkit's throughput reference: 1000
-- accounts with a balance, and a journal that every debit appends to.
-- bench/pgbench/run.sh loads this file, then runs debit.sql with pgbench.
DROP TABLE IF EXISTS journal;
DROP TABLE IF EXISTS accounts;

CREATE TABLE accounts (
    id      integer PRIMARY KEY,
    balance bigint  NOT NULL CHECK (balance >= 0)
);

CREATE TABLE journal (
    id         bigserial   PRIMARY KEY,
    account_id integer     NOT NULL,
    amount     bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO accounts (id, balance)
SELECT g, 1000000000000 FROM generate_series(1, 1000) AS g;

VACUUM ANALYZE accounts;
