package creditkit

import (
	"context"
	"strings"
	"testing"
)

const paramsLedgerYAML = `
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  analyze_data:
    cost: 20 credits
    limits: { prompt_chars: 1000 }
    params: [model]
`

// TestParamsAreCheckedOnEveryEntry: Spend, Hold, SpendOn, Check, CanAfford
// and Estimate all refuse unknown and oversized params with invalid_params
// before anything is queued, and move no credit.
func TestParamsAreCheckedOnEveryEntry(t *testing.T) {
	t.Parallel()
	forEachConfigStore(t, paramsLedgerYAML, nil, func(t *testing.T, l *Ledger) {
		ctx := context.Background()
		if _, err := l.Grant(ctx, "alice", 1000, nil); err != nil {
			t.Fatal(err)
		}
		huge := Params{"model": strings.Repeat("x", 900_000)}
		cases := []struct {
			name   string
			op     string
			params Params
			want   string
		}{
			{"extra param", "process_image", Params{"mb": 1, "foo": 2}, `unknown param "foo" for process_image`},
			{"param of a fixed price", "send_email", Params{"mb": 1}, `send_email takes no params, got param "mb"`},
			{"huge record param", "analyze_data", huge, "param model is 900000 characters long; the limit is 500"},
		}
		ran := 0
		calls := map[string]func(op string, p Params) error{
			"Spend": func(op string, p Params) error { _, err := l.Spend(ctx, "alice", op, p, nil); return err },
			"Hold":  func(op string, p Params) error { _, err := l.Hold(ctx, "alice", op, p, nil); return err },
			"SpendOn": func(op string, p Params) error {
				_, err := l.SpendOn(ctx, "alice", op, p, func(context.Context) error { ran++; return nil }, nil)
				return err
			},
			"Check":     func(op string, p Params) error { _, err := l.Check(ctx, "alice", op, p); return err },
			"CanAfford": func(op string, p Params) error { _, err := l.CanAfford(ctx, "alice", op, p); return err },
			"Estimate":  func(op string, p Params) error { _, err := l.Estimate(ctx, op, p); return err },
		}
		for call, fn := range calls {
			for _, tc := range cases {
				err := fn(tc.op, tc.params)
				if ErrorCodeOf(err) != CodeInvalidParams {
					t.Errorf("%s with %s: %v, want invalid_params", call, tc.name, err)
				} else if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s with %s: %q does not contain %q", call, tc.name, err, tc.want)
				}
			}
		}
		// A hold of a raw amount prices nothing, but its params are bounded too.
		raw := Amount(5)
		if _, err := l.Hold(ctx, "alice", "", huge, &HoldOpts{Amount: &raw}); ErrorCodeOf(err) != CodeInvalidParams {
			t.Errorf("raw hold with huge params: %v, want invalid_params", err)
		}
		if ran != 0 {
			t.Errorf("SpendOn ran its function %d times on refused params", ran)
		}
		b, err := l.Balance(ctx, "alice", nil)
		if err != nil || b.Available != 1000 || b.Held != 0 {
			t.Errorf("balance = %+v, %v; want 1000 available and nothing held", b, err)
		}
		entries, err := l.History(ctx, "alice", nil)
		if err != nil || len(entries) != 1 {
			t.Errorf("history has %d entries (%v), want only the grant", len(entries), err)
		}
		// Known params still pass, and the record-only one is stored.
		e, err := l.Spend(ctx, "alice", "analyze_data", Params{"prompt_chars": 10, "model": "m1"}, nil)
		if err != nil {
			t.Fatalf("Spend with known params: %v", err)
		}
		if p, _ := e.Details["params"].(map[string]any); p["model"] != "m1" {
			t.Errorf("entry params = %v, want model m1 recorded", e.Details["params"])
		}
	})
}

// TestSizeAndMBSpendTheSame: spending process_image with size 5242880
// (bytes) charges what mb 5 charges, since an mb is 1024² bytes.
func TestSizeAndMBSpendTheSame(t *testing.T) {
	t.Parallel()
	forEachConfigStore(t, paramsLedgerYAML, nil, func(t *testing.T, l *Ledger) {
		ctx := context.Background()
		if _, err := l.Grant(ctx, "bob", 100, nil); err != nil {
			t.Fatal(err)
		}
		byMB, err := l.Spend(ctx, "bob", "process_image", Params{"mb": 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		bySize, err := l.Spend(ctx, "bob", "process_image", Params{"size": 5242880}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if byMB.Amount != -15 || bySize.Amount != byMB.Amount {
			t.Errorf("mb 5 charged %d, size 5242880 charged %d; want -15 both", byMB.Amount, bySize.Amount)
		}
	})
}
