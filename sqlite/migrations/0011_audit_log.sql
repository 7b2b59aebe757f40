-- 0011: the audit log: one row per admin action (who, when, which request,
-- what, on what, why, and how it ended). Timestamps are microseconds since
-- the Unix epoch (UTC). Like the ledger it is append-only: rows are never
-- updated or deleted. seq is the order rows were appended in, which lists
-- and cursors follow.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    at         INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL DEFAULT '',
    actor_name TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT '',
    action     TEXT    NOT NULL,
    customer   TEXT    NOT NULL DEFAULT '',
    target     TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT '',
    outcome    TEXT    NOT NULL,
    details    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id, seq);
CREATE INDEX audit_log_actor_name ON audit_log (actor_name, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_customer ON audit_log (customer, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The audit log is append-only, like the ledger.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log rows are append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log rows are append-only'); END;
