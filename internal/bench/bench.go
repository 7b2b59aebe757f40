// Package bench drives a creditkit ledger with concurrent callers for a fixed
// time and measures what it does: spends per second and their latency
// percentiles, balance reads per second, errors by code. Afterwards it checks
// the ledger: for every benchmarked customer the sum of its entries equals
// the balance it reports, nothing is negative, and every acknowledged spend
// left exactly one entry.
//
// The load is closed-loop: each caller sends its next request as soon as the
// previous one is answered, so the rate measured is the rate the target
// sustains with that many requests in flight.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditkit/creditkit"
)

// Target is what the benchmark drives: a *creditkit.Ledger satisfies it, and
// so can a client of the HTTP API.
type Target interface {
	// Grant gives a customer credits; the benchmark seeds its customers with it.
	Grant(ctx context.Context, customer string, amount creditkit.Amount, opts *creditkit.GrantOpts) (*creditkit.Grant, error)
	// Spend charges a customer for an operation.
	Spend(ctx context.Context, customer, operation string, params creditkit.Params, opts *creditkit.SpendOpts) (*creditkit.Entry, error)
	// Balance reads a customer's balance.
	Balance(ctx context.Context, customer string, opts *creditkit.BalanceOpts) (*creditkit.Balance, error)
	// History lists a customer's entries a page at a time; the ledger check
	// reads it.
	History(ctx context.Context, customer string, f *creditkit.HistoryFilter) ([]*creditkit.Entry, error)
}

// Defaults for Options.
const (
	DefaultCallers   = 64
	DefaultCustomers = 1000
	DefaultDuration  = 10 * time.Second
	DefaultOperation = "send_email"
	DefaultPrefix    = "bench-"
	// DefaultSeedAmount is what each customer is granted before the run:
	// enough that no realistic run drains a wallet.
	DefaultSeedAmount creditkit.Amount = 1_000_000_000_000
)

// overloadBackoff is how long a caller waits after an overloaded error
// before its next request, as a client honouring Retry-After would, instead
// of spinning on a full queue.
const overloadBackoff = time.Millisecond

// Options describe one benchmark run. Zero fields take the defaults.
type Options struct {
	// Target is the ledger to drive. Required.
	Target Target
	// Callers is the number of concurrent closed-loop callers. Defaults to 64.
	Callers int
	// Customers is how many customers the callers spread over, picked at
	// random. Defaults to 1000.
	Customers int
	// Duration is how long spends are measured, and then balance reads.
	// Defaults to 10s.
	Duration time.Duration
	// Warmup runs the same load before each measured phase without
	// recording it. Zero means none.
	Warmup time.Duration
	// Operation is what each spend charges. Defaults to "send_email", which
	// the config must price (1 credit in the benchmark config).
	Operation string
	// ReadMix, between 0 and 1, makes that fraction of the requests of the
	// spend phase balance reads instead of spends, and skips the separate
	// read phase. Zero (the default) measures spends alone, then reads alone
	// for the same duration.
	ReadMix float64
	// NoReads skips the read phase (when ReadMix is zero).
	NoReads bool
	// Prefix starts every customer ID, so that runs sharing a database do
	// not share customers. Defaults to "bench-".
	Prefix string
	// SeedAmount is granted to each customer before the run. Defaults to
	// DefaultSeedAmount.
	SeedAmount creditkit.Amount
	// Seed makes the customer picks reproducible. Zero means 1.
	Seed uint64
}

// Result is what one run measured.
type Result struct {
	Callers   int
	Customers int
	Operation string
	ReadMix   float64
	// Duration is the measured time of the spend phase (without warmup).
	Duration time.Duration
	// SeedTime is how long seeding the customers took (not measured).
	SeedTime time.Duration

	// Spends is the number of spends that succeeded in the measured window.
	Spends int64
	// SpendsPerSec is Spends over Duration.
	SpendsPerSec float64
	// P50, P99, P999 and Max are the latencies of successful spends.
	P50, P99, P999, Max time.Duration
	// Mean is the average latency of successful spends.
	Mean time.Duration
	// Errors counts failed spends of the measured window by error code.
	Errors map[string]int64
	// Overloaded is Errors["overloaded"]: spends refused by admission
	// control.
	Overloaded int64

	// Reads is the number of balance reads that succeeded in the measured
	// read window (or in the spend window with ReadMix).
	Reads int64
	// ReadDuration is the measured time of the read phase.
	ReadDuration time.Duration
	// ReadsPerSec is Reads over ReadDuration.
	ReadsPerSec float64
	// ReadP50, ReadP99, ReadP999 are the latencies of successful reads.
	ReadP50, ReadP99, ReadP999 time.Duration
	// ReadErrors counts failed reads by error code.
	ReadErrors map[string]int64

	// Acknowledged counts every spend the target confirmed during the run,
	// warmup included; the ledger check expects exactly that many charges.
	Acknowledged int64
	// Verified reports whether the ledger check passed; VerifyMessage says
	// what it found either way.
	Verified      bool
	VerifyMessage string
	// VerifyTime is how long the ledger check took.
	VerifyTime time.Duration
}

// TotalErrors returns the number of failed spends in the measured window.
func (r *Result) TotalErrors() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// withDefaults returns o with its zero fields set, or an error when it cannot run.
func (o Options) withDefaults() (Options, error) {
	if o.Target == nil {
		return o, errors.New("bench: no target")
	}
	if o.Callers == 0 {
		o.Callers = DefaultCallers
	}
	if o.Customers == 0 {
		o.Customers = DefaultCustomers
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Operation == "" {
		o.Operation = DefaultOperation
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.SeedAmount == 0 {
		o.SeedAmount = DefaultSeedAmount
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	switch {
	case o.Callers < 0:
		return o, fmt.Errorf("bench: callers must be at least 1, not %d", o.Callers)
	case o.Customers < 0:
		return o, fmt.Errorf("bench: customers must be at least 1, not %d", o.Customers)
	case o.Duration < 0 || o.Warmup < 0:
		return o, errors.New("bench: duration and warmup must not be negative")
	case o.ReadMix < 0 || o.ReadMix > 1:
		return o, fmt.Errorf("bench: read mix must be between 0 and 1, not %g", o.ReadMix)
	case o.SeedAmount < 0:
		return o, errors.New("bench: seed amount must be positive")
	}
	return o, nil
}

// CustomerID returns the ID of the i-th benchmark customer.
func CustomerID(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }

// Run seeds the customers, measures spends, then balance reads, and checks
// the ledger. It returns an error only when the run could not take place
// (seeding failed, ctx was cancelled); failed requests are counted in the
// result, and a ledger that does not add up is reported by Result.Verified.
func Run(ctx context.Context, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	customers := make([]string, o.Customers)
	for i := range customers {
		customers[i] = CustomerID(o.Prefix, i)
	}
	res := &Result{Callers: o.Callers, Customers: o.Customers, Operation: o.Operation, ReadMix: o.ReadMix}

	start := time.Now()
	if err := seed(ctx, o.Target, customers, o.SeedAmount); err != nil {
		return nil, err
	}
	res.SeedTime = time.Since(start)

	sp, err := runPhase(ctx, o, customers, o.ReadMix, o.Seed)
	if err != nil {
		return nil, err
	}
	res.Duration = sp.window
	res.Spends = sp.spends.Count()
	res.SpendsPerSec = perSec(res.Spends, sp.window)
	res.P50, res.P99, res.P999 = sp.spends.Quantile(0.50), sp.spends.Quantile(0.99), sp.spends.Quantile(0.999)
	res.Max, res.Mean = sp.spends.Max(), sp.spends.Mean()
	res.Errors = sp.spendErrs.snapshot()
	res.Overloaded = res.Errors[string(creditkit.CodeOverloaded)]
	res.Acknowledged = sp.acked.Load()
	ambiguous := sp.ambiguous.Load()

	reads, readWindow, readErrs := sp.reads, sp.window, &sp.readErrs
	if o.ReadMix == 0 && !o.NoReads {
		rp, err := runPhase(ctx, o, customers, 1, o.Seed+1)
		if err != nil {
			return nil, err
		}
		reads, readWindow, readErrs = rp.reads, rp.window, &rp.readErrs
	}
	if o.ReadMix > 0 || !o.NoReads {
		res.Reads = reads.Count()
		res.ReadDuration = readWindow
		res.ReadsPerSec = perSec(res.Reads, readWindow)
		res.ReadP50, res.ReadP99, res.ReadP999 = reads.Quantile(0.50), reads.Quantile(0.99), reads.Quantile(0.999)
	}
	res.ReadErrors = readErrs.snapshot()

	start = time.Now()
	v, err := Verify(ctx, o.Target, customers, res.Acknowledged, ambiguous)
	res.VerifyTime = time.Since(start)
	if err != nil {
		return nil, err
	}
	res.Verified, res.VerifyMessage = v.OK, v.Message
	return res, nil
}

// perSec returns n per second of d.
func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// seed grants each customer amount, with a few concurrent callers.
func seed(ctx context.Context, t Target, customers []string, amount creditkit.Amount) error {
	return forEach(ctx, len(customers), 32, func(ctx context.Context, i int) error {
		_, err := t.Grant(ctx, customers[i], amount, &creditkit.GrantOpts{Reason: "bench_seed", Actor: "bench"})
		if err != nil {
			return fmt.Errorf("bench: seed %s: %w", customers[i], err)
		}
		return nil
	})
}

// forEach calls fn(i) for i in [0, n) on up to workers goroutines and
// returns the first error, after which it starts no new call.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// errorCounts counts errors by code; safe for concurrent use.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (e *errorCounts) add(code string) {
	e.mu.Lock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	e.m[code]++
	e.mu.Unlock()
}

func (e *errorCounts) snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// phase is what one measured phase recorded.
type phase struct {
	window           time.Duration
	spends, reads    *Histogram
	spendErrs        errorCounts
	readErrs         errorCounts
	acked, ambiguous atomic.Int64
}

// Phases of a run, in the order they happen.
const (
	stateWarmup int32 = iota
	stateMeasure
	stateDone
)

// runPhase runs o.Callers closed-loop callers for o.Warmup then o.Duration,
// each request a balance read with probability readMix, else a spend, and
// records what completed in the measured window.
func runPhase(ctx context.Context, o Options, customers []string, readMix float64, seed uint64) (*phase, error) {
	p := &phase{spends: NewHistogram(), reads: NewHistogram()}
	var (
		state atomic.Int32
		wg    sync.WaitGroup
	)
	if o.Warmup <= 0 {
		state.Store(stateMeasure)
	}
	for w := range o.Callers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for ctx.Err() == nil && state.Load() != stateDone {
				c := customers[rng.IntN(len(customers))]
				read := readMix >= 1 || (readMix > 0 && rng.Float64() < readMix)
				begin := time.Now()
				var err error
				if read {
					_, err = o.Target.Balance(ctx, c, nil)
				} else {
					_, err = o.Target.Spend(ctx, c, o.Operation, nil, nil)
				}
				took := time.Since(begin)
				if !read {
					switch {
					case err == nil:
						p.acked.Add(1)
					case ambiguousError(err):
						p.ambiguous.Add(1)
					}
				}
				if state.Load() == stateMeasure {
					switch {
					case read && err == nil:
						p.reads.Record(took)
					case read:
						p.readErrs.add(codeOf(err))
					case err == nil:
						p.spends.Record(took)
					default:
						p.spendErrs.add(codeOf(err))
					}
				}
				if err != nil && creditkit.ErrorCodeOf(err) == creditkit.CodeOverloaded {
					select {
					case <-time.After(overloadBackoff):
					case <-ctx.Done():
					}
				}
			}
		})
	}
	if err := sleep(ctx, o.Warmup); err != nil {
		state.Store(stateDone)
		wg.Wait()
		return nil, err
	}
	state.Store(stateMeasure)
	t0 := time.Now()
	err := sleep(ctx, o.Duration)
	state.Store(stateDone)
	p.window = time.Since(t0)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// codeOf names an error for the counts: its creditkit code, or "canceled".
func codeOf(err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "canceled"
	}
	return string(creditkit.ErrorCodeOf(err))
}

// ambiguousError reports whether a failed spend may still have committed:
// an internal error (a lost connection, a timeout) says nothing about the
// outcome, while a coded error means the spend was refused.
func ambiguousError(err error) bool {
	return creditkit.ErrorCodeOf(err) == creditkit.CodeInternal
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FormatErrors returns error counts as "code=n code=n", sorted by code, or
// "0" when there are none.
func FormatErrors(m map[string]int64) string {
	codes := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			codes = append(codes, k)
		}
	}
	if len(codes) == 0 {
		return "0"
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, k := range codes {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
