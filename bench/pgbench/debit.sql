-- One guarded debit plus one journal insert, in one transaction: one commit
-- (one WAL flush, with synchronous_commit=on) per debit. pgbench runs this
-- script once per transaction; see run.sh.
\set id random(1, 1000)
BEGIN;
UPDATE accounts SET balance = balance - 1 WHERE id = :id AND balance >= 1;
INSERT INTO journal (account_id, amount) VALUES (:id, -1);
COMMIT;
