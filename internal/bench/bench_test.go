package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// openLedger opens a ledger on a fresh SQLite file with send_email priced at
// one credit.
func openLedger(t *testing.T, writes creditkit.WriteConfig) *creditkit.Ledger {
	t.Helper()
	cfg := creditkit.DefaultConfig()
	if err := cfg.AddOperation("send_email", "1 credit"); err != nil {
		t.Fatal(err)
	}
	cfg.Writes = writes
	l, err := creditkit.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "bench.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func TestRunOnSQLite(t *testing.T) {
	l := openLedger(t, creditkit.WriteConfig{})
	res, err := Run(context.Background(), Options{
		Target: l, Callers: 4, Customers: 10, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified {
		t.Fatalf("ledger check failed: %s", res.VerifyMessage)
	}
	if res.Spends <= 0 || res.SpendsPerSec <= 0 {
		t.Fatalf("no spends measured: %+v", res)
	}
	if !(res.P50 > 0 && res.P50 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) {
		t.Fatalf("spend percentiles out of order: p50 %s p99 %s p999 %s max %s", res.P50, res.P99, res.P999, res.Max)
	}
	if res.Reads <= 0 || !(res.ReadP50 > 0 && res.ReadP50 <= res.ReadP99 && res.ReadP99 <= res.ReadP999) {
		t.Fatalf("read phase: %d reads, p50 %s p99 %s p999 %s", res.Reads, res.ReadP50, res.ReadP99, res.ReadP999)
	}
	if res.TotalErrors() != 0 || res.Overloaded != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	if res.Acknowledged < res.Spends {
		t.Fatalf("acknowledged %d < measured %d", res.Acknowledged, res.Spends)
	}
	if !strings.Contains(res.VerifyMessage, fmt.Sprintf("%d charges", res.Acknowledged)) {
		t.Fatalf("verify message does not count the charges: %s", res.VerifyMessage)
	}
}

func TestRunReadMix(t *testing.T) {
	l := openLedger(t, creditkit.WriteConfig{})
	res, err := Run(context.Background(), Options{
		Target: l, Callers: 4, Customers: 5, Duration: 150 * time.Millisecond, ReadMix: 0.5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Spends == 0 || res.Reads == 0 {
		t.Fatalf("mixed run: verified %v, %d spends, %d reads: %s", res.Verified, res.Spends, res.Reads, res.VerifyMessage)
	}
	if res.ReadDuration != res.Duration {
		t.Fatalf("mixed reads were measured over %s, spends over %s", res.ReadDuration, res.Duration)
	}
}

func TestRunCountsErrorsByCode(t *testing.T) {
	l := openLedger(t, creditkit.WriteConfig{})
	// Seed 3 credits each: the wallets run dry and later spends fail with
	// insufficient_credits, which the ledger check must still accept.
	res, err := Run(context.Background(), Options{
		Target: l, Callers: 2, Customers: 2, Duration: 150 * time.Millisecond, SeedAmount: 3, NoReads: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors[string(creditkit.CodeInsufficientCredits)] == 0 {
		t.Fatalf("want insufficient_credits errors, got %v", res.Errors)
	}
	if !res.Verified {
		t.Fatalf("ledger check failed: %s", res.VerifyMessage)
	}
	if res.Reads != 0 || res.ReadsPerSec != 0 {
		t.Fatalf("NoReads still read: %d", res.Reads)
	}
	if got := FormatErrors(res.Errors); !strings.Contains(got, "insufficient_credits=") {
		t.Fatalf("FormatErrors = %q", got)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	l := openLedger(t, creditkit.WriteConfig{})
	for _, o := range []Options{
		{},
		{Target: l, Callers: -1},
		{Target: l, ReadMix: 1.5},
		{Target: l, Duration: -time.Second},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) succeeded", o)
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	l := openLedger(t, creditkit.WriteConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Options{Target: l, Callers: 2, Customers: 2, Duration: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled run took %s", time.Since(start))
	}
}

// fakeLedger is an in-memory Target whose bugs the tests choose, to prove
// the ledger check catches them.
type fakeLedger struct {
	mu      sync.Mutex
	entries map[string][]*creditkit.Entry
	balance map[string]creditkit.Amount
	seq     int
	// loseEvery, if set, makes every n-th spend write its entry but forget
	// to take the credit from the balance (a lost update).
	loseEvery int
	// phantom makes spends succeed without writing anything.
	phantom bool
	// negative makes Balance report a negative wallet, consistently with
	// its entries.
	negative bool
	spends   int
}

func newFake() *fakeLedger {
	return &fakeLedger{entries: map[string][]*creditkit.Entry{}, balance: map[string]creditkit.Amount{}}
}

func (f *fakeLedger) add(customer, category string, amount creditkit.Amount) *creditkit.Entry {
	f.seq++
	e := &creditkit.Entry{ID: fmt.Sprintf("ent_%08d", f.seq), Customer: customer, Category: category, Amount: amount}
	e.BalanceAfter = amount
	if prev := f.entries[customer]; len(prev) > 0 {
		e.BalanceAfter += prev[len(prev)-1].BalanceAfter
	}
	f.entries[customer] = append(f.entries[customer], e)
	return e
}

func (f *fakeLedger) Grant(_ context.Context, customer string, amount creditkit.Amount, _ *creditkit.GrantOpts) (*creditkit.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.add(customer, "bench_seed", amount)
	f.balance[customer] += amount
	return &creditkit.Grant{Customer: customer, Amount: amount, Remaining: amount}, nil
}

func (f *fakeLedger) Spend(_ context.Context, customer, _ string, _ creditkit.Params, _ *creditkit.SpendOpts) (*creditkit.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spends++
	if f.phantom {
		return &creditkit.Entry{Customer: customer, Amount: -1}, nil
	}
	e := f.add(customer, creditkit.CategoryOperationCharge, -1)
	if f.loseEvery == 0 || f.spends%f.loseEvery != 0 {
		f.balance[customer]--
	}
	return e, nil
}

func (f *fakeLedger) Balance(_ context.Context, customer string, _ *creditkit.BalanceOpts) (*creditkit.Balance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &creditkit.Balance{Customer: customer, Available: f.balance[customer]}
	if f.negative {
		b.Available, b.Held = -5, 5+f.balance[customer]
	}
	return b, nil
}

func (f *fakeLedger) History(_ context.Context, customer string, hf *creditkit.HistoryFilter) ([]*creditkit.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := f.entries[customer]
	start := 0
	if hf.After != "" {
		start = slices.IndexFunc(all, func(e *creditkit.Entry) bool { return e.ID == hf.After }) + 1
	}
	end := min(len(all), start+hf.Limit)
	return slices.Clone(all[start:end]), nil
}

func TestRunOnHealthyFake(t *testing.T) {
	f := newFake()
	res, err := Run(context.Background(), Options{Target: f, Callers: 4, Customers: 3, Duration: 100 * time.Millisecond, NoReads: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified {
		t.Fatalf("healthy fake failed the check: %s", res.VerifyMessage)
	}
	// Thousands of entries per customer: the check pages through them.
	if n := len(f.entries[CustomerID(DefaultPrefix, 0)]); n <= historyPage {
		t.Logf("only %d entries for one customer; paging not exercised", n)
	}
}

func TestRunCatchesLostUpdate(t *testing.T) {
	f := newFake()
	f.loseEvery = 7
	res, err := Run(context.Background(), Options{Target: f, Callers: 4, Customers: 3, Duration: 50 * time.Millisecond, NoReads: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified || !strings.Contains(res.VerifyMessage, "entries sum to") {
		t.Fatalf("lost updates went unnoticed: %s", res.VerifyMessage)
	}
}

func TestRunCatchesPhantomSpends(t *testing.T) {
	f := newFake()
	f.phantom = true
	res, err := Run(context.Background(), Options{Target: f, Callers: 2, Customers: 3, Duration: 20 * time.Millisecond, NoReads: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified || !strings.Contains(res.VerifyMessage, "acknowledged") {
		t.Fatalf("acknowledged spends with no entry went unnoticed: %s", res.VerifyMessage)
	}
}

func TestVerifyCatchesNegativeWallet(t *testing.T) {
	f := newFake()
	f.negative = true
	ctx := context.Background()
	if _, err := f.Grant(ctx, "a", 10, nil); err != nil {
		t.Fatal(err)
	}
	v, err := Verify(ctx, f, []string{"a"}, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || !strings.Contains(v.Message, "negative") {
		t.Fatalf("negative wallet went unnoticed: %s", v.Message)
	}
}

func TestVerifyPagesHistory(t *testing.T) {
	f := newFake()
	ctx := context.Background()
	if _, err := f.Grant(ctx, "a", 5000, nil); err != nil {
		t.Fatal(err)
	}
	for range 2500 {
		if _, err := f.Spend(ctx, "a", "send_email", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	v, err := Verify(ctx, f, []string{"a"}, 2500, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Entries != 2501 || v.Charges != 2500 {
		t.Fatalf("verify = %+v", v)
	}
	// The same ledger with one spend more acknowledged than recorded fails.
	if v, _ := Verify(ctx, f, []string{"a"}, 2501, 0); v.OK {
		t.Fatal("missing charge went unnoticed")
	}
	// ... unless that spend's outcome was never learnt.
	if v, _ := Verify(ctx, f, []string{"a"}, 2499, 1); !v.OK {
		t.Fatalf("ambiguous spend not allowed for: %s", v.Message)
	}
}

func TestFill(t *testing.T) {
	l := openLedger(t, creditkit.WriteConfig{})
	ctx := context.Background()
	res, err := Fill(ctx, l, FillOptions{Entries: 300, Customers: 3, Callers: 16})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 300 || res.Customers != 3 {
		t.Fatalf("fill = %+v", res)
	}
	customers := []string{CustomerID("fill-", 0), CustomerID("fill-", 1), CustomerID("fill-", 2)}
	v, err := Verify(ctx, l, customers, 297, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Entries != 300 {
		t.Fatalf("filled ledger: %s (%d entries)", v.Message, v.Entries)
	}
}

func TestHistogramQuantilesWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var samples []time.Duration
	for range 200_000 {
		// Log-normal around 1ms, with a long tail: like commit latencies.
		d := time.Duration(math.Exp(rng.NormFloat64()*1.2) * float64(time.Millisecond))
		samples = append(samples, d)
		h.Record(d)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.01 {
			t.Errorf("q%g = %s, exact %s (%.2f%% off)", q, got, exact, rel*100)
		}
	}
	if h.Count() != int64(len(samples)) || h.Max() != samples[len(samples)-1] || h.Min() != samples[0] {
		t.Errorf("count %d max %s min %s", h.Count(), h.Max(), h.Min())
	}
	if NewHistogram().Quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 255, 256, 257, 511, 512, 1 << 20, 1<<20 + 12345, math.MaxInt64} {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if i < prev || i >= numBuckets {
			t.Errorf("bucket %d of %d out of order or range", i, v)
		}
		prev = i
		if v >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/halfCount+1e-9 {
			t.Errorf("bucket %d is %d wide at %d", i, hi-lo+1, lo)
		}
	}
}
