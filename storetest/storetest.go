// Package storetest is the conformance suite every creditkit store must
// pass. It drives the real Ledger on the store under test and checks the
// ledger's invariants after each case:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// NewStore opens a fresh, empty store for one test. It should register its
// own cleanup with t.Cleanup.
type NewStore func(t *testing.T) store.Store

// Config is the configuration the suite's ledgers use.
const Config = `
currencies:
  - { name: credits, decimals: 0 }
  - { name: usd_credits, decimals: 2 }
low_balance: 100 credits
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  small_model: 1 credit per 10 tokens
  analyze_data:
    cost: 20 credits
    meta: { category: analytics }
    limits: { prompt_chars: 1000 }
  usd_call: 0.25 usd_credits
`

// Epoch is where the suite's manual clock starts.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Bundle is what each test case gets: a ledger on a fresh store, its manual
// clock, and the events it published.
type Bundle struct {
	Ledger *creditkit.Ledger
	Clock  *creditkit.ManualClock
	Store  store.Store
	Events *EventLog

	newStore NewStore
}

// Setup opens a ledger with the suite's config on a fresh store.
func Setup(t *testing.T, newStore NewStore) *Bundle {
	t.Helper()
	return SetupWith(t, newStore, nil)
}

// SetupWith is Setup with a chance to adjust the config first.
func SetupWith(t *testing.T, newStore NewStore, adjust func(*creditkit.Config)) *Bundle {
	t.Helper()
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		t.Fatalf("parse suite config: %v", err)
	}
	if adjust != nil {
		adjust(cfg)
	}
	clock := creditkit.NewManualClock(Epoch)
	cfg.Clock = clock
	s := newStore(t)
	l, err := creditkit.New(s, cfg)
	if err != nil {
		t.Fatalf("new ledger: %v", err)
	}
	log := &EventLog{}
	l.Subscribe(log.add)
	return &Bundle{Ledger: l, Clock: clock, Store: s, Events: log, newStore: newStore}
}

// Run runs every conformance case against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	// Cases that need a ledger of their own (another config) make it from
	// newStore through the bundle.
	cases := []struct {
		name string
		fn   func(t *testing.T, b *Bundle)
		// ownInvariants: the case checks the invariants at its end itself,
		// with what its reference model knows (a limit lowered since a
		// hold drew debt), which the generic check cannot see.
		ownInvariants bool
	}{
		{name: "ReadmeFlow", fn: testReadmeFlow},
		{name: "Pricing", fn: testPricing},
		{name: "BurnDownOrder", fn: testBurnDownOrder},
		{name: "ExpiryIsRealTime", fn: testExpiryIsRealTime},
		{name: "ScheduledGrants", fn: testScheduledGrants},
		{name: "BalanceAt", fn: testBalanceAt},
		{name: "Holds", fn: testHolds},
		{name: "HoldExpiresByItself", fn: testHoldExpiresByItself},
		{name: "HoldOnVoidedGrant", fn: testHoldOnVoidedGrant},
		{name: "SpendOn", fn: testSpendOn},
		{name: "Transfer", fn: testTransfer},
		{name: "Void", fn: testVoid},
		{name: "Idempotency", fn: testIdempotency},
		{name: "BadInputMovesNoCredit", fn: testBadInput},
		{name: "Overflow", fn: testOverflow},
		{name: "Events", fn: testEvents},
		{name: "BalanceAlerts", fn: testBalanceAlerts},
		{name: "Customers", fn: testCustomers},
		{name: "Subscriptions", fn: testSubscriptions},
		{name: "Currencies", fn: testCurrencies},
		{name: "HistoryPaging", fn: testHistoryPaging},
		{name: "Entries", fn: testEntries},
		{name: "ConcurrentSpendsNeverOverdraw", fn: testConcurrentSpends},
		{name: "ConcurrentSpendsUnbatched", fn: testConcurrentSpendsUnbatched},
		{name: "ConcurrentOverageStaysWithinLimit", fn: testConcurrentOverage},
		{name: "ConcurrentIdempotentReplays", fn: testConcurrentIdempotency},
		{name: "ConcurrentTransfersDoNotDeadlock", fn: testConcurrentTransfers},
		{name: "RunDueIsIdempotent", fn: testRunDueIdempotent},
		{name: "RandomOpsMatchModel", fn: testRandomOpsMatchModel, ownInvariants: true},
		{name: "RandomPlanOpsKeepInvariants", fn: testRandomPlanOpsKeepInvariants},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			defer guard(t)
			b := Setup(t, newStore)
			c.fn(t, b)
			if !c.ownInvariants {
				CheckInvariants(t, b.Ledger)
			}
		})
	}
}

// ctx returns a context bounded so that a hung store fails the test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err carries the given stable code.
func wantCode(t *testing.T, err error, code creditkit.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := creditkit.ErrorCodeOf(err); got != code {
		t.Fatalf("got error code %s (%v), want %s", got, err, code)
	}
}

// mustError carries an unexpected error from must to the case runner.
type mustError struct{ err error }

// must returns v, or stops the test case when err is not nil. It panics
// with a mustError that the case runner (guard) turns into t.Fatal, so that
// calls read as must(l.Grant(...)).
func must[T any](v T, err error) T {
	if err != nil {
		panic(mustError{err})
	}
	return v
}

// guard turns a must failure into a test failure with its message.
func guard(t *testing.T) {
	if r := recover(); r != nil {
		if m, ok := r.(mustError); ok {
			t.Fatalf("unexpected error: %v", m.err)
		}
		panic(r)
	}
}

// available returns a customer's available credits now.
func available(t *testing.T, l *creditkit.Ledger, customer string) creditkit.Amount {
	t.Helper()
	return must(l.Balance(ctx(t), customer, nil)).Available
}

func wantAvailable(t *testing.T, l *creditkit.Ledger, customer string, want creditkit.Amount) {
	t.Helper()
	if got := available(t, l, customer); got != want {
		t.Fatalf("%s has %d available, want %d", customer, got, want)
	}
}

// categories returns "category amount" for each of a customer's entries.
func categories(t *testing.T, l *creditkit.Ledger, customer string) []string {
	t.Helper()
	var out []string
	for _, e := range must(l.History(ctx(t), customer, &creditkit.HistoryFilter{Limit: 1000})) {
		out = append(out, e.Category+" "+itoa(int64(e.Amount)))
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func ptr[T any](v T) *T { return &v }

func isInsufficient(err error) bool {
	var ic *creditkit.InsufficientCreditsError
	return errors.As(err, &ic)
}
