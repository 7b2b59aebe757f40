package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/creditkit/creditkit/store"
)

var _ store.AuditStore = (*Store)(nil)

const auditColumns = "id, at, actor_kind, actor_id, actor_name, request_id, action, customer, target, reason, outcome, details"

func scanAudit(row pgx.Row) (*store.AuditRow, error) {
	var a store.AuditRow
	var at int64
	if err := row.Scan(&a.ID, &at, &a.ActorKind, &a.ActorID, &a.ActorName, &a.RequestID, &a.Action, &a.Customer, &a.Target,
		&a.Reason, &a.Outcome, &a.Details); err != nil {
		return nil, err
	}
	a.At = fromMicros(at)
	return &a, nil
}

// AppendAudit stores one audit row: one statement, its own transaction.
func (s *Store) AppendAudit(ctx context.Context, a *store.AuditRow) error {
	details := "{}"
	if len(a.Details) > 0 {
		details = string(a.Details)
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO audit_log ("+auditColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)",
		a.ID, a.At.UnixMicro(), a.ActorKind, a.ActorID, a.ActorName, a.RequestID, a.Action, a.Customer, a.Target,
		a.Reason, a.Outcome, details)
	return translate("append audit row", err)
}

// AuditRows lists audit rows newest first. Each filter adds its own
// condition, so that the indexes on actor, action and customer serve it.
func (s *Store) AuditRows(ctx context.Context, q store.AuditQuery) ([]*store.AuditRow, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if q.Actor != "" {
		p := arg(q.Actor)
		where = append(where, "(actor_id = "+p+" OR actor_name = "+p+")")
	}
	if q.Action != "" {
		where = append(where, "action = "+arg(q.Action))
	}
	if q.ActionPrefix != "" {
		where = append(where, "action >= "+arg(q.ActionPrefix))
		if end := store.PrefixEnd(q.ActionPrefix); end != "" {
			where = append(where, "action < "+arg(end))
		}
	}
	if q.Customer != "" {
		where = append(where, "customer = "+arg(q.Customer))
	}
	if !q.From.IsZero() {
		where = append(where, "at >= "+arg(q.From.UnixMicro()))
	}
	if !q.To.IsZero() {
		where = append(where, "at < "+arg(q.To.UnixMicro()))
	}
	if q.After != "" {
		// An unknown cursor compares with NULL and selects nothing.
		where = append(where, "seq < (SELECT seq FROM audit_log WHERE id = "+arg(q.After)+")")
	}
	query := "SELECT " + auditColumns + " FROM audit_log"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq DESC LIMIT " + arg(limitArg(q.Limit))
	rows, err := s.pool.Query(ctx, query, args...)
	return collect(rows, err, scanAudit, "list audit rows")
}
