package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// TestProblemFromLibraryErrors: the one error→status function maps each
// library code to its status, with Retry-After on every retryable 503.
func TestProblemFromLibraryErrors(t *testing.T) {
	ctx := context.WithValue(context.Background(), requestIDKey{}, "req_test")
	commitLost := &creditkit.Error{Code: creditkit.CodeOutcomeUnknown, Message: creditkit.ErrOutcomeUnknown.Message, Err: errors.New("commit: conn closed")}
	cases := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"outcome unknown", fmt.Errorf("spend: %w", commitLost), 503, "outcome_unknown", "1"},
		{"overloaded", creditkit.ErrOverloaded, 503, "overloaded", "1"},
		{"deadline", context.DeadlineExceeded, 503, "overloaded", "1"},
		{"closed", creditkit.ErrClosed, 503, "overloaded", "1"},
		{"grant not active", &creditkit.Error{Code: creditkit.CodeGrantNotActive, Message: "grant grt_1 is voided"}, 409, "grant_not_active", ""},
		{"hold not active", &creditkit.Error{Code: creditkit.CodeHoldNotActive, Message: "hold hld_1 is released"}, 409, "hold_not_active", ""},
		{"idempotency conflict", creditkit.ErrIdempotencyConflict, 409, "idempotency_conflict", ""},
		{"insufficient", &creditkit.InsufficientCreditsError{Customer: "alice", Currency: "credits", Needed: 5, Available: 2}, 402, "insufficient_credits", ""},
		{"not found", creditkit.ErrNotFound, 404, "not_found", ""},
		{"invalid amount", creditkit.ErrInvalidAmount, 422, "invalid_amount", ""},
		{"invalid params", creditkit.ErrInvalidParams, 422, "invalid_params", ""},
		{"unknown operation", creditkit.ErrUnknownOperation, 422, "unknown_operation", ""},
		{"invalid request", creditkit.ErrInvalidRequest, 422, "invalid_request", ""},
		{"internal", errors.New("disk on fire"), 500, "internal", ""},
		{"config", creditkit.ErrInvalidConfig, 500, "internal", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := problemFrom(ctx, c.err)
			if p.Status != c.status || p.Code != c.code {
				t.Fatalf("%d %s, want %d %s", p.Status, p.Code, c.status, c.code)
			}
			if got := p.GetHeaders().Get("Retry-After"); got != c.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, c.retryAfter)
			}
			if p.RequestID != "req_test" || p.Type != problemTypeBase+c.code {
				t.Fatalf("problem %+v", p)
			}
		})
	}
	p := problemFrom(ctx, commitLost)
	if strings.Contains(p.Detail, "conn closed") || !strings.Contains(p.Detail, "Idempotency-Key") || !strings.Contains(p.Detail, "not charged") {
		t.Fatalf("outcome_unknown detail %q: must tell to retry with the same key, and not show the driver error", p.Detail)
	}
}
