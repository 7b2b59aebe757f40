package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditkit/creditkit"
)

// FillOptions describe pre-filling a database with ledger entries, so that
// a run measures a ledger that already holds a large history.
type FillOptions struct {
	// Entries is how many entries to write in total: one grant entry per
	// filler customer, the rest spends.
	Entries int64
	// Customers is how many filler customers share the entries. Zero means
	// one per 1000 entries, between 1 and 10,000.
	Customers int
	// Callers is how many concurrent callers write them. Defaults to 512,
	// so that group commit packs many spends in each transaction.
	Callers int
	// Operation is what the spends charge. Defaults to "send_email".
	Operation string
	// Prefix starts the filler customer IDs. Defaults to "fill-"; it must
	// differ from the benchmark's prefix so that the filler entries stay out
	// of the benchmark's ledger check.
	Prefix string
	// Progress, if set, is called about every second with the entries
	// written so far.
	Progress func(done int64, elapsed time.Duration)
}

// FillResult says what Fill wrote.
type FillResult struct {
	Customers int
	Entries   int64
	Took      time.Duration
	// PerSec is entries written per second.
	PerSec float64
}

// Fill writes o.Entries ledger entries through t: a large grant to each
// filler customer, then spends spread evenly over them. Every write is an
// ordinary ledger write, so the history is the one real traffic leaves.
func Fill(ctx context.Context, t Target, o FillOptions) (*FillResult, error) {
	if o.Entries <= 0 {
		return &FillResult{}, nil
	}
	if o.Customers <= 0 {
		o.Customers = int(min(max(o.Entries/1000, 1), 10_000))
	}
	o.Customers = int(min(int64(o.Customers), o.Entries))
	if o.Callers <= 0 {
		o.Callers = 512
	}
	if o.Operation == "" {
		o.Operation = DefaultOperation
	}
	if o.Prefix == "" {
		o.Prefix = "fill-"
	}
	start := time.Now()
	customers := make([]string, o.Customers)
	for i := range customers {
		customers[i] = CustomerID(o.Prefix, i)
	}
	if err := seed(ctx, t, customers, DefaultSeedAmount); err != nil {
		return nil, err
	}
	spends := o.Entries - int64(o.Customers)
	var done atomic.Int64
	done.Store(int64(o.Customers))
	stop := make(chan struct{})
	var reporter sync.WaitGroup
	if o.Progress != nil {
		reporter.Go(func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					o.Progress(done.Load(), time.Since(start))
				case <-stop:
					return
				}
			}
		})
	}
	err := forEach(ctx, int(spends), o.Callers, func(ctx context.Context, i int) error {
		c := customers[i%len(customers)]
		for {
			_, err := t.Spend(ctx, c, o.Operation, nil, nil)
			if err == nil {
				done.Add(1)
				return nil
			}
			if creditkit.ErrorCodeOf(err) != creditkit.CodeOverloaded {
				return fmt.Errorf("bench: fill: spend for %s: %w", c, err)
			}
			if err := sleep(ctx, overloadBackoff); err != nil {
				return err
			}
		}
	})
	close(stop)
	reporter.Wait()
	if err != nil {
		return nil, err
	}
	took := time.Since(start)
	return &FillResult{Customers: o.Customers, Entries: done.Load(), Took: took, PerSec: perSec(done.Load(), took)}, nil
}
