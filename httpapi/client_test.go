package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// clientTestConfig has a whole-credit currency and a cents currency, so
// that amounts in errors show their decimals.
const clientTestConfig = `
currencies:
  - { name: credits, decimals: 0 }
  - { name: usd_credits, decimals: 2 }
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  premium_call: 2.50 usd_credits
`

// clientWorld is a real server on a temp SQLite ledger with a manual
// clock, and a client for each key scope.
type clientWorld struct {
	ctx                context.Context
	l                  *creditkit.Ledger
	clock              *creditkit.ManualClock
	url                string
	admin, write, read *httpapi.Client
}

// newClientWorld starts the server and creates an admin, a write and a
// read key.
func newClientWorld(t *testing.T) *clientWorld {
	t.Helper()
	return newClientWorldBehind(t, nil)
}

// newClientWorldBehind is newClientWorld with the server's handler
// wrapped by wrap (nil for none), such as a proxy that loses answers.
func newClientWorldBehind(t *testing.T, wrap func(http.Handler) http.Handler) *clientWorld {
	t.Helper()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("client_test.yaml", []byte(clientTestConfig))
	if err != nil {
		t.Fatal(err)
	}
	clock := creditkit.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg.Clock = clock
	l, err := creditkit.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	})
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Every response of the server is checked against its document; wrap
	// (a fault injector) sits outside the check.
	h := newContract(t, srv.Handler()).handler(srv.Handler())
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	w := &clientWorld{ctx: ctx, l: l, clock: clock, url: hs.URL}
	w.admin = w.client(t, w.key(t, store.ScopeAdmin))
	w.write = w.client(t, w.key(t, store.ScopeWrite))
	w.read = w.client(t, w.key(t, store.ScopeRead))
	return w
}

// key creates an API key of a scope and returns its secret.
func (w *clientWorld) key(t *testing.T, scope string) string {
	t.Helper()
	_, secret, err := httpapi.CreateKey(w.ctx, w.l.Store().(store.ServerStore), "client test "+scope, scope, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// client returns a client of the world's server calling with key.
func (w *clientWorld) client(t *testing.T, key string) *httpapi.Client {
	t.Helper()
	c, err := httpapi.NewClient(w.url, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// entry finds an entry of a customer in the ledger's own history.
func (w *clientWorld) entry(t *testing.T, customer, id string) *creditkit.Entry {
	t.Helper()
	es, err := w.l.History(w.ctx, customer, &creditkit.HistoryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("entry %s not in %s's history", id, customer)
	return nil
}

// available returns a customer's available credits, read from the ledger.
func (w *clientWorld) available(t *testing.T, customer string) creditkit.Amount {
	t.Helper()
	b, err := w.l.Balance(w.ctx, customer, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Available
}

// noErr takes a call's two results and returns a function that fails the
// test on the error, else returns the value: noErr(c.Balance(...))(t).
func noErr[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// sameJSON requires got and want to encode to the same JSON: what a
// caller of the client sees is what a caller of the ledger sees.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s through the client differs from the ledger's:\nclient: %s\nledger: %s", what, g, w)
	}
}

// sameError requires the client's error to carry the ledger's code and
// message.
func sameError(t *testing.T, what string, got, want error) {
	t.Helper()
	if got == nil || want == nil {
		t.Fatalf("%s: client error %v, ledger error %v; want both to fail", what, got, want)
	}
	if gc, wc := creditkit.ErrorCodeOf(got), creditkit.ErrorCodeOf(want); gc != wc {
		t.Errorf("%s: client error code %s, ledger's %s (client: %v)", what, gc, wc, got)
	}
	if got.Error() != want.Error() {
		t.Errorf("%s: client error %q, ledger's %q", what, got.Error(), want.Error())
	}
}

// requireCode requires err to have a code.
func requireCode(t *testing.T, what string, err error, code creditkit.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded; want a %s error", what, code)
	}
	if got := creditkit.ErrorCodeOf(err); got != code {
		t.Fatalf("%s: error code %s (%v); want %s", what, got, err, code)
	}
}

func TestClientMatchesLedger(t *testing.T) {
	t.Parallel()
	w := newClientWorld(t)
	ctx, c := w.ctx, w.admin

	// Grants.
	g1 := noErr(c.Grant(ctx, "alice", 100, &creditkit.GrantOpts{Reason: "signup_bonus", ExpiresIn: 30 * 24 * time.Hour,
		Metadata: map[string]string{"plan": "pro"}, IdempotencyKey: "g1"}))(t)
	sameJSON(t, "grant", g1, noErr(w.l.GetGrant(ctx, g1.ID))(t))
	prio := 5
	g2 := noErr(c.Grant(ctx, "alice", 1000, &creditkit.GrantOpts{Currency: "usd_credits", Priority: &prio,
		CostBasis: &creditkit.CostBasis{PerCredit: "0.01", Currency: "USD"}}))(t)
	sameJSON(t, "usd grant", g2, noErr(w.l.GetGrant(ctx, g2.ID))(t))
	later := w.clock.Now().Add(48 * time.Hour)
	g3 := noErr(c.Grant(ctx, "alice", 7, &creditkit.GrantOpts{Reason: "subscription", EffectiveAt: later, ExpiresAt: later.Add(time.Hour)}))(t)
	sameJSON(t, "scheduled grant", g3, noErr(w.l.GetGrant(ctx, g3.ID))(t))
	sameJSON(t, "get grant", noErr(c.GetGrant(ctx, g1.ID))(t), noErr(w.l.GetGrant(ctx, g1.ID))(t))

	for _, f := range []*creditkit.GrantFilter{nil, {Currency: "usd_credits"}, {Status: creditkit.GrantScheduled}, {Limit: 1}, {After: g1.ID}} {
		sameJSON(t, "grants", noErr(c.Grants(ctx, "alice", f))(t), noErr(w.l.Grants(ctx, "alice", f))(t))
	}

	// Spending.
	w.clock.Advance(time.Minute)
	e1 := noErr(c.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": "5.2"}, &creditkit.SpendOpts{Metadata: map[string]string{"job": "j1"}}))(t)
	sameJSON(t, "spend", e1, w.entry(t, "alice", e1.ID))
	if e1.Amount != -16 {
		t.Errorf("process_image mb=5.2 charged %d, want -16", e1.Amount)
	}
	e2 := noErr(c.Spend(ctx, "alice", "premium_call", nil, nil))(t)
	sameJSON(t, "usd spend", e2, w.entry(t, "alice", e2.ID))
	e3 := noErr(c.Debit(ctx, "alice", 3, &creditkit.DebitOpts{Reason: "support_fix", Metadata: map[string]string{"ticket": "7"}}))(t)
	sameJSON(t, "debit", e3, w.entry(t, "alice", e3.ID))
	e4 := noErr(c.Debit(ctx, "alice", 25, &creditkit.DebitOpts{Currency: "usd_credits"}))(t)
	sameJSON(t, "usd debit", e4, w.entry(t, "alice", e4.ID))

	for _, p := range []creditkit.Params{{"mb": 3}, {"mb": "0.5"}} {
		got := noErr(c.Estimate(ctx, "process_image", p))(t)
		if want := noErr(w.l.Estimate(ctx, "process_image", p))(t); got != want {
			t.Errorf("estimate %v: client %d, ledger %d", p, got, want)
		}
	}
	for _, op := range []struct {
		name   string
		params creditkit.Params
	}{{"send_email", nil}, {"process_image", creditkit.Params{"mb": 1000}}, {"premium_call", nil}} {
		sameJSON(t, "check "+op.name, noErr(c.Check(ctx, "alice", op.name, op.params))(t), noErr(w.l.Check(ctx, "alice", op.name, op.params))(t))
		got := noErr(c.CanAfford(ctx, "alice", op.name, op.params))(t)
		if want := noErr(w.l.CanAfford(ctx, "alice", op.name, op.params))(t); got != want {
			t.Errorf("can afford %s: client %v, ledger %v", op.name, got, want)
		}
	}

	// Holds.
	h1 := noErr(c.Hold(ctx, "alice", "process_image", creditkit.Params{"mb": 10}, &creditkit.HoldOpts{TTL: time.Hour, Metadata: map[string]string{"job": "j2"}}))(t)
	sameJSON(t, "hold", h1, noErr(w.l.GetHold(ctx, h1.ID))(t))
	sameJSON(t, "get hold", noErr(c.GetHold(ctx, h1.ID))(t), noErr(w.l.GetHold(ctx, h1.ID))(t))
	part := creditkit.Amount(15)
	ce := noErr(c.Capture(ctx, h1.ID, &part, &creditkit.CaptureOpts{Metadata: map[string]string{"tokens": "9"}}))(t)
	sameJSON(t, "capture", ce, w.entry(t, "alice", ce.ID))
	sameJSON(t, "captured hold", noErr(c.GetHold(ctx, h1.ID))(t), noErr(w.l.GetHold(ctx, h1.ID))(t))
	raw := creditkit.Amount(50)
	h2 := noErr(c.Hold(ctx, "alice", "", nil, &creditkit.HoldOpts{Amount: &raw, Currency: "usd_credits"}))(t)
	sameJSON(t, "raw hold", h2, noErr(w.l.GetHold(ctx, h2.ID))(t))
	rh := noErr(c.Release(ctx, h2.ID, nil))(t)
	sameJSON(t, "release", rh, noErr(w.l.GetHold(ctx, h2.ID))(t))
	h3 := noErr(c.Hold(ctx, "alice", "send_email", nil, nil))(t)
	sameJSON(t, "full capture", noErr(c.Capture(ctx, h3.ID, nil, nil))(t), noErr(w.l.History(ctx, "alice", &creditkit.HistoryFilter{Limit: 1, Newest: true}))(t)[0])

	// Transfers and voids.
	tr := noErr(c.Transfer(ctx, "alice", "bob", 10, &creditkit.TransferOpts{Metadata: map[string]string{"why": "gift"}}))(t)
	sameJSON(t, "transfer out", tr.Out, w.entry(t, "alice", tr.Out.ID))
	sameJSON(t, "transfer in", tr.In, w.entry(t, "bob", tr.In.ID))
	for _, g := range tr.Grants {
		sameJSON(t, "transferred grant", g, noErr(w.l.GetGrant(ctx, g.ID))(t))
	}
	tr2 := noErr(c.Transfer(ctx, "alice", "bob", 100, &creditkit.TransferOpts{Currency: "usd_credits", Evergreen: true}))(t)
	sameJSON(t, "evergreen transfer in", tr2.In, w.entry(t, "bob", tr2.In.ID))
	gv := noErr(c.Grant(ctx, "bob", 40, nil))(t)
	ve := noErr(c.Void(ctx, gv.ID, &creditkit.VoidOpts{Reason: "mistake"}))(t)
	sameJSON(t, "void", ve, w.entry(t, "bob", ve.ID))
	sameJSON(t, "voided grant", noErr(c.GetGrant(ctx, gv.ID))(t), noErr(w.l.GetGrant(ctx, gv.ID))(t))

	// Reads.
	for _, customer := range []string{"alice", "bob"} {
		for _, o := range []*creditkit.BalanceOpts{nil, {Currency: "usd_credits"}, {At: w.clock.Now().Add(-30 * time.Second)}, {At: later.Add(time.Minute)}} {
			sameJSON(t, "balance of "+customer, noErr(c.Balance(ctx, customer, o))(t), noErr(w.l.Balance(ctx, customer, o))(t))
		}
	}
	// A customer never seen is customer_not_found on both.
	_, cerr := c.Balance(ctx, "nobody", nil)
	_, lerr := w.l.Balance(ctx, "nobody", nil)
	if creditkit.ErrorCodeOf(cerr) != creditkit.CodeCustomerNotFound || creditkit.ErrorCodeOf(lerr) != creditkit.CodeCustomerNotFound {
		t.Fatalf("balance of nobody: client %v, ledger %v; want customer_not_found", cerr, lerr)
	}
	start := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	for _, f := range []*creditkit.HistoryFilter{nil, {Newest: true, Limit: 3}, {After: e1.ID, Limit: 2}, {Category: creditkit.CategoryOperationCharge},
		{Operation: "process_image"}, {Currency: "usd_credits"}, {Since: start}, {Until: start}} {
		sameJSON(t, "history", noErr(c.History(ctx, "alice", f))(t), noErr(w.l.History(ctx, "alice", f))(t))
	}
	for _, q := range []*creditkit.UsageQuery{nil, {ByOperation: true}, {Interval: creditkit.IntervalDay, ByOperation: true}, {Currency: "usd_credits"}, {Since: start}} {
		sameJSON(t, "usage", noErr(c.Usage(ctx, "alice", q))(t), noErr(w.l.Usage(ctx, "alice", q))(t))
	}

	// The catalog is the config.
	cat := noErr(c.Catalog(ctx))(t)
	sameJSON(t, "catalog", cat, httpapi.Catalog{
		Currencies: []httpapi.CatalogCurrency{{Name: "credits", Decimals: 0}, {Name: "usd_credits", Decimals: 2}},
		Operations: []httpapi.CatalogOperation{
			{Name: "premium_call", Currency: "usd_credits", Formula: "2.50 usd_credits"},
			{Name: "process_image", Currency: "credits", Formula: "10 credits + 1 credit per mb"},
			{Name: "send_email", Currency: "credits", Formula: "1 credit"},
		},
	})

	// RunDue settles what the ledger would have: the grant with an expiry
	// and the hold left to lapse.
	noErr(c.Grant(ctx, "carol", 5, &creditkit.GrantOpts{ExpiresIn: time.Hour}))(t)
	noErr(c.Hold(ctx, "alice", "send_email", nil, &creditkit.HoldOpts{TTL: time.Minute}))(t)
	w.clock.Advance(2 * time.Hour)
	due := noErr(c.RunDue(ctx))(t)
	if due != (creditkit.DueResult{ExpiredGrants: 1, ExpiredHolds: 1}) {
		t.Errorf("run-due = %+v, want one grant and one hold", due)
	}
	if again := noErr(w.l.RunDue(ctx))(t); again != (creditkit.DueResult{}) {
		t.Errorf("the ledger found more due after the client's run-due: %+v", again)
	}
}

func TestClientErrorsMatchLedger(t *testing.T) {
	t.Parallel()
	w := newClientWorld(t)
	ctx, c := w.ctx, w.write
	noErr(c.Grant(ctx, "alice", 20, nil))(t)
	noErr(c.Grant(ctx, "alice", 100, &creditkit.GrantOpts{Currency: "usd_credits"}))(t)

	// Insufficient credits: a 402 with the numbers.
	_, err := c.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": 30}, nil)
	if !errors.Is(err, creditkit.ErrInsufficientCredits) {
		t.Fatalf("spend beyond the balance: %v; want insufficient credits", err)
	}
	var ic *creditkit.InsufficientCreditsError
	if !errors.As(err, &ic) {
		t.Fatalf("error %T is not an *InsufficientCreditsError", err)
	}
	if ic.Customer != "alice" || ic.Currency != "credits" || ic.Needed != 40 || ic.Available != 20 {
		t.Errorf("insufficient credits = %+v; want alice needs 40 credits, has 20", *ic)
	}
	_, lerr := w.l.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": 30}, nil)
	sameError(t, "insufficient credits", err, lerr)

	for i := 0; i < 2; i++ {
		_, err = c.Debit(ctx, "alice", 150, &creditkit.DebitOpts{Currency: "usd_credits"})
		_, lerr = w.l.Debit(ctx, "alice", 150, &creditkit.DebitOpts{Currency: "usd_credits"})
		sameError(t, "insufficient usd credits", err, lerr) // "1.50 usd_credits", the catalog's decimals
	}
	_, err = c.Transfer(ctx, "alice", "bob", 21, nil)
	_, lerr = w.l.Transfer(ctx, "alice", "bob", 21, nil)
	sameError(t, "transfer beyond the balance", err, lerr)
	_, err = c.Hold(ctx, "alice", "process_image", creditkit.Params{"mb": 11}, nil)
	_, lerr = w.l.Hold(ctx, "alice", "process_image", creditkit.Params{"mb": 11}, nil)
	sameError(t, "hold beyond the balance", err, lerr)
	if w.available(t, "alice") != 20 {
		t.Fatalf("failed writes moved credits: alice has %d", w.available(t, "alice"))
	}

	// Other library errors keep their code and message.
	_, err = c.GetGrant(ctx, "grt_missing")
	_, lerr = w.l.GetGrant(ctx, "grt_missing")
	sameError(t, "missing grant", err, lerr)
	if !errors.Is(err, creditkit.ErrNotFound) {
		t.Errorf("missing grant: %v is not ErrNotFound", err)
	}
	_, err = c.GetHold(ctx, "hold_missing")
	_, lerr = w.l.GetHold(ctx, "hold_missing")
	sameError(t, "missing hold", err, lerr)
	_, err = c.Estimate(ctx, "no_such_op", nil)
	_, lerr = w.l.Estimate(ctx, "no_such_op", nil)
	sameError(t, "unknown operation", err, lerr)
	_, err = c.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": "lots"}, nil)
	_, lerr = w.l.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": "lots"}, nil)
	sameError(t, "bad params", err, lerr)
	_, err = c.Check(ctx, "alice", "process_image", nil)
	_, lerr = w.l.Check(ctx, "alice", "process_image", nil)
	sameError(t, "missing params", err, lerr)
	h := noErr(c.Hold(ctx, "alice", "send_email", nil, nil))(t)
	noErr(c.Release(ctx, h.ID, nil))(t)
	_, err = c.Capture(ctx, h.ID, nil, nil)
	_, lerr = w.l.Capture(ctx, h.ID, nil, nil)
	sameError(t, "capture of a released hold", err, lerr)

	// A path segment the router would clean away never leaves the client.
	_, err = c.Balance(ctx, "..", nil)
	requireCode(t, "balance of ..", err, creditkit.CodeInvalidRequest)
	_, err = c.Grant(ctx, "", 1, nil)
	_, lerr = w.l.Grant(ctx, "", 1, nil)
	sameError(t, "grant to nobody", err, lerr)
}

func TestClientEscapesPathSegments(t *testing.T) {
	t.Parallel()
	w := newClientWorld(t)
	for _, customer := range []string{"org/42", "a?b#c", "100%", "ünïcode", "team:a@b"} {
		g := noErr(w.write.Grant(w.ctx, customer, 3, nil))(t)
		if g.Customer != customer {
			t.Errorf("grant to %q went to %q", customer, g.Customer)
		}
		sameJSON(t, "balance of "+customer, noErr(w.read.Balance(w.ctx, customer, nil))(t), noErr(w.l.Balance(w.ctx, customer, nil))(t))
		sameJSON(t, "grants of "+customer, noErr(w.read.Grants(w.ctx, customer, nil))(t), noErr(w.l.Grants(w.ctx, customer, nil))(t))
	}
}

func TestClientIdempotency(t *testing.T) {
	t.Parallel()
	w := newClientWorld(t)
	ctx, c := w.ctx, w.write

	g1 := noErr(c.Grant(ctx, "alice", 50, &creditkit.GrantOpts{IdempotencyKey: "grant-1"}))(t)
	g2 := noErr(c.Grant(ctx, "alice", 50, &creditkit.GrantOpts{IdempotencyKey: "grant-1"}))(t)
	if g1.ID != g2.ID {
		t.Errorf("replayed grant made %s, then %s; want the same grant", g1.ID, g2.ID)
	}
	if got := w.available(t, "alice"); got != 50 {
		t.Fatalf("alice has %d after a replayed grant of 50; want 50", got)
	}

	opts := &creditkit.SpendOpts{IdempotencyKey: "spend-1"}
	e1 := noErr(c.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": 2}, opts))(t)
	e2 := noErr(c.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": 2}, opts))(t)
	if e1.ID != e2.ID {
		t.Errorf("replayed spend wrote %s, then %s; want the same entry", e1.ID, e2.ID)
	}
	if got := w.available(t, "alice"); got != 38 {
		t.Errorf("alice has %d after a replayed spend of 12; want 38", got)
	}
	_, err := c.Spend(ctx, "alice", "process_image", creditkit.Params{"mb": 3}, opts)
	if !errors.Is(err, creditkit.ErrIdempotencyConflict) {
		t.Errorf("same key, other params: %v; want idempotency_conflict", err)
	}
	_, err = c.Debit(ctx, "alice", 1, &creditkit.DebitOpts{IdempotencyKey: "spend-1"})
	requireCode(t, "debit under a spend's key", err, creditkit.CodeIdempotencyConflict)

	tr1 := noErr(c.Transfer(ctx, "alice", "bob", 5, &creditkit.TransferOpts{IdempotencyKey: "tr-1"}))(t)
	tr2 := noErr(c.Transfer(ctx, "alice", "bob", 5, &creditkit.TransferOpts{IdempotencyKey: "tr-1"}))(t)
	if tr1.Out.ID != tr2.Out.ID || tr1.In.ID != tr2.In.ID {
		t.Errorf("replayed transfer wrote other entries: %s/%s, then %s/%s", tr1.Out.ID, tr1.In.ID, tr2.Out.ID, tr2.In.ID)
	}
	h1 := noErr(c.Hold(ctx, "alice", "send_email", nil, &creditkit.HoldOpts{IdempotencyKey: "hold-1"}))(t)
	h2 := noErr(c.Hold(ctx, "alice", "send_email", nil, &creditkit.HoldOpts{IdempotencyKey: "hold-1"}))(t)
	if h1.ID != h2.ID {
		t.Errorf("replayed hold placed %s, then %s", h1.ID, h2.ID)
	}
	c1 := noErr(c.Capture(ctx, h1.ID, nil, &creditkit.CaptureOpts{IdempotencyKey: "cap-1"}))(t)
	c2 := noErr(c.Capture(ctx, h1.ID, nil, &creditkit.CaptureOpts{IdempotencyKey: "cap-1"}))(t)
	if c1.ID != c2.ID {
		t.Errorf("replayed capture wrote %s, then %s", c1.ID, c2.ID)
	}
	if got := w.available(t, "alice"); got != 32 {
		t.Errorf("alice has %d after replays; want 32", got)
	}
}

func TestClientIngestEvents(t *testing.T) {
	t.Parallel()
	w := newClientWorld(t)
	ctx, c := w.ctx, w.write
	noErr(c.Grant(ctx, "alice", 30, nil))(t)
	at := time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)
	events := []httpapi.UsageEvent{
		{Customer: "alice", Operation: "send_email", IdempotencyKey: "ev-1", Timestamp: at},
		{Customer: "alice", Operation: "process_image", Params: creditkit.Params{"mb": 5}, IdempotencyKey: "ev-2", Metadata: map[string]string{"job": "x"}},
		{Customer: "bob", Operation: "send_email", IdempotencyKey: "ev-3"},
		{Customer: "alice", Operation: "no_such_op", IdempotencyKey: "ev-4"},
	}
	res := noErr(c.IngestEvents(ctx, events))(t)
	if res.Succeeded != 2 || res.Failed != 2 || len(res.Results) != 4 {
		t.Fatalf("ingest = %d ok, %d failed, %d results; want 2, 2, 4", res.Succeeded, res.Failed, len(res.Results))
	}
	for i, r := range res.Results {
		if r.Index != i || r.IdempotencyKey != events[i].IdempotencyKey {
			t.Errorf("result %d is for event %d (%s)", i, r.Index, r.IdempotencyKey)
		}
	}
	for _, i := range []int{0, 1} {
		if r := res.Results[i]; r.Err != nil || r.Entry == nil {
			t.Fatalf("event %d: %v", i, r.Err)
		}
		sameJSON(t, "ingested entry", res.Results[i].Entry, w.entry(t, "alice", res.Results[i].Entry.ID))
	}
	var ic *creditkit.InsufficientCreditsError
	if err := res.Results[2].Err; !errors.As(err, &ic) || ic.Customer != "bob" || ic.Needed != 1 || ic.Available != 0 {
		t.Errorf("event for bob: %v; want bob's insufficient credits", err)
	}
	requireCode(t, "event of an unknown operation", res.Results[3].Err, creditkit.CodeUnknownOperation)
	if got := w.available(t, "alice"); got != 14 {
		t.Fatalf("alice has %d after ingest; want 14", got)
	}

	again := noErr(c.IngestEvents(ctx, events[:2]))(t)
	for i, r := range again.Results {
		if r.Entry == nil || r.Entry.ID != res.Results[i].Entry.ID {
			t.Errorf("replayed event %d wrote a new entry", i)
		}
	}
	if got := w.available(t, "alice"); got != 14 {
		t.Errorf("alice has %d after a replayed batch; want 14", got)
	}
}

func TestClientAuthorization(t *testing.T) {
	t.Parallel()
	w := newClientWorld(t)
	ctx := w.ctx
	noErr(w.write.Grant(ctx, "alice", 10, nil))(t)
	noErr(w.write.Grant(ctx, "bob", 10, nil))(t)

	// A read key reads and cannot write; a write key cannot run admin work.
	sameJSON(t, "balance with a read key", noErr(w.read.Balance(ctx, "alice", nil))(t), noErr(w.l.Balance(ctx, "alice", nil))(t))
	_, err := w.read.Grant(ctx, "alice", 1, nil)
	requireCode(t, "grant with a read key", err, httpapi.CodeForbidden)
	_, err = w.read.Spend(ctx, "alice", "send_email", nil, nil)
	requireCode(t, "spend with a read key", err, httpapi.CodeForbidden)
	_, _, err = w.read.CreateToken(ctx, "alice", 0)
	requireCode(t, "token with a read key", err, httpapi.CodeForbidden)
	_, err = w.write.RunDue(ctx)
	requireCode(t, "run-due with a write key", err, httpapi.CodeForbidden)
	if got := w.available(t, "alice"); got != 10 {
		t.Fatalf("refused writes moved credits: alice has %d", got)
	}

	// A wrong key is unauthorized.
	bad := w.client(t, "ck_not_a_real_key")
	_, err = bad.Balance(ctx, "alice", nil)
	requireCode(t, "balance with a bad key", err, httpapi.CodeUnauthorized)
	if errors.Is(err, creditkit.ErrNotFound) {
		t.Errorf("unauthorized matches ErrNotFound")
	}

	// A customer token reads its customer's data only, and writes nothing.
	token, expires, err := w.write.CreateToken(ctx, "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := w.clock.Now().Add(httpapi.DefaultTokenTTL); !expires.Equal(want) {
		t.Errorf("token expires at %s, want %s", expires, want)
	}
	noErr(w.write.Spend(ctx, "alice", "send_email", nil, nil))(t)
	alice := w.client(t, token)
	sameJSON(t, "alice's balance", noErr(alice.Balance(ctx, "alice", nil))(t), noErr(w.l.Balance(ctx, "alice", nil))(t))
	sameJSON(t, "alice's grants", noErr(alice.Grants(ctx, "alice", nil))(t), noErr(w.l.Grants(ctx, "alice", nil))(t))
	sameJSON(t, "alice's ledger", noErr(alice.History(ctx, "alice", nil))(t), noErr(w.l.History(ctx, "alice", nil))(t))
	sameJSON(t, "alice's usage", noErr(alice.Usage(ctx, "alice", nil))(t), noErr(w.l.Usage(ctx, "alice", nil))(t))

	_, err = alice.Balance(ctx, "bob", nil)
	requireCode(t, "bob's balance with alice's token", err, httpapi.CodeForbidden)
	_, err = alice.Grants(ctx, "bob", nil)
	requireCode(t, "bob's grants with alice's token", err, httpapi.CodeForbidden)
	_, err = alice.History(ctx, "bob", nil)
	requireCode(t, "bob's ledger with alice's token", err, httpapi.CodeForbidden)
	_, err = alice.Usage(ctx, "bob", nil)
	requireCode(t, "bob's usage with alice's token", err, httpapi.CodeForbidden)
	_, err = alice.Spend(ctx, "alice", "send_email", nil, nil)
	requireCode(t, "spend with a token", err, httpapi.CodeForbidden)
	_, err = alice.Grant(ctx, "alice", 100, nil)
	requireCode(t, "grant with a token", err, httpapi.CodeForbidden)
	_, _, err = alice.CreateToken(ctx, "alice", time.Hour)
	requireCode(t, "token with a token", err, httpapi.CodeForbidden)
	if got := w.available(t, "alice"); got != 9 {
		t.Fatalf("refused writes moved credits: alice has %d", got)
	}

	// Past its expiry the token is refused.
	w.clock.Advance(httpapi.DefaultTokenTTL)
	_, err = alice.Balance(ctx, "alice", nil)
	requireCode(t, "balance with an expired token", err, httpapi.CodeUnauthorized)
}

// TestClientNonProblemErrors shows what a proxy's own error page becomes.
func TestClientNonProblemErrors(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer hs.Close()
	c, err := httpapi.NewClient(hs.URL, "ck_test", &httpapi.ClientOptions{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Balance(context.Background(), "alice", nil)
	requireCode(t, "502 from a proxy", err, creditkit.CodeInternal)
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("error %q does not name the status", err)
	}
}

func TestNewClientChecksArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, key string }{
		{"localhost:8080", "ck_x"},
		{"ftp://host", "ck_x"},
		{"http://", "ck_x"},
		{"http://host?x=1", "ck_x"},
		{"http://host", " "},
	} {
		if _, err := httpapi.NewClient(tc.url, tc.key, nil); err == nil {
			t.Errorf("NewClient(%q, %q) succeeded; want an error", tc.url, tc.key)
		}
	}
	if _, err := httpapi.NewClient("https://credits.example.com/api/", "ck_x", nil); err != nil {
		t.Errorf("a URL with a path prefix: %v", err)
	}
}

// lossyProxy stands between a client and a real server. It forwards every
// request, so the server applies each write, then fails the first `fail`
// answers of the route it watches: as a 503 outcome_unknown, as a cut
// connection, or as a 502 from a proxy. It records the Idempotency-Key of
// every attempt and the first answer the server gave.
type lossyProxy struct {
	next  http.Handler
	path  string
	fail  int
	how   string // "outcome_unknown", "cut" or "bad_gateway"
	mu    sync.Mutex
	keys  []string
	first []byte
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != p.path {
		p.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	p.mu.Lock()
	p.keys = append(p.keys, r.Header.Get("Idempotency-Key"))
	n := len(p.keys)
	if p.first == nil {
		p.first = rec.Body.Bytes()
	}
	p.mu.Unlock()
	if n <= p.fail {
		switch p.how {
		case "outcome_unknown":
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"the outcome of the write is unknown: retry with the same idempotency key","code":"outcome_unknown"}`))
		case "cut":
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case "bad_gateway":
			http.Error(w, "upstream went away", http.StatusBadGateway)
		}
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// waits records the waits a client asks for, instead of sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}

// TestClientRetriesLostAnswersOnce runs writes through a proxy that lets
// the server apply them and then loses the first two answers. The client
// retries under one generated key: the customer is charged once and the
// client returns the entry the server wrote first.
func TestClientRetriesLostAnswersOnce(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"outcome_unknown", "cut", "bad_gateway"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			proxy := &lossyProxy{path: "/v1/customers/alice/spend", fail: 2, how: how}
			w := newClientWorldBehind(t, func(h http.Handler) http.Handler { proxy.next = h; return proxy })
			if _, err := w.l.Grant(w.ctx, "alice", 100, nil); err != nil {
				t.Fatal(err)
			}
			var ws waits
			c, err := httpapi.NewClient(w.url, w.key(t, store.ScopeWrite), &httpapi.ClientOptions{RetryBaseDelay: time.Millisecond, Wait: ws.wait})
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.Spend(w.ctx, "alice", "process_image", creditkit.Params{"mb": 5}, nil)
			if err != nil {
				t.Fatalf("spend through a lossy proxy: %v", err)
			}

			// Exactly one charge.
			if got := w.available(t, "alice"); got != 85 {
				t.Fatalf("alice has %d credits; want 85: one charge of 15", got)
			}
			charges, err := w.l.History(w.ctx, "alice", &creditkit.HistoryFilter{Category: creditkit.CategoryOperationCharge})
			if err != nil {
				t.Fatal(err)
			}
			if len(charges) != 1 {
				t.Fatalf("%d charges in the ledger; want 1", len(charges))
			}
			// The same entry: the one the server wrote on the first attempt.
			var first creditkit.Entry
			if err := json.Unmarshal(proxy.first, &first); err != nil {
				t.Fatalf("the server's first answer: %v: %s", err, proxy.first)
			}
			if e.ID != first.ID || e.ID != charges[0].ID {
				t.Fatalf("the client returned %s; the server wrote %s first, the ledger has %s", e.ID, first.ID, charges[0].ID)
			}
			// One key, generated by the client, on every attempt.
			keys := proxy.keys
			if len(keys) != 3 || !strings.HasPrefix(keys[0], "ck-") || keys[1] != keys[0] || keys[2] != keys[0] {
				t.Fatalf("attempts carried keys %q; want 3 attempts under one generated key", keys)
			}
			if charges[0].IdempotencyKey != keys[0] {
				t.Fatalf("the entry's key is %q; want %q", charges[0].IdempotencyKey, keys[0])
			}
			// A Retry-After of 0 is honoured; otherwise the backoff grows.
			got := ws.all()
			if len(got) != 2 {
				t.Fatalf("waits %v; want 2", got)
			}
			if how == "outcome_unknown" && (got[0] != 0 || got[1] != 0) {
				t.Fatalf("waits %v; want the server's Retry-After: 0", got)
			}
			if how != "outcome_unknown" && (got[0] < 500*time.Microsecond || got[0] > time.Millisecond || got[1] < time.Millisecond || got[1] > 2*time.Millisecond) {
				t.Fatalf("waits %v; want about 1ms then about 2ms, with jitter", got)
			}
		})
	}
}

// TestClientRetriesGrantUnderCallerKey: a caller's own key is the one
// every attempt carries, and a lost grant answer gives one grant.
func TestClientRetriesGrantUnderCallerKey(t *testing.T) {
	t.Parallel()
	proxy := &lossyProxy{path: "/v1/customers/bob/grants", fail: 1, how: "cut"}
	w := newClientWorldBehind(t, func(h http.Handler) http.Handler { proxy.next = h; return proxy })
	var ws waits
	c, err := httpapi.NewClient(w.url, w.key(t, store.ScopeWrite), &httpapi.ClientOptions{Wait: ws.wait})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.Grant(w.ctx, "bob", 40, &creditkit.GrantOpts{IdempotencyKey: "grant-bob-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.available(t, "bob"); got != 40 {
		t.Fatalf("bob has %d; want 40", got)
	}
	if !slices.Equal(proxy.keys, []string{"grant-bob-1", "grant-bob-1"}) {
		t.Fatalf("keys %q", proxy.keys)
	}
	var first creditkit.Grant
	if err := json.Unmarshal(proxy.first, &first); err != nil || first.ID != g.ID {
		t.Fatalf("client returned %s; the server wrote %s (%v)", g.ID, first.ID, err)
	}
	if d := ws.all(); len(d) != 1 || d[0] < httpapi.DefaultRetryBaseDelay/2 || d[0] > httpapi.DefaultRetryBaseDelay {
		t.Fatalf("waits %v; want one of about %s", d, httpapi.DefaultRetryBaseDelay)
	}
}

// TestClientRetryBounds: retries stop after MaxRetries, honour
// Retry-After, give up on a Retry-After longer than RetryMaxDelay, and
// never happen on a 4xx.
func TestClientRetryBounds(t *testing.T) {
	t.Parallel()
	type answer struct {
		status     int
		retryAfter string
		code       string
	}
	serve := func(t *testing.T, a answer) (*httptest.Server, *atomic.Int32, *[]string) {
		var calls atomic.Int32
		var mu sync.Mutex
		var keys []string
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			mu.Lock()
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/problem+json")
			if a.retryAfter != "" {
				w.Header().Set("Retry-After", a.retryAfter)
			}
			w.WriteHeader(a.status)
			_, _ = w.Write([]byte(`{"title":"x","status":` + strconv.Itoa(a.status) + `,"detail":"stand-in","code":"` + a.code + `"}`))
		}))
		t.Cleanup(hs.Close)
		return hs, &calls, &keys
	}
	for _, tc := range []struct {
		name       string
		answer     answer
		maxRetries int
		calls      int32
		waits      []time.Duration
		code       creditkit.ErrorCode
	}{
		{"overloaded, Retry-After honoured", answer{503, "1", "overloaded"}, 0, 3, []time.Duration{time.Second, time.Second}, creditkit.CodeOverloaded},
		{"outcome unknown, three retries", answer{503, "2", "outcome_unknown"}, 3, 4, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, creditkit.CodeOutcomeUnknown},
		{"Retry-After past the cap", answer{503, "60", "overloaded"}, 0, 1, nil, creditkit.CodeOverloaded},
		{"retries disabled", answer{500, "", "internal"}, -1, 1, nil, creditkit.CodeInternal},
		{"402 is final", answer{402, "", "insufficient_credits"}, 0, 1, nil, creditkit.CodeInsufficientCredits},
		{"409 is final", answer{409, "", "idempotency_conflict"}, 0, 1, nil, creditkit.CodeIdempotencyConflict},
		{"422 is final", answer{422, "1", "invalid_params"}, 0, 1, nil, creditkit.CodeInvalidParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hs, calls, keys := serve(t, tc.answer)
			var ws waits
			c, err := httpapi.NewClient(hs.URL, "ck_test", &httpapi.ClientOptions{MaxRetries: tc.maxRetries, Wait: ws.wait})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Spend(context.Background(), "alice", "send_email", nil, &creditkit.SpendOpts{IdempotencyKey: "k1"})
			requireCode(t, "spend", err, tc.code)
			if n := calls.Load(); n != tc.calls {
				t.Errorf("%d requests; want %d", n, tc.calls)
			}
			if got := ws.all(); !slices.Equal(got, tc.waits) {
				t.Errorf("waits %v; want %v", got, tc.waits)
			}
			for _, k := range *keys {
				if k != "k1" {
					t.Errorf("an attempt carried key %q; want k1", k)
				}
			}
		})
	}

	t.Run("a cancelled wait ends the retries", func(t *testing.T) {
		t.Parallel()
		hs, calls, _ := serve(t, answer{503, "", "overloaded"})
		ctx, cancel := context.WithCancel(context.Background())
		c, err := httpapi.NewClient(hs.URL, "ck_test", &httpapi.ClientOptions{Wait: func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Spend(ctx, "alice", "send_email", nil, nil)
		requireCode(t, "spend", err, creditkit.CodeOverloaded)
		if n := calls.Load(); n != 1 {
			t.Errorf("%d requests; want 1", n)
		}
	})

	t.Run("reads are retried on network errors, without a key", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		var accepted atomic.Int32
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				conn.Close()
			}
		}()
		var ws waits
		c, err := httpapi.NewClient("http://"+ln.Addr().String(), "ck_test", &httpapi.ClientOptions{Wait: ws.wait})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Balance(context.Background(), "alice", nil)
		if err == nil || creditkit.ErrorCodeOf(err) != creditkit.CodeInternal {
			t.Fatalf("balance from a server that hangs up: %v", err)
		}
		if n := accepted.Load(); n < 3 {
			t.Errorf("%d connections; want 3 attempts", n)
		}
		if got := len(ws.all()); got != 2 {
			t.Errorf("%d waits; want 2", got)
		}
	})
}
