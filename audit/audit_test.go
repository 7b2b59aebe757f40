package audit_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/sqlite"
)

func setup(t *testing.T) (*audit.Log, *time.Time) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "audit.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l, err := audit.Of(s, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return l, &now
}

// Record stamps an ID, the clock's time and an ok outcome, and List gives
// the record back with its details.
func TestRecordAndList(t *testing.T) {
	t.Parallel()
	l, now := setup(t)
	r, err := l.Record(t.Context(), audit.Record{ActorKind: audit.ActorAPIKey, ActorID: "key_1", ActorName: "ops", RequestID: "req_1",
		Action: audit.ActionGrantVoid, Customer: "alice", Target: "grt_1", Reason: "fraud", Details: map[string]any{"amount": 5}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == "" || !r.At.Equal(*now) || r.Outcome != audit.OutcomeOK {
		t.Fatalf("recorded %+v: want an ID, the clock's time and outcome ok", r)
	}
	got, next, err := l.List(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" || len(got) != 1 {
		t.Fatalf("list = %d records, next %q; want 1 and no next page", len(got), next)
	}
	g := got[0]
	if g.ID != r.ID || g.ActorName != "ops" || g.Target != "grt_1" || g.Reason != "fraud" || g.Details["amount"] != float64(5) || !g.At.Equal(*now) {
		t.Fatalf("listed %+v, want %+v", g, r)
	}
}

// A record needs a known actor kind and an action; bad input says what to
// fix and stores nothing.
func TestRecordRefusesBadInput(t *testing.T) {
	t.Parallel()
	l, _ := setup(t)
	for _, r := range []audit.Record{
		{ActorKind: "robot", Action: "grant.create"},
		{ActorKind: audit.ActorCLI, Action: " "},
	} {
		_, err := l.Record(t.Context(), r)
		var ce *creditkit.Error
		if !errors.As(err, &ce) || ce.Code != creditkit.CodeInvalidRequest {
			t.Errorf("Record(%+v) = %v, want invalid_request", r, err)
		}
	}
	if got, _, _ := l.List(t.Context(), audit.Filter{}); len(got) != 0 {
		t.Fatalf("stored %d records from bad input", len(got))
	}
}

// List pages with a cursor only while more records follow; "grant.*"
// matches every grant action; a reversed time range is refused.
func TestListPagingAndFilters(t *testing.T) {
	t.Parallel()
	l, now := setup(t)
	for i, action := range []string{"grant.create", "grant.void", "hold.capture", "grant.create", "api_key.create"} {
		*now = now.Add(time.Minute)
		if _, err := l.Record(t.Context(), audit.Record{ActorKind: audit.ActorAPIKey, ActorID: "key_1", Action: action, Target: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	var targets []string
	f := audit.Filter{Action: "grant.*", Limit: 2}
	for pages := 0; ; pages++ {
		got, next, err := l.List(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			targets = append(targets, r.Target)
		}
		if next == "" {
			if pages != 1 {
				t.Fatalf("%d pages, want 2 (a full last page has no cursor)", pages+1)
			}
			break
		}
		f.After = next
	}
	if got, want := targets, []string{"d", "b", "a"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("targets = %v, want %v", got, want)
	}
	if _, _, err := l.List(t.Context(), audit.Filter{From: *now, To: now.Add(-time.Hour)}); err == nil {
		t.Fatal("a reversed time range was accepted")
	}
	if _, _, err := l.List(t.Context(), audit.Filter{Limit: -1}); err == nil {
		t.Fatal("a negative limit was accepted")
	}
}
