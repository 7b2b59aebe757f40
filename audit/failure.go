package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// FailureMessage is the message of the error log line of an audit row that
// was not written; docs/operations.md tells to alert on it.
const FailureMessage = "audit log: a row was not written; its fields follow"

// Counter counts events; a prometheus.Counter is one.
type Counter interface{ Inc() }

// WithFailures returns a copy of l that counts in failures every record
// RecordOrReport fails to write (the server passes its
// creditkit_audit_failures_total counter, so that what the dashboard
// records beside the API counts too).
func (l *Log) WithFailures(failures Counter) *Log {
	c := *l
	c.failures = failures
	return &c
}

// Failures returns the counter of failed records WithFailures set, or nil.
func (l *Log) Failures() Counter { return l.failures }

// RecordOrReport records r as Record does; when that fails, it reports the
// lost row with ReportFailure (on logger, counted in the log's failure
// counter) and returns the error too, for callers that also tell a person.
// A nil l reports the row as not written.
func (l *Log) RecordOrReport(ctx context.Context, logger *slog.Logger, r Record) (*Record, error) {
	if l == nil {
		ReportFailure(ctx, logger, nil, r, ErrNoAuditStore)
		return nil, ErrNoAuditStore
	}
	out, err := l.Record(ctx, r)
	if err != nil {
		ReportFailure(ctx, logger, l.failures, r, err)
		return nil, err
	}
	return out, nil
}

// ReportFailure says that r was not written to the audit log because of
// err: one error log line on logger, message FailureMessage, with every
// field of the row (details JSON-encoded, secrets redacted as Record
// redacts them), and one count in failures when it is not nil. Every
// recorder (the API, the dashboard, the CLI) reports through it, so one
// alert covers them all.
func ReportFailure(ctx context.Context, logger *slog.Logger, failures Counter, r Record, err error) {
	if failures != nil {
		failures.Inc()
	}
	if logger == nil {
		return
	}
	outcome := r.Outcome
	if outcome == "" {
		outcome = OutcomeOK
	}
	details := "{}"
	if len(r.Details) > 0 {
		if b, jerr := json.Marshal(Redact(map[string]any(r.Details))); jerr == nil {
			details = string(b)
		}
	}
	at := ""
	if !r.At.IsZero() {
		at = r.At.UTC().Format(time.RFC3339Nano)
	}
	logger.ErrorContext(ctx, FailureMessage, "err", err, "at", at, "request_id", r.RequestID,
		"actor_kind", r.ActorKind, "actor_id", r.ActorID, "actor_name", r.ActorName, "action", r.Action,
		"customer", r.Customer, "target", r.Target, "reason", r.Reason, "outcome", outcome, "details", details)
}
