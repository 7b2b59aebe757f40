-- 0011: the audit log. The same table as sqlite/migrations/0011_audit_log.sql:
-- one row per admin action (who, when, which request, what, on what, why,
-- and how it ended). Timestamps are microseconds since the Unix epoch (UTC).
-- Like the ledger it is append-only: rows are never updated, deleted or
-- truncated. seq is the order rows were appended in, which lists and
-- cursors follow.
CREATE TABLE audit_log (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL UNIQUE,
    at         BIGINT NOT NULL,
    actor_kind TEXT   NOT NULL,
    actor_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    actor_name TEXT COLLATE "C" NOT NULL DEFAULT '',
    request_id TEXT   NOT NULL DEFAULT '',
    action     TEXT COLLATE "C" NOT NULL,
    customer   TEXT COLLATE "C" NOT NULL DEFAULT '',
    target     TEXT   NOT NULL DEFAULT '',
    reason     TEXT   NOT NULL DEFAULT '',
    outcome    TEXT   NOT NULL,
    details    JSONB  NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id, seq);
CREATE INDEX audit_log_actor_name ON audit_log (actor_name, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_customer ON audit_log (customer, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The audit log is append-only, like the ledger.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log rows are append-only';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- TRUNCATE fires no row triggers; stop it at the statement.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
