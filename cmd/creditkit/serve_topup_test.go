package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/stripetest"
)

// stripeLinks is a fixed customer → Stripe customer map.
type stripeLinks map[string]string

func (l stripeLinks) StripeCustomerID(ctx context.Context, customer string) (string, error) {
	return l[customer], nil
}

func topUpLedger(t *testing.T) *creditkit.Ledger {
	t.Helper()
	cfg, err := creditkit.ParseConfig("topup.yaml", []byte("packs:\n  starter: { gives: 1000 credits, costs: 49 USD }\n"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "topup.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestServeTopUpsThroughStripeMock runs serve's auto top-up with the
// Stripe charger against stripe-mock: a spend under the threshold makes a
// real PaymentIntent request through stripe-go, and since stripe-mock
// answers its fixture (status requires_payment_method: it runs no card),
// the attempt fails the way a payment that needs the customer does: one
// credits.topup.failed event naming the status, and no credits.
func TestServeTopUpsThroughStripeMock(t *testing.T) {
	t.Parallel()
	l := topUpLedger(t)
	charger, err := stripeTopUpCharger("sk_test_123", stripetest.Start(t), stripeLinks{"alice": "cus_123"})
	if err != nil || charger == nil {
		t.Fatalf("charger: %v %v", charger, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var logs bytes.Buffer
	r := startTopUps(ctx, l, charger, slog.New(slog.NewTextHandler(&logs, nil)), &wg)
	if _, err := l.SetAutoTopUp(t.Context(), "alice", creditkit.AutoTopUp{Enabled: true, Threshold: 100, Pack: "starter"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Grant(t.Context(), "alice", 120, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Debit(t.Context(), "alice", 30, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	events, err := l.Events(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var failed []*creditkit.Event
	for _, e := range events {
		if e.Type == creditkit.EventTopUpFailed {
			failed = append(failed, e)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0].Data["error"].(string), `"requires_payment_method", not succeeded`) {
		t.Fatalf("failed events = %v", failed)
	}
	if b, _ := l.Balance(t.Context(), "alice", nil); b.Available != 90 {
		t.Fatalf("available = %d, want 90 (nothing granted)", b.Available)
	}
	cancel()
	wg.Wait()
	if !strings.Contains(logs.String(), "auto top-up on") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// TestServeTopUpsWithoutProvider: without a payment provider serve runs no
// top-up and says so, loudly when the config turns auto top-up on for
// everyone.
func TestServeTopUpsWithoutProvider(t *testing.T) {
	t.Parallel()
	l := topUpLedger(t)
	if c, err := stripeTopUpCharger("", "", stripeLinks{}); c != nil || err != nil {
		t.Fatalf("charger without a key: %v %v", c, err)
	}
	var logs bytes.Buffer
	var wg sync.WaitGroup
	if r := startTopUps(t.Context(), l, nil, slog.New(slog.NewTextHandler(&logs, nil)), &wg); r != nil {
		t.Fatal("a runner started without a charger")
	}
	if !strings.Contains(logs.String(), "level=INFO msg=\"auto top-up cannot run: no payment provider") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}
