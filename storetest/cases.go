package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// The flow of the usage_credits README: give 100, spend 1 on send_email.
func testReadmeFlow(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "alice", 100, &creditkit.GrantOpts{Reason: "signup_bonus"}))
	e := must(l.Spend(c, "alice", "send_email", nil, nil))
	if e.Amount != -1 || e.Category != creditkit.CategoryOperationCharge || e.BalanceAfter != 99 {
		t.Fatalf("spend entry = %+v, want operation_charge -1 with balance_after 99", e)
	}
	if e.Operation != "send_email" || e.Type != creditkit.EntryCharge || e.Details["cost"] != float64(1) || len(e.Metadata) != 0 {
		t.Fatalf("spend entry = %+v, want a charge for send_email costing 1, with no metadata", e)
	}
	wantAvailable(t, l, "alice", 99)
	if got, want := categories(t, l, "alice"), []string{"signup_bonus 100", "operation_charge -1"}; !slices.Equal(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
}

func testPricing(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	for _, tc := range []struct {
		params creditkit.Params
		want   creditkit.Amount
	}{
		{creditkit.Params{"mb": 5}, 15},
		{creditkit.Params{"mb": 5.2}, 16},
		{creditkit.Params{"size": 5 * 1048576}, 15},
		{creditkit.Params{"size": "5452595"}, 16},
	} {
		if got := must(l.Estimate(c, "process_image", tc.params)); got != tc.want {
			t.Errorf("process_image %v costs %d, want %d", tc.params, got, tc.want)
		}
	}
	must(l.Grant(c, "bob", 100, nil))
	e := must(l.Spend(c, "bob", "process_image", creditkit.Params{"mb": 5.2}, &creditkit.SpendOpts{Metadata: map[string]string{"job": "j1"}}))
	if e.Amount != -16 {
		t.Fatalf("process_image 5.2 MB charged %d, want -16", e.Amount)
	}
	if len(e.Metadata) != 1 || e.Metadata["job"] != "j1" {
		t.Fatalf("entry metadata = %v, want exactly the caller's {job: j1}", e.Metadata)
	}
	if ok := must(l.CanAfford(c, "bob", "process_image", creditkit.Params{"mb": 74})); !ok {
		t.Fatal("bob cannot afford 84 credits with 84 available")
	}
	if ok := must(l.CanAfford(c, "bob", "process_image", creditkit.Params{"mb": 75})); ok {
		t.Fatal("bob can afford 85 credits with only 84 available")
	}
	analytics := must(l.Spend(c, "bob", "analyze_data", creditkit.Params{"prompt_chars": 10}, nil))
	if om, _ := analytics.Details["operation_meta"].(map[string]any); om["category"] != "analytics" {
		t.Fatalf("operation meta not recorded: %v", analytics.Details)
	}
}

// Lower priority first, then soonest expiry (never-expiring last), then oldest.
func testBurnDownOrder(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	pack := must(l.Grant(c, "carol", 10, &creditkit.GrantOpts{Reason: "pack"}))                                  // priority 30
	evergreenBonus := must(l.Grant(c, "carol", 10, &creditkit.GrantOpts{Reason: "signup_bonus"}))                // 10, never expires
	lateBonus := must(l.Grant(c, "carol", 10, &creditkit.GrantOpts{Reason: "bonus", ExpiresIn: 48 * time.Hour})) // 10, later
	soonBonus := must(l.Grant(c, "carol", 10, &creditkit.GrantOpts{Reason: "bonus", ExpiresIn: 24 * time.Hour})) // 10, soonest
	sub := must(l.Grant(c, "carol", 10, &creditkit.GrantOpts{Reason: "subscription", ExpiresIn: time.Hour}))     // 20
	b.Clock.Advance(time.Second)
	olderTie := must(l.Grant(c, "carol", 5, &creditkit.GrantOpts{Reason: "pack", Priority: ptr(30)})) // 30, newer than pack
	if pack.Priority != 30 || evergreenBonus.Priority != 10 || sub.Priority != 20 {
		t.Fatalf("default priorities: pack %d bonus %d subscription %d, want 30 10 20", pack.Priority, evergreenBonus.Priority, sub.Priority)
	}
	e := must(l.Debit(c, "carol", 52, nil))
	var got []string
	for _, a := range e.Allocations {
		got = append(got, fmt.Sprintf("%s:%d", a.GrantID, a.Amount))
	}
	want := []string{soonBonus.ID + ":10", lateBonus.ID + ":10", evergreenBonus.ID + ":10", sub.ID + ":10", pack.ID + ":10", olderTie.ID + ":2"}
	if !slices.Equal(got, want) {
		t.Fatalf("burn-down allocations\n got %v\nwant %v", got, want)
	}
}

// Expired grants never count, whether or not the sweep ran; the sweep then
// writes an expiration entry stamped with the expiry time.
func testExpiryIsRealTime(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g := must(l.Grant(c, "dave", 50, &creditkit.GrantOpts{ExpiresIn: time.Hour}))
	must(l.Grant(c, "dave", 5, nil))
	must(l.Debit(c, "dave", 10, nil))
	wantAvailable(t, l, "dave", 45)
	b.Clock.Advance(time.Hour)
	wantAvailable(t, l, "dave", 5)
	if got := must(l.Grants(c, "dave", &creditkit.GrantFilter{Status: creditkit.GrantExpired})); len(got) != 1 || got[0].ID != g.ID {
		t.Fatalf("expired grants = %v, want %s", got, g.ID)
	}
	_, err := l.Debit(c, "dave", 6, nil)
	if !isInsufficient(err) {
		t.Fatalf("debit 6 of 5 after expiry: err = %v, want insufficient credits", err)
	}
	var ic *creditkit.InsufficientCreditsError
	if errors.As(err, &ic); ic.Needed != 6 || ic.Available != 5 {
		t.Fatalf("insufficient error = %+v, want needed 6 available 5", ic)
	}
	// The refused debit locked the wallet, which settles what fell due
	// there; RunDue settles the rest. Either way, exactly one write-off.
	res := must(l.RunDue(c))
	if res.ExpiredGrants > 1 {
		t.Fatalf("RunDue expired %d grants, want at most 1", res.ExpiredGrants)
	}
	hist := must(l.History(c, "dave", &creditkit.HistoryFilter{Category: creditkit.CategoryExpiration}))
	if len(hist) != 1 || hist[0].Amount != -40 || !hist[0].At.Equal(*g.ExpiresAt) {
		t.Fatalf("expiration entries = %+v, want one of -40 at %s", hist, g.ExpiresAt)
	}
	if hist[0].RecordedAt.Before(*g.ExpiresAt) {
		t.Fatalf("expiration recorded_at %s, before the expiry %s", hist[0].RecordedAt, g.ExpiresAt)
	}
	if b.Events.Count(creditkit.EventGrantExpired, "dave") != 1 {
		t.Fatalf("want one %s event", creditkit.EventGrantExpired)
	}
}

func testScheduledGrants(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	start := Epoch.Add(24 * time.Hour)
	g := must(l.Grant(c, "erin", 30, &creditkit.GrantOpts{EffectiveAt: start, ExpiresIn: 24 * time.Hour}))
	if g.Status != creditkit.GrantScheduled || !g.ExpiresAt.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("grant = %+v, want scheduled, expiring a day after it starts", g)
	}
	bal := must(l.Balance(c, "erin", nil))
	if bal.Available != 0 || bal.Scheduled != 30 {
		t.Fatalf("balance before start = %+v, want 0 available, 30 scheduled", bal)
	}
	_, err := l.Debit(c, "erin", 1, nil)
	wantCode(t, err, creditkit.CodeInsufficientCredits)
	b.Clock.Set(start)
	wantAvailable(t, l, "erin", 30)
	must(l.Debit(c, "erin", 1, nil))
}

func testBalanceAt(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "frank", 100, &creditkit.GrantOpts{ExpiresIn: 10 * time.Hour}))
	t1 := l.Now()
	b.Clock.Advance(time.Hour)
	must(l.Debit(c, "frank", 30, nil))
	t2 := l.Now()
	b.Clock.Advance(time.Hour)
	must(l.Grant(c, "frank", 7, &creditkit.GrantOpts{EffectiveAt: l.Now().Add(5 * time.Hour)}))
	b.Clock.Advance(time.Hour) // now = Epoch+3h
	for _, tc := range []struct {
		at   time.Time
		want creditkit.Amount
	}{
		{Epoch.Add(-time.Hour), 0},
		{t1, 100},
		{t2.Add(-time.Second), 100},
		{t2, 70},
		{l.Now(), 70},
		{Epoch.Add(7 * time.Hour), 77},  // scheduled grant started
		{Epoch.Add(10 * time.Hour), 7},  // first grant expired
		{Epoch.Add(100 * time.Hour), 7}, // evergreen remains
	} {
		if got := must(l.Balance(c, "frank", &creditkit.BalanceOpts{At: tc.at})).Available; got != tc.want {
			t.Errorf("balance at %s = %d, want %d", tc.at.Format(time.RFC3339), got, tc.want)
		}
	}
	// After the grant expires and is swept, the past is unchanged.
	b.Clock.Set(Epoch.Add(11 * time.Hour))
	must(l.RunDue(c))
	if got := must(l.Balance(c, "frank", &creditkit.BalanceOpts{At: t2})).Available; got != 70 {
		t.Errorf("balance at t2 after sweep = %d, want 70", got)
	}
	if got := must(l.Balance(c, "frank", &creditkit.BalanceOpts{At: Epoch.Add(10*time.Hour + time.Minute)})).Available; got != 7 {
		t.Errorf("balance just after expiry (swept) = %d, want 7", got)
	}
}

func testHolds(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "gina", 100, nil))
	h := must(l.Hold(c, "gina", "process_image", creditkit.Params{"mb": 10}, nil))
	if h.Amount != 20 || h.Status != creditkit.HoldActive || !h.ExpiresAt.Equal(l.Now().Add(creditkit.DefaultHoldTTL)) {
		t.Fatalf("hold = %+v, want 20 active with the default TTL", h)
	}
	bal := must(l.Balance(c, "gina", nil))
	if bal.Available != 80 || bal.Held != 20 {
		t.Fatalf("balance with hold = %+v, want 80 available 20 held", bal)
	}
	// Held credits are not available to other spends.
	_, err := l.Debit(c, "gina", 81, nil)
	wantCode(t, err, creditkit.CodeInsufficientCredits)
	// Capturing more than held is refused and changes nothing.
	_, err = l.Capture(c, h.ID, ptr(creditkit.Amount(21)), nil)
	wantCode(t, err, creditkit.CodeInvalidAmount)
	// A partial capture charges 12 and returns 8.
	e := must(l.Capture(c, h.ID, ptr(creditkit.Amount(12)), nil))
	if e.Amount != -12 || e.Details["hold_id"] != h.ID || e.Operation != "process_image" {
		t.Fatalf("capture entry = %+v", e)
	}
	bal = must(l.Balance(c, "gina", nil))
	if bal.Available != 88 || bal.Held != 0 {
		t.Fatalf("balance after capture = %+v, want 88 available", bal)
	}
	got := must(l.GetHold(c, h.ID))
	if got.Status != creditkit.HoldCaptured || got.Captured != 12 || got.EntryID != e.ID {
		t.Fatalf("captured hold = %+v", got)
	}
	_, err = l.Capture(c, h.ID, nil, nil)
	wantCode(t, err, creditkit.CodeHoldNotActive)
	_, err = l.Release(c, h.ID, nil)
	wantCode(t, err, creditkit.CodeHoldNotActive)
	_, err = l.Release(c, "hld_missing", nil)
	wantCode(t, err, creditkit.CodeNotFound)

	// A released hold charges nothing.
	h2 := must(l.Hold(c, "gina", "", nil, &creditkit.HoldOpts{Amount: ptr(creditkit.Amount(50)), TTL: time.Minute}))
	wantAvailable(t, l, "gina", 38)
	must(l.Release(c, h2.ID, nil))
	wantAvailable(t, l, "gina", 88)
	if got := categories(t, l, "gina"); !slices.Equal(got, []string{"manual_adjustment 100", "operation_charge -12"}) {
		t.Fatalf("history = %v", got)
	}
	// A hold larger than the balance is refused.
	_, err = l.Hold(c, "gina", "", nil, &creditkit.HoldOpts{Amount: ptr(creditkit.Amount(89))})
	wantCode(t, err, creditkit.CodeInsufficientCredits)
}

func testHoldExpiresByItself(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "hank", 10, nil))
	h := must(l.Hold(c, "hank", "send_email", nil, &creditkit.HoldOpts{TTL: time.Minute}))
	wantAvailable(t, l, "hank", 9)
	b.Clock.Advance(time.Minute)
	// Released in real time, before any sweep.
	wantAvailable(t, l, "hank", 10)
	if got := must(l.GetHold(c, h.ID)); got.Status != creditkit.HoldExpired {
		t.Fatalf("hold status after TTL = %s, want expired", got.Status)
	}
	_, err := l.Capture(c, h.ID, nil, nil)
	wantCode(t, err, creditkit.CodeHoldNotActive)
	must(l.Debit(c, "hank", 10, nil))
	if b.Events.Count(creditkit.EventHoldExpired, "hank") != 1 {
		t.Fatalf("want one %s event", creditkit.EventHoldExpired)
	}
}

// Credits held from a grant that is voided while the hold is open are
// voided when the hold gives them back.
func testHoldOnVoidedGrant(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g := must(l.Grant(c, "ivy", 10, nil))
	must(l.Grant(c, "ivy", 5, &creditkit.GrantOpts{Reason: "pack"}))
	h := must(l.Hold(c, "ivy", "", nil, &creditkit.HoldOpts{Amount: ptr(creditkit.Amount(8))}))
	v := must(l.Void(c, g.ID, &creditkit.VoidOpts{Reason: "fraud"}))
	if v.Amount != -2 {
		t.Fatalf("void removed %d, want the 2 not held", -v.Amount)
	}
	must(l.Capture(c, h.ID, ptr(creditkit.Amount(3)), nil))
	wantAvailable(t, l, "ivy", 5)
	if got := categories(t, l, "ivy"); !slices.Equal(got, []string{"manual_adjustment 10", "pack 5", "void -2", "debit -3", "void -5"}) {
		t.Fatalf("history = %v", got)
	}
}

func testSpendOn(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "jack", 100, nil))
	boom := errors.New("model timed out")
	_, err := l.SpendOn(c, "jack", "process_image", creditkit.Params{"mb": 1}, func(context.Context) error {
		if got := available(t, l, "jack"); got != 89 {
			t.Errorf("inside fn available = %d, want 89 (11 held)", got)
		}
		return boom
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("SpendOn error = %v, want fn's error", err)
	}
	wantAvailable(t, l, "jack", 100)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("SpendOn swallowed a panic")
			}
		}()
		_, _ = l.SpendOn(c, "jack", "send_email", nil, func(context.Context) error { panic("bug") }, nil)
	}()
	wantAvailable(t, l, "jack", 100)
	e := must(l.SpendOn(c, "jack", "send_email", nil, func(context.Context) error { return nil }, &creditkit.SpendOpts{IdempotencyKey: "job-1"}))
	if e.Amount != -1 {
		t.Fatalf("SpendOn entry = %+v", e)
	}
	// A replay returns the first entry without running fn again.
	ran := false
	e2 := must(l.SpendOn(c, "jack", "send_email", nil, func(context.Context) error { ran = true; return nil }, &creditkit.SpendOpts{IdempotencyKey: "job-1"}))
	if ran || e2.ID != e.ID {
		t.Fatalf("replay ran fn=%v, entry %s vs %s", ran, e2.ID, e.ID)
	}
	wantAvailable(t, l, "jack", 99)
	_, err = l.SpendOn(c, "jack", "process_image", creditkit.Params{"mb": 1000}, func(context.Context) error {
		t.Error("fn ran although the customer cannot afford it")
		return nil
	}, nil)
	wantCode(t, err, creditkit.CodeInsufficientCredits)
}

func testTransfer(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g := must(l.Grant(c, "kate", 30, &creditkit.GrantOpts{ExpiresIn: time.Hour, Reason: "subscription"}))
	must(l.Grant(c, "kate", 30, nil))
	res := must(l.Transfer(c, "kate", "liam", 40, nil))
	if res.Out.Amount != -40 || res.In.Amount != 40 || res.Out.Category != creditkit.CategoryTransferOut || res.In.Category != creditkit.CategoryTransferIn {
		t.Fatalf("transfer entries = %+v / %+v", res.Out, res.In)
	}
	if len(res.Grants) != 2 {
		t.Fatalf("transfer made %d grants, want one per bucket (2)", len(res.Grants))
	}
	// Bucket order: the manual grant (priority 10) first, then the subscription.
	keeps := res.Grants[1]
	if keeps.ExpiresAt == nil || !keeps.ExpiresAt.Equal(*g.ExpiresAt) || keeps.Priority != 20 || keeps.Amount != 10 {
		t.Fatalf("transferred subscription bucket = %+v, want 10 keeping expiry %s and priority 20", keeps, g.ExpiresAt)
	}
	wantAvailable(t, l, "kate", 20)
	wantAvailable(t, l, "liam", 40)
	ever := must(l.Transfer(c, "kate", "liam", 20, &creditkit.TransferOpts{Evergreen: true}))
	for _, g := range ever.Grants {
		if g.ExpiresAt != nil {
			t.Fatalf("evergreen transfer kept an expiry: %+v", g)
		}
	}
	b.Clock.Advance(time.Hour)
	wantAvailable(t, l, "liam", 50) // the 10 that kept the expiry are gone
	_, err := l.Transfer(c, "liam", "liam", 1, nil)
	wantCode(t, err, creditkit.CodeInvalidRequest)
	_, err = l.Transfer(c, "kate", "liam", 1, nil)
	wantCode(t, err, creditkit.CodeInsufficientCredits)
}

func testVoid(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g := must(l.Grant(c, "mia", 40, nil))
	must(l.Debit(c, "mia", 15, nil))
	e := must(l.Void(c, g.ID, &creditkit.VoidOpts{Reason: "refunded"}))
	if e.Amount != -25 || e.Category != creditkit.CategoryVoid || e.Details["reason"] != "refunded" {
		t.Fatalf("void entry = %+v", e)
	}
	wantAvailable(t, l, "mia", 0)
	if got := must(l.GetGrant(c, g.ID)); got.Status != creditkit.GrantVoided || got.Remaining != 0 {
		t.Fatalf("voided grant = %+v", got)
	}
	_, err := l.Void(c, g.ID, nil)
	wantCode(t, err, creditkit.CodeGrantNotActive)
	_, err = l.Void(c, "grt_missing", nil)
	wantCode(t, err, creditkit.CodeNotFound)
	if b.Events.Count(creditkit.EventGrantVoided, "mia") != 1 {
		t.Fatal("want one voided event")
	}
}

func testIdempotency(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g1 := must(l.Grant(c, "noah", 100, &creditkit.GrantOpts{IdempotencyKey: "g-1"}))
	g2 := must(l.Grant(c, "noah", 100, &creditkit.GrantOpts{IdempotencyKey: "g-1"}))
	if g1.ID != g2.ID {
		t.Fatalf("grant replay made a new grant: %s vs %s", g1.ID, g2.ID)
	}
	_, err := l.Grant(c, "noah", 101, &creditkit.GrantOpts{IdempotencyKey: "g-1"})
	wantCode(t, err, creditkit.CodeIdempotencyConflict)
	e1 := must(l.Spend(c, "noah", "process_image", creditkit.Params{"mb": 1}, &creditkit.SpendOpts{IdempotencyKey: "s-1"}))
	e2 := must(l.Spend(c, "noah", "process_image", creditkit.Params{"mb": 1}, &creditkit.SpendOpts{IdempotencyKey: "s-1"}))
	if e1.ID != e2.ID || e2.BalanceAfter != 89 {
		t.Fatalf("spend replay = %+v, first = %+v", e2, e1)
	}
	_, err = l.Spend(c, "noah", "process_image", creditkit.Params{"mb": 2}, &creditkit.SpendOpts{IdempotencyKey: "s-1"})
	wantCode(t, err, creditkit.CodeIdempotencyConflict)
	_, err = l.Spend(c, "other", "process_image", creditkit.Params{"mb": 1}, &creditkit.SpendOpts{IdempotencyKey: "s-1"})
	wantCode(t, err, creditkit.CodeIdempotencyConflict)
	// The store reads several keys at once, the missing ones left out.
	var recs []*store.Idempotency
	if err := b.Store.View(c, func(ctx context.Context, tx store.ReadTx) (err error) {
		recs, err = tx.Idempotencies(ctx, []string{"g-1", "missing", "s-1"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, r := range recs {
		keys = append(keys, r.Key)
		if single := must(idempotencyOf(c, b.Store, r.Key)); single == nil || single.Fingerprint != r.Fingerprint || string(single.Result) != string(r.Result) {
			t.Fatalf("Idempotencies and Idempotency disagree on %s", r.Key)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"g-1", "s-1"}) {
		t.Fatalf("Idempotencies(g-1, missing, s-1) = %v", keys)
	}
	t1 := must(l.Transfer(c, "noah", "olga", 5, &creditkit.TransferOpts{IdempotencyKey: "t-1"}))
	t2 := must(l.Transfer(c, "noah", "olga", 5, &creditkit.TransferOpts{IdempotencyKey: "t-1"}))
	if t1.Out.ID != t2.Out.ID || t1.In.ID != t2.In.ID {
		t.Fatal("transfer replay wrote new entries")
	}
	h1 := must(l.Hold(c, "noah", "send_email", nil, &creditkit.HoldOpts{IdempotencyKey: "h-1"}))
	h2 := must(l.Hold(c, "noah", "send_email", nil, &creditkit.HoldOpts{IdempotencyKey: "h-1"}))
	if h1.ID != h2.ID {
		t.Fatal("hold replay made a new hold")
	}
	c1 := must(l.Capture(c, h1.ID, nil, &creditkit.CaptureOpts{IdempotencyKey: "c-1"}))
	c2 := must(l.Capture(c, h1.ID, nil, &creditkit.CaptureOpts{IdempotencyKey: "c-1"}))
	if c1.ID != c2.ID {
		t.Fatal("capture replay wrote a new entry")
	}
	wantAvailable(t, l, "noah", 83)
	wantAvailable(t, l, "olga", 5)
	// A failed request stores nothing: the same key works once it can succeed.
	_, err = l.Debit(c, "pia", 5, &creditkit.DebitOpts{IdempotencyKey: "d-1"})
	wantCode(t, err, creditkit.CodeInsufficientCredits)
	must(l.Grant(c, "pia", 5, nil))
	must(l.Debit(c, "pia", 5, &creditkit.DebitOpts{IdempotencyKey: "d-1"}))
	wantAvailable(t, l, "pia", 0)
}

// Every bad input gets a clear error with a stable code and moves no credit.
func testBadInput(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g := must(l.Grant(c, "quinn", 50, nil))
	h := must(l.Hold(c, "quinn", "send_email", nil, nil))
	before := categories(t, l, "quinn")
	cases := []struct {
		name string
		code creditkit.ErrorCode
		do   func() error
	}{
		{"zero grant", creditkit.CodeInvalidAmount, func() error { _, err := l.Grant(c, "quinn", 0, nil); return err }},
		{"negative grant", creditkit.CodeInvalidAmount, func() error { _, err := l.Grant(c, "quinn", -5, nil); return err }},
		{"zero debit", creditkit.CodeInvalidAmount, func() error { _, err := l.Debit(c, "quinn", 0, nil); return err }},
		{"negative transfer", creditkit.CodeInvalidAmount, func() error { _, err := l.Transfer(c, "quinn", "rex", -1, nil); return err }},
		{"empty customer", creditkit.CodeInvalidRequest, func() error { _, err := l.Grant(c, "", 5, nil); return err }},
		{"customer with spaces", creditkit.CodeInvalidRequest, func() error { _, err := l.Grant(c, "a b", 5, nil); return err }},
		{"unknown currency", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{Currency: "gold"})
			return err
		}},
		{"unknown operation", creditkit.CodeUnknownOperation, func() error { _, err := l.Spend(c, "quinn", "fly", nil, nil); return err }},
		{"missing param", creditkit.CodeInvalidParams, func() error { _, err := l.Spend(c, "quinn", "process_image", nil, nil); return err }},
		{"negative param", creditkit.CodeInvalidParams, func() error {
			_, err := l.Spend(c, "quinn", "process_image", creditkit.Params{"mb": -1}, nil)
			return err
		}},
		{"non-numeric param", creditkit.CodeInvalidParams, func() error {
			_, err := l.Spend(c, "quinn", "process_image", creditkit.Params{"mb": "big"}, nil)
			return err
		}},
		{"over-limit param", creditkit.CodeInvalidParams, func() error {
			_, err := l.Spend(c, "quinn", "analyze_data", creditkit.Params{"prompt_chars": 1001}, nil)
			return err
		}},
		{"expires in the past", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{ExpiresAt: Epoch.Add(-time.Hour)})
			return err
		}},
		{"expires before effective", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{EffectiveAt: Epoch.Add(48 * time.Hour), ExpiresAt: Epoch.Add(24 * time.Hour)})
			return err
		}},
		{"expires_at and expires_in", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{ExpiresAt: Epoch.Add(48 * time.Hour), ExpiresIn: time.Hour})
			return err
		}},
		{"bad reason", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{Reason: "Not A Category"})
			return err
		}},
		{"too much metadata", creditkit.CodeInvalidRequest, func() error {
			md := map[string]string{}
			for i := range 51 {
				md[fmt.Sprint("k", i)] = "v"
			}
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{Metadata: md})
			return err
		}},
		{"metadata value too long", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Spend(c, "quinn", "send_email", nil, &creditkit.SpendOpts{Metadata: map[string]string{"k": strings.Repeat("x", 501)}})
			return err
		}},
		{"bad cost basis", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grant(c, "quinn", 5, &creditkit.GrantOpts{CostBasis: &creditkit.CostBasis{PerCredit: "abc", Currency: "USD"}})
			return err
		}},
		{"capture above held", creditkit.CodeInvalidAmount, func() error { _, err := l.Capture(c, h.ID, ptr(creditkit.Amount(2)), nil); return err }},
		{"negative capture", creditkit.CodeInvalidAmount, func() error { _, err := l.Capture(c, h.ID, ptr(creditkit.Amount(-1)), nil); return err }},
		{"unknown hold", creditkit.CodeNotFound, func() error { _, err := l.Capture(c, "hld_nope", nil, nil); return err }},
		{"unknown grant", creditkit.CodeNotFound, func() error { _, err := l.Void(c, "grt_nope", nil); return err }},
		{"get unknown grant", creditkit.CodeNotFound, func() error { _, err := l.GetGrant(c, "grt_nope"); return err }},
		{"transfer to same wallet", creditkit.CodeInvalidRequest, func() error { _, err := l.Transfer(c, "quinn", "quinn", 5, nil); return err }},
		{"hold ttl too long", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Hold(c, "quinn", "send_email", nil, &creditkit.HoldOpts{TTL: 30 * 24 * time.Hour})
			return err
		}},
		{"bad status filter", creditkit.CodeInvalidRequest, func() error {
			_, err := l.Grants(c, "quinn", &creditkit.GrantFilter{Status: "gone"})
			return err
		}},
		{"bad history cursor", creditkit.CodeInvalidRequest, func() error {
			_, err := l.History(c, "quinn", &creditkit.HistoryFilter{After: "ent_nope"})
			return err
		}},
	}
	for _, tc := range cases {
		err := tc.do()
		if got := creditkit.ErrorCodeOf(err); got != tc.code {
			t.Errorf("%s: error %v has code %q, want %q", tc.name, err, got, tc.code)
		}
		if err != nil && len(err.Error()) < 15 {
			t.Errorf("%s: error message %q does not say what to fix", tc.name, err)
		}
	}
	if after := categories(t, l, "quinn"); !slices.Equal(before, after) {
		t.Fatalf("bad input moved credits: history %v became %v", before, after)
	}
	bal := must(l.Balance(c, "quinn", nil))
	if bal.Available != 49 || bal.Held != 1 {
		t.Fatalf("balance after bad input = %+v, want 49 available 1 held", bal)
	}
	if got := must(l.GetGrant(c, g.ID)); got.Remaining != 49 {
		t.Fatalf("grant remaining = %d, want 49", got.Remaining)
	}
	// Reading a customer never seen is customer_not_found, so that a typo
	// in an ID never reads as an empty wallet.
	_, err := l.Balance(c, "nobody", nil)
	wantCode(t, err, creditkit.CodeCustomerNotFound)
	_, err = l.History(c, "nobody", nil)
	wantCode(t, err, creditkit.CodeCustomerNotFound)
}

func testOverflow(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	const maxAmount = creditkit.Amount(1<<63 - 1)
	must(l.Grant(c, "ravi", maxAmount, nil))
	_, err := l.Grant(c, "ravi", 1, nil)
	wantCode(t, err, creditkit.CodeInvalidAmount)
	wantAvailable(t, l, "ravi", maxAmount)
	_, err = l.Transfer(c, "sam", "ravi", 1, nil)
	wantCode(t, err, creditkit.CodeInsufficientCredits)
	must(l.Grant(c, "sam", 1, nil))
	_, err = l.Transfer(c, "sam", "ravi", 1, nil)
	wantCode(t, err, creditkit.CodeInvalidAmount)
	wantAvailable(t, l, "sam", 1)
	must(l.Debit(c, "ravi", maxAmount, nil))
	wantAvailable(t, l, "ravi", 0)
}

func testEvents(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "tara", 150, nil))
	if b.Events.Count(creditkit.EventCreditsGranted, "tara") != 1 {
		t.Fatal("want one granted event")
	}
	must(l.Debit(c, "tara", 40, nil)) // 110: above the threshold
	must(l.Debit(c, "tara", 20, nil)) // 90: crossed below 100
	must(l.Debit(c, "tara", 10, nil)) // 80: still below, no new event
	if n := b.Events.Count(creditkit.EventBalanceLow, "tara"); n != 1 {
		t.Fatalf("%d low-balance events after one crossing, want 1", n)
	}
	must(l.Grant(c, "tara", 100, nil)) // 180: recovered
	must(l.Debit(c, "tara", 100, nil)) // 80: second crossing
	if n := b.Events.Count(creditkit.EventBalanceLow, "tara"); n != 2 {
		t.Fatalf("%d low-balance events after two crossings, want 2", n)
	}
	must(l.Debit(c, "tara", 80, nil))
	if n := b.Events.Count(creditkit.EventBalanceDepleted, "tara"); n != 1 {
		t.Fatalf("%d depleted events, want 1", n)
	}
	if n := b.Events.Count(creditkit.EventCreditsSpent, "tara"); n != 5 {
		t.Fatalf("%d spent events, want 5", n)
	}
	if n := b.Events.Count(creditkit.EventGrantDepleted, "tara"); n != 2 {
		t.Fatalf("%d grant.depleted events, want 2 (one per grant emptied)", n)
	}
	// The outbox holds the same events, in order, durably.
	stored := must(l.Events(c, 0, 1000))
	var types []string
	for _, e := range stored {
		if e.Customer == "tara" {
			types = append(types, e.Type)
		}
	}
	want := []string{"credits.granted", "credits.spent", "credits.spent", "credits.balance.low", "credits.spent",
		"credits.granted", "credits.balance.recovered",
		"credits.grant.depleted", "credits.spent", "credits.balance.low", // the debit of 100 empties the first grant
		"credits.grant.depleted", "credits.spent", "credits.balance.depleted"} // and the last 80 the second
	if !slices.Equal(types, want) {
		t.Fatalf("outbox = %v\nwant     %v", types, want)
	}
}

// Low-balance alerts fire on the way down only, once per crossing, for the
// config's threshold and the wallet's own (absolute or a percentage of the
// last refill), and recover on the way up.
func testBalanceAlerts(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	// A grant that leaves the wallet under the threshold announces nothing.
	must(l.Grant(c, "una", 50, nil))
	if n := b.Events.Count(creditkit.EventBalanceLow, "una"); n != 0 {
		t.Fatalf("%d low-balance events after a grant, want 0", n)
	}
	// A debit that leaves it under does, once.
	must(l.Debit(c, "una", 5, nil))
	must(l.Debit(c, "una", 5, nil))
	if n := b.Events.Count(creditkit.EventBalanceLow, "una"); n != 1 {
		t.Fatalf("%d low-balance events after two debits under the threshold, want 1", n)
	}

	_, err := l.SetBalanceAlerts(c, "vic", []creditkit.Threshold{{Percent: 101}}, nil)
	wantCode(t, err, creditkit.CodeInvalidRequest)
	_, err = l.SetBalanceAlerts(c, "vic", []creditkit.Threshold{{Amount: -1}}, nil)
	wantCode(t, err, creditkit.CodeInvalidAmount)
	set := must(l.SetBalanceAlerts(c, "vic", []creditkit.Threshold{{Percent: 50}, {Amount: 300}}, &creditkit.SetAlertsOpts{IdempotencyKey: "alerts-1"}))
	if len(set.Thresholds) != 2 || set.Global != 100 {
		t.Fatalf("alerts = %+v", set)
	}
	must(l.Grant(c, "vic", 1000, &creditkit.GrantOpts{Reason: "subscription"})) // last refill 1000: 50% is 500
	levels := func() []any {
		var out []any
		for _, e := range must(l.Events(c, 0, 1000)) {
			if e.Customer == "vic" && (e.Type == creditkit.EventBalanceLow || e.Type == creditkit.EventBalanceRecovered) {
				out = append(out, e.Type, e.Data["threshold"])
			}
		}
		return out
	}
	must(l.Debit(c, "vic", 600, nil)) // 400: under 500
	must(l.Debit(c, "vic", 150, nil)) // 250: under 300
	must(l.Debit(c, "vic", 200, nil)) // 50: under the global 100
	must(l.Grant(c, "vic", 400, nil)) // 450: over 100 and 300, still under 500
	got := fmt.Sprint(levels())
	want := fmt.Sprint([]any{"credits.balance.low", 500, "credits.balance.low", 300, "credits.balance.low", 100,
		"credits.balance.recovered", 100, "credits.balance.recovered", 300})
	if got != want {
		t.Fatalf("alert events = %s\nwant %s", got, want)
	}
	state := must(l.GetBalanceAlerts(c, "vic", ""))
	if state.LastRefill != 1000 || !slices.Equal(state.Low, []creditkit.Amount{500}) {
		t.Fatalf("alert state = %+v", state)
	}
}

func testCurrencies(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "uma", 1000, &creditkit.GrantOpts{Currency: "usd_credits"})) // 10.00
	must(l.Grant(c, "uma", 3, nil))
	e := must(l.Spend(c, "uma", "usd_call", nil, nil))
	if e.Amount != -25 || e.Currency != "usd_credits" {
		t.Fatalf("usd_call entry = %+v, want -25 usd_credits", e)
	}
	usd := must(l.Balance(c, "uma", &creditkit.BalanceOpts{Currency: "usd_credits"}))
	if usd.Available != 975 {
		t.Fatalf("usd balance = %d, want 975", usd.Available)
	}
	if got := l.Config().FormatAmount(usd.Available, "usd_credits"); got != "9.75 usd_credits" {
		t.Fatalf("formatted = %q", got)
	}
	wantAvailable(t, l, "uma", 3)
	all := must(l.Balances(c, "uma"))
	if len(all) != 2 {
		t.Fatalf("Balances = %v", all)
	}
}

func testHistoryPaging(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "vic", 100, nil))
	for range 9 {
		b.Clock.Advance(time.Minute)
		must(l.Spend(c, "vic", "send_email", nil, nil))
	}
	must(l.Spend(c, "vic", "process_image", creditkit.Params{"mb": 1}, nil))
	var ids []string
	after := ""
	for {
		page := must(l.History(c, "vic", &creditkit.HistoryFilter{Limit: 3, After: after}))
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(ids) != 11 {
		t.Fatalf("paged %d entries, want 11", len(ids))
	}
	all := must(l.History(c, "vic", nil))
	for i, e := range all {
		if e.ID != ids[i] {
			t.Fatalf("paging order differs at %d", i)
		}
		if i > 0 && e.BalanceAfter != all[i-1].BalanceAfter+e.Amount {
			t.Fatalf("balance_after chain broken at %d", i)
		}
	}
	if got := must(l.History(c, "vic", &creditkit.HistoryFilter{Operation: "process_image"})); len(got) != 1 || got[0].Amount != -11 {
		t.Fatalf("filter by operation = %v", got)
	}
	window := must(l.History(c, "vic", &creditkit.HistoryFilter{Since: Epoch.Add(2 * time.Minute), Until: Epoch.Add(5 * time.Minute)}))
	if len(window) != 3 {
		t.Fatalf("time window returned %d entries, want 3", len(window))
	}
	newest := must(l.History(c, "vic", &creditkit.HistoryFilter{Newest: true, Limit: 1}))
	if newest[0].ID != ids[len(ids)-1] {
		t.Fatal("newest first does not start with the last entry")
	}
}

// 64 goroutines race 5,000 spends of 1 credit against 1,000 credits.
func testConcurrentSpends(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "whale", 600, nil))
	must(l.Grant(c, "whale", 400, &creditkit.GrantOpts{Reason: "pack"}))
	var ok, insufficient, attempts atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempts.Add(1) <= 5000 {
				_, err := l.Spend(c, "whale", "send_email", nil, nil)
				switch {
				case err == nil:
					ok.Add(1)
				case isInsufficient(err):
					insufficient.Add(1)
				default:
					t.Errorf("spend: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1000 || insufficient.Load() != 4000 {
		t.Fatalf("%d spends succeeded and %d were refused, want 1000 and 4000", ok.Load(), insufficient.Load())
	}
	wantAvailable(t, l, "whale", 0)
}

// The same race with batching off: every caller runs its own transaction.
func testConcurrentSpendsUnbatched(t *testing.T, b *Bundle) {
	u := SetupWith(t, b.newStore, func(cfg *creditkit.Config) { cfg.Writes.NoBatching = true })
	testConcurrentSpends(t, u)
	CheckInvariants(t, u.Ledger)
}

// Concurrent requests with one idempotency key move credits once.
func testConcurrentIdempotency(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "xena", 100, nil))
	ids := make(chan string, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := l.Spend(c, "xena", "process_image", creditkit.Params{"mb": 2}, &creditkit.SpendOpts{IdempotencyKey: "same"})
			if err != nil {
				t.Errorf("replayed spend: %v", err)
				return
			}
			ids <- e.ID
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		} else if id != first {
			t.Fatalf("replays returned different entries %s and %s", first, id)
		}
	}
	wantAvailable(t, l, "xena", 88)
}

// Transfers in both directions between the same wallets lock in one order.
func testConcurrentTransfers(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "yara", 500, nil))
	must(l.Grant(c, "zed", 500, nil))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := "yara", "zed"
			if i%2 == 1 {
				from, to = to, from
			}
			for range 20 {
				if _, err := l.Transfer(c, from, to, 1, nil); err != nil && !isInsufficient(err) {
					t.Errorf("transfer: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if total := available(t, l, "yara") + available(t, l, "zed"); total != 1000 {
		t.Fatalf("credits after transfers = %d, want 1000", total)
	}
}

func testRunDueIdempotent(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	for i := range 5 {
		must(l.Grant(c, fmt.Sprint("due", i), 10, &creditkit.GrantOpts{ExpiresIn: time.Hour}))
		must(l.Hold(c, fmt.Sprint("due", i), "send_email", nil, &creditkit.HoldOpts{TTL: time.Minute}))
	}
	b.Clock.Advance(2 * time.Hour)
	var wg sync.WaitGroup
	var grants, holds atomic.Int64
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.RunDue(c)
			if err != nil {
				t.Errorf("RunDue: %v", err)
				return
			}
			grants.Add(int64(res.ExpiredGrants))
			holds.Add(int64(res.ExpiredHolds))
		}()
	}
	wg.Wait()
	if grants.Load() != 5 || holds.Load() != 5 {
		t.Fatalf("concurrent RunDue expired %d grants and %d holds, want 5 and 5", grants.Load(), holds.Load())
	}
	for i := range 5 {
		// The grant's own 9 credits expire at its expiry instant; the 1 held
		// credit expires when the lapsed hold gives it back.
		exp := must(l.History(c, fmt.Sprint("due", i), &creditkit.HistoryFilter{Category: creditkit.CategoryExpiration}))
		var amounts []creditkit.Amount
		for _, e := range exp {
			amounts = append(amounts, e.Amount)
		}
		if !slices.Equal(amounts, []creditkit.Amount{-9, -1}) {
			t.Fatalf("due%d expirations = %v, want [-9 -1]", i, amounts)
		}
	}
	if res := must(l.RunDue(c)); res.ExpiredGrants != 0 || res.ExpiredHolds != 0 {
		t.Fatalf("second RunDue = %+v, want nothing", res)
	}
}

// testEntries runs the cases about what each entry carries: its type,
// description, available balance after, usage time, and metadata.
func testEntries(t *testing.T, b *Bundle) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *Bundle)
	}{
		{"TypesAndAvailableAfter", testEntryTypesAndAvailable},
		{"Description", testEntryDescription},
		{"MetadataIsTheCallers", testEntryMetadata},
		{"OccurredAt", testEntryOccurredAt},
		{"RawChargesHaveAName", testRawChargeUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer guard(t)
			tc.fn(t, b)
		})
	}
}

// Every kind of movement writes entries of its type, History filters by
// type, and available_after is the spendable balance, without held or
// scheduled credits, while balance_after counts them.
func testEntryTypesAndAvailable(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	now := b.Clock.Now()
	must(l.Grant(c, "tara", 100, nil))
	must(l.Grant(c, "tara", 50, &creditkit.GrantOpts{EffectiveAt: now.Add(time.Hour)}))
	h := must(l.Hold(c, "tara", "process_image", creditkit.Params{"mb": 10}, nil)) // 20 held
	must(l.Debit(c, "tara", 10, &creditkit.DebitOpts{Reason: "storage"}))
	must(l.Capture(c, h.ID, ptr(creditkit.Amount(5)), nil)) // 15 return
	raw := must(l.Hold(c, "tara", "", nil, &creditkit.HoldOpts{Amount: ptr(creditkit.Amount(7))}))
	must(l.Capture(c, raw.ID, nil, nil))
	must(l.Transfer(c, "tara", "uma", 8, nil))
	must(l.Grant(c, "tara", 30, &creditkit.GrantOpts{ExpiresIn: 30 * time.Minute}))
	g4 := must(l.Grant(c, "tara", 5, nil))
	must(l.Void(c, g4.ID, nil))
	b.Clock.Advance(31 * time.Minute) // the 30 expire at the next write
	must(l.Debit(c, "tara", 1, nil))
	b.Clock.Advance(30 * time.Minute) // the scheduled 50 take effect
	must(l.Debit(c, "tara", 1, nil))

	type row struct {
		typ      creditkit.EntryType
		category string
		amount   creditkit.Amount
		balance  creditkit.Amount
		avail    creditkit.Amount
	}
	want := []row{
		{creditkit.EntryGrant, "manual_adjustment", 100, 100, 100},
		{creditkit.EntryGrant, "manual_adjustment", 50, 150, 100}, // scheduled
		{creditkit.EntryCharge, "storage", -10, 140, 70},          // 20 held
		{creditkit.EntryCharge, "operation_charge", -5, 135, 85},  // 15 returned
		{creditkit.EntryCharge, "debit", -7, 128, 78},
		{creditkit.EntryTransfer, "transfer_out", -8, 120, 70},
		{creditkit.EntryGrant, "manual_adjustment", 30, 150, 100},
		{creditkit.EntryGrant, "manual_adjustment", 5, 155, 105},
		{creditkit.EntryVoid, "void", -5, 150, 100},
		{creditkit.EntryExpiration, "expiration", -30, 120, 70},
		{creditkit.EntryCharge, "debit", -1, 119, 69},
		{creditkit.EntryCharge, "debit", -1, 118, 118}, // the 50 are effective
	}
	entries := must(l.History(c, "tara", nil))
	if len(entries) != len(want) {
		t.Fatalf("tara has %d entries, want %d", len(entries), len(want))
	}
	for i, e := range entries {
		got := row{e.Type, e.Category, e.Amount, e.BalanceAfter, -1}
		if e.AvailableAfter != nil {
			got.avail = *e.AvailableAfter
		}
		if got != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got, want[i])
		}
	}
	in := must(l.History(c, "uma", nil))
	if len(in) != 1 || in[0].Type != creditkit.EntryTransfer || in[0].AvailableAfter == nil || *in[0].AvailableAfter != 8 {
		t.Fatalf("uma's history = %+v, want one transfer leaving 8 available", in)
	}

	counts := map[creditkit.EntryType]int{creditkit.EntryGrant: 4, creditkit.EntryCharge: 5, creditkit.EntryTransfer: 1,
		creditkit.EntryVoid: 1, creditkit.EntryExpiration: 1, creditkit.EntryReversal: 0, creditkit.EntryAdjustment: 0}
	for _, typ := range creditkit.EntryTypes() {
		got := must(l.History(c, "tara", &creditkit.HistoryFilter{Type: typ}))
		if len(got) != counts[typ] {
			t.Errorf("History(type %s) has %d entries, want %d", typ, len(got), counts[typ])
		}
		for _, e := range got {
			if e.Type != typ {
				t.Errorf("History(type %s) returned a %s entry", typ, e.Type)
			}
		}
	}
	// Paging and order still apply within a type.
	newest := must(l.History(c, "tara", &creditkit.HistoryFilter{Type: creditkit.EntryCharge, Newest: true, Limit: 2}))
	if len(newest) != 2 || newest[0].ID != entries[11].ID || newest[1].ID != entries[10].ID {
		t.Fatalf("newest two charges = %v, want the last two debits", newest)
	}
	_, err := l.History(c, "tara", &creditkit.HistoryFilter{Type: "refund_ish"})
	wantCode(t, err, creditkit.CodeInvalidRequest)
	for _, typ := range creditkit.EntryTypes() {
		if !strings.Contains(err.Error(), string(typ)) {
			t.Errorf("bad type error %q does not list %s", err, typ)
		}
	}
}

// Entries carry an optional free-text description, checked like any input.
func testEntryDescription(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	g := must(l.Grant(c, "vera", 100, &creditkit.GrantOpts{Description: "Welcome bonus"}))
	e := must(l.Spend(c, "vera", "send_email", nil, &creditkit.SpendOpts{Description: "Résumé sent ✓\nto 3 people"}))
	d := must(l.Debit(c, "vera", 2, &creditkit.DebitOpts{Description: "storage, March"}))
	tr := must(l.Transfer(c, "vera", "walt", 3, &creditkit.TransferOpts{Description: "shared with a teammate"}))
	entries := must(l.History(c, "vera", nil))
	got := []string{entries[0].Description, entries[1].Description, entries[2].Description, entries[3].Description}
	want := []string{"Welcome bonus", "Résumé sent ✓\nto 3 people", "storage, March", "shared with a teammate"}
	if !slices.Equal(got, want) {
		t.Fatalf("descriptions = %q, want %q", got, want)
	}
	if e.Description != want[1] || d.Description != want[2] || tr.In.Description != want[3] || g.ID == "" {
		t.Fatalf("results lost their descriptions: %q %q %q", e.Description, d.Description, tr.In.Description)
	}
	for name, desc := range map[string]string{
		"too long":         strings.Repeat("é", 501),
		"invalid UTF-8":    "caf\xe9",
		"control char":     "bell\x07",
		"nul in the midst": "a\x00b",
	} {
		_, err := l.Spend(c, "vera", "send_email", nil, &creditkit.SpendOpts{Description: desc})
		wantCode(t, err, creditkit.CodeInvalidRequest)
		_, err = l.Grant(c, "vera", 1, &creditkit.GrantOpts{Description: desc})
		wantCode(t, err, creditkit.CodeInvalidRequest)
		if !strings.Contains(err.Error(), "description") {
			t.Errorf("%s: error %q does not name the description", name, err)
		}
	}
	if n := len(must(l.History(c, "vera", nil))); n != 4 {
		t.Fatalf("refused descriptions wrote entries: %d entries, want 4", n)
	}
	// Exactly 500 characters is fine.
	must(l.Debit(c, "vera", 1, &creditkit.DebitOpts{Description: strings.Repeat("é", 500)}))
}

// An entry's metadata is exactly the caller's; the library's own facts
// live in Operation and Details, so neither can shadow the other.
func testEntryMetadata(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	md := map[string]string{"operation": "mine", "cost": "priceless", "metadata": "flat"}
	g := must(l.Grant(c, "xena", 100, &creditkit.GrantOpts{Reason: "signup_bonus", Metadata: map[string]string{"campaign": "spring"}}))
	e := must(l.Spend(c, "xena", "process_image", creditkit.Params{"mb": 1}, &creditkit.SpendOpts{Metadata: md}))
	if !maps.Equal(e.Metadata, md) || e.Operation != "process_image" || e.Details["cost"] != float64(11) {
		t.Fatalf("spend entry metadata %v operation %q details %v, want the caller's metadata as given", e.Metadata, e.Operation, e.Details)
	}
	if p, _ := e.Details["params"].(map[string]any); p["mb"] != float64(1) {
		t.Fatalf("spend details params = %v", e.Details["params"])
	}
	h := must(l.Hold(c, "xena", "send_email", nil, &creditkit.HoldOpts{Metadata: map[string]string{"job": "j9"}}))
	ce := must(l.Capture(c, h.ID, nil, nil))
	tr := must(l.Transfer(c, "xena", "yuri", 5, &creditkit.TransferOpts{Metadata: map[string]string{"note": "gift"}}))
	entries := must(l.History(c, "xena", nil))
	for i, want := range []map[string]string{{"campaign": "spring"}, md, {"job": "j9"}, {"note": "gift"}} {
		if !maps.Equal(entries[i].Metadata, want) {
			t.Errorf("entry %d (%s) metadata = %v, want %v", i, entries[i].Category, entries[i].Metadata, want)
		}
	}
	if entries[0].Details["grant_id"] != g.ID || entries[0].Details["source"] != "bonus" {
		t.Errorf("grant entry details = %v", entries[0].Details)
	}
	if ce.Details["hold_id"] != h.ID || ce.Operation != "send_email" || tr.In.Details["from"] != "xena" || !maps.Equal(tr.In.Metadata, map[string]string{"note": "gift"}) {
		t.Errorf("capture details %v, transfer details %v metadata %v", ce.Details, tr.In.Details, tr.In.Metadata)
	}
	// Operation is a column: History filters by it.
	if got := must(l.History(c, "xena", &creditkit.HistoryFilter{Operation: "process_image"})); len(got) != 1 || got[0].ID != e.ID {
		t.Fatalf("History(operation process_image) = %v", got)
	}
}

// A charge keeps when its usage happened (OccurredAt), apart from when it
// was written (At, which orders the ledger); Usage sums by OccurredAt, and
// times out of the ledger's window are refused.
func testEntryOccurredAt(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "otto", 100, nil))
	b.Clock.Advance(72 * time.Hour)
	now := b.Clock.Now()
	then := now.Add(-48 * time.Hour)
	e := must(l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: then, IdempotencyKey: "otto-1"}))
	if !e.At.Equal(now) || !e.OccurredAt.Equal(then) || !e.RecordedAt.Equal(now) {
		t.Fatalf("entry at %s occurred_at %s recorded_at %s, want at %s occurred_at %s", e.At, e.OccurredAt, e.RecordedAt, now, then)
	}
	d := must(l.Debit(c, "otto", 2, &creditkit.DebitOpts{OccurredAt: now.Add(-20 * time.Hour)}))
	plain := must(l.Spend(c, "otto", "send_email", nil, nil))
	if !plain.OccurredAt.Equal(plain.At) || !d.OccurredAt.Equal(now.Add(-20*time.Hour)) {
		t.Fatalf("occurred_at of a plain spend %s (at %s), of a debit %s", plain.OccurredAt, plain.At, d.OccurredAt)
	}
	// The same key with another time is another request.
	_, err := l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: then.Add(time.Second), IdempotencyKey: "otto-1"})
	wantCode(t, err, creditkit.CodeIdempotencyConflict)
	// A replay returns the first entry, time included.
	if r := must(l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: then, IdempotencyKey: "otto-1"})); r.ID != e.ID || !r.OccurredAt.Equal(then) {
		t.Fatalf("replay = %+v", r)
	}
	// The ledger keeps write order.
	hist := must(l.History(c, "otto", nil))
	if len(hist) != 4 || hist[1].ID != e.ID || hist[2].ID != d.ID || !hist[1].OccurredAt.Equal(then) {
		t.Fatalf("history = %v", hist)
	}
	// Usage counts each charge on the day it happened.
	days := must(l.Usage(c, "otto", &creditkit.UsageQuery{Interval: creditkit.IntervalDay}))
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	wantDays := []creditkit.UsageRow{{Start: day(then), Count: 1, Amount: 1}, {Start: day(now.Add(-20 * time.Hour)), Count: 1, Amount: 2}, {Start: day(now), Count: 1, Amount: 1}}
	if !slices.Equal(days, wantDays) {
		t.Fatalf("usage by day = %+v, want %+v", days, wantDays)
	}
	recent := must(l.Usage(c, "otto", &creditkit.UsageQuery{Since: now.Add(-12 * time.Hour)}))
	if len(recent) != 1 || recent[0].Count != 1 || recent[0].Amount != 1 {
		t.Fatalf("usage of the last 12 hours = %+v, want the one charge that happened then", recent)
	}
	// Out of the window: refused, naming the window, moving nothing.
	for _, bad := range []time.Time{now.Add(6 * time.Minute), now.Add(-36 * 24 * time.Hour)} {
		_, err := l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: bad})
		wantCode(t, err, creditkit.CodeInvalidRequest)
		if !strings.Contains(err.Error(), "5m0s ahead") || !strings.Contains(err.Error(), "35 days back") {
			t.Errorf("window error %q does not give the window", err)
		}
		_, err = l.Debit(c, "otto", 1, &creditkit.DebitOpts{OccurredAt: bad})
		wantCode(t, err, creditkit.CodeInvalidRequest)
	}
	must(l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: now.Add(5 * time.Minute)}))
	must(l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: now.Add(-35 * 24 * time.Hour)}))
	// The window is the ledger's to set.
	l.SetUsageWindow(creditkit.UsageWindow{Back: 40 * 24 * time.Hour})
	if w := l.UsageWindow(); w.Ahead != creditkit.DefaultUsageAhead || w.Back != 40*24*time.Hour {
		t.Fatalf("window = %+v", w)
	}
	must(l.Spend(c, "otto", "send_email", nil, &creditkit.SpendOpts{OccurredAt: now.Add(-36 * 24 * time.Hour)}))
	wantAvailable(t, l, "otto", 100-1-2-1-1-1-1)
}

// A raw charge (a debit, or the capture of a hold for a raw amount without
// an operation) carries its reason as its category, and usage split by
// operation groups raw charges under their reason instead of an unnamed row.
func testRawChargeUsage(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)
	must(l.Grant(c, "rhea", 100, nil))
	d := must(l.Debit(c, "rhea", 3, nil))
	must(l.Debit(c, "rhea", 4, &creditkit.DebitOpts{Reason: "storage"}))
	h := must(l.Hold(c, "rhea", "", nil, &creditkit.HoldOpts{Amount: ptr(creditkit.Amount(5))}))
	ce := must(l.Capture(c, h.ID, nil, nil))
	must(l.Spend(c, "rhea", "send_email", nil, nil))
	for _, e := range []*creditkit.Entry{d, ce} {
		if e.Category != creditkit.CategoryDebit || e.Operation != "" || e.Type != creditkit.EntryCharge {
			t.Fatalf("raw charge = %+v, want a charge in category debit without operation", e)
		}
		if _, ok := e.Details["operation"]; ok {
			t.Fatalf("raw charge details name an operation: %v", e.Details)
		}
	}
	got := must(l.Usage(c, "rhea", &creditkit.UsageQuery{ByOperation: true}))
	want := []creditkit.UsageRow{
		{Reason: "debit", Count: 2, Amount: 8},
		{Reason: "storage", Count: 1, Amount: 4},
		{Operation: "send_email", Count: 1, Amount: 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("usage by operation = %+v, want %+v", got, want)
	}
	total := must(l.Usage(c, "rhea", nil))
	if !slices.Equal(total, []creditkit.UsageRow{{Count: 4, Amount: 13}}) {
		t.Fatalf("usage = %+v, want one row of 4 charges for 13", total)
	}
}

// idempotencyOf reads one idempotency record.
func idempotencyOf(c context.Context, s store.Store, key string) (rec *store.Idempotency, err error) {
	err = s.View(c, func(ctx context.Context, tx store.ReadTx) error {
		rec, err = tx.Idempotency(ctx, key)
		return err
	})
	return rec, err
}
