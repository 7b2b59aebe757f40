package creditkit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

const equivConfig = `
low_balance: 50 credits
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
`

// op is one request of a random stream. References to holds and grants are
// ordinals of the holds and grants made by earlier chunks, so both runs
// resolve them to their own IDs.
type op struct {
	kind     string
	a, b     string // customers
	amount   Amount
	param    int
	ref      int
	key      string
	reason   string
	expires  time.Duration
	captured *Amount
}

func randomStream(r *rand.Rand, chunks, perChunk int) [][]op {
	customers := []string{"ann", "ben", "cat", "dan"}
	cust := func() string { return customers[r.IntN(len(customers))] }
	reasons := []string{"signup_bonus", "subscription", "pack", "manual_adjustment"}
	var out [][]op
	keys := 0
	for range chunks {
		var chunk []op
		for range perChunk {
			o := op{a: cust(), b: cust(), amount: Amount(1 + r.IntN(40)), param: r.IntN(8), ref: r.IntN(50)}
			switch r.IntN(10) {
			case 0, 1:
				o.kind = "grant"
				o.reason = reasons[r.IntN(len(reasons))]
				if r.IntN(2) == 0 {
					o.expires = time.Duration(1+r.IntN(6)) * time.Hour
				}
			case 2, 3:
				o.kind = "spend"
			case 4:
				o.kind = "debit"
			case 5:
				o.kind = "hold"
			case 6:
				o.kind = "capture"
				if r.IntN(2) == 0 {
					c := Amount(r.IntN(30))
					o.captured = &c
				}
			case 7:
				o.kind = "release"
			case 8:
				o.kind = "transfer"
			default:
				o.kind = "void"
			}
			// Some requests carry idempotency keys, some reuse an earlier one
			// (a replay when the request matches, a conflict when not).
			switch r.IntN(6) {
			case 0:
				keys++
				o.key = "k" + strconv.Itoa(keys)
			case 1:
				if keys > 0 {
					o.key = "k" + strconv.Itoa(1+r.IntN(keys))
				}
			}
			chunk = append(chunk, o)
		}
		out = append(out, chunk)
	}
	return out
}

// run is one ledger executing a stream, recording a normalized transcript.
type run struct {
	l      *Ledger
	holds  []string
	grants []string
	ids    map[string]string // real ID -> ordinal name
}

func (rn *run) name(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := rn.ids[id]; ok {
		return n
	}
	n := fmt.Sprintf("#%d", len(rn.ids))
	rn.ids[id] = n
	return n
}

func pick(list []string, i int) string {
	if len(list) == 0 {
		return "missing"
	}
	return list[i%len(list)]
}

// do executes one op and describes its outcome without run-specific IDs.
func (rn *run) do(ctx context.Context, o op) string {
	res, err := rn.exec(ctx, o)
	return rn.outcome(o, res, err)
}

// outcome describes a result; it names IDs, so call it in request order.
func (rn *run) outcome(o op, res any, err error) string {
	if err != nil {
		return fmt.Sprintf("%s error %s", o.kind, ErrorCodeOf(err))
	}
	return o.kind + " " + rn.describe(res)
}

// exec executes one op.
func (rn *run) exec(ctx context.Context, o op) (any, error) {
	l := rn.l
	var (
		res any
		err error
	)
	switch o.kind {
	case "grant":
		res, err = l.Grant(ctx, o.a, o.amount, &GrantOpts{Reason: o.reason, ExpiresIn: o.expires, IdempotencyKey: o.key})
	case "spend":
		res, err = l.Spend(ctx, o.a, "process_image", Params{"mb": o.param}, &SpendOpts{IdempotencyKey: o.key})
	case "debit":
		res, err = l.Debit(ctx, o.a, o.amount, &DebitOpts{IdempotencyKey: o.key})
	case "hold":
		res, err = l.Hold(ctx, o.a, "", nil, &HoldOpts{Amount: &o.amount, TTL: 90 * time.Minute, IdempotencyKey: o.key})
	case "capture":
		res, err = l.Capture(ctx, pick(rn.holds, o.ref), o.captured, &CaptureOpts{IdempotencyKey: o.key})
	case "release":
		res, err = l.Release(ctx, pick(rn.holds, o.ref), &CaptureOpts{IdempotencyKey: o.key})
	case "transfer":
		res, err = l.Transfer(ctx, o.a, o.b, o.amount, &TransferOpts{IdempotencyKey: o.key})
	case "void":
		res, err = l.Void(ctx, pick(rn.grants, o.ref), &VoidOpts{IdempotencyKey: o.key})
	}
	return res, err
}

// describe prints a result with IDs replaced by ordinals of first sight.
func (rn *run) describe(res any) string {
	switch v := res.(type) {
	case *Grant:
		return fmt.Sprintf("grant %s %d/%d %s p%d %s", rn.name(v.ID), v.Remaining, v.Amount, v.Reason, v.Priority, v.Status)
	case *Entry:
		s := fmt.Sprintf("entry %s %s %d after %d", rn.name(v.ID), v.Category, v.Amount, v.BalanceAfter)
		for _, a := range v.Allocations {
			s += fmt.Sprintf(" %s:%d", rn.name(a.GrantID), a.Amount)
		}
		return s
	case *Hold:
		return fmt.Sprintf("hold %s %d captured %d %s", rn.name(v.ID), v.Amount, v.Captured, v.Status)
	case *TransferResult:
		s := rn.describe(v.Out) + " / " + rn.describe(v.In)
		for _, g := range v.Grants {
			s += " / " + rn.describe(g)
		}
		return s
	}
	return fmt.Sprintf("%T", res)
}

// collect remembers the holds and grants a chunk made, for later references.
func (rn *run) collect(ctx context.Context, t *testing.T) {
	for _, c := range []string{"ann", "ben", "cat", "dan"} {
		gs, err := rn.l.Grants(ctx, c, &GrantFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if !containsString(rn.grants, g.ID) {
				rn.grants = append(rn.grants, g.ID)
			}
		}
	}
	var holds []string
	err := rn.l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		for _, c := range []string{"ann", "ben", "cat", "dan"} {
			hs, err := tx.HoldsAt(ctx, walletKey(c, "credits"), rn.l.Now())
			if err != nil {
				return err
			}
			for _, h := range hs {
				holds = append(holds, h.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(holds)
	for _, h := range holds {
		if !containsString(rn.holds, h) {
			rn.holds = append(rn.holds, h)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ledgerState describes every customer's balance, history and grants.
func (rn *run) ledgerState(ctx context.Context, t *testing.T) []string {
	var out []string
	for _, c := range []string{"ann", "ben", "cat", "dan"} {
		b, err := rn.l.Balance(ctx, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s available %d held %d", c, b.Available, b.Held))
		hist, err := rn.l.History(ctx, c, &HistoryFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hist {
			out = append(out, c+" "+rn.describe(e))
		}
		gs, err := rn.l.Grants(ctx, c, &GrantFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			out = append(out, c+" "+rn.describe(g))
		}
	}
	return out
}

func openEquivLedger(t *testing.T, s store.Store, clock Clock, batching bool) *Ledger {
	cfg, err := ParseConfig("equiv.yaml", []byte(equivConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = clock
	cfg.Writes = WriteConfig{NoBatching: !batching, Lanes: 1, MaxBatch: 1000}
	l, err := New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestBatchingNeverChangesAnOutcome runs one random request stream twice:
// one commit per request, and in batches (every chunk queued in order and
// committed as one transaction). Every response and the final ledger must be
// the same.
func TestBatchingNeverChangesAnOutcome(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "equiv.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			s, err := postgres.Open(context.Background(), pgtest.NewDatabaseURL(t, cluster), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			seed := uint64(time.Now().UnixNano())
			if s := os.Getenv("CREDITKIT_EQUIV_SEED"); s != "" {
				seed, _ = strconv.ParseUint(s, 10, 64)
			}
			t.Logf("seed %d (rerun with CREDITKIT_EQUIV_SEED=%d)", seed, seed)
			stream := randomStream(rand.New(rand.NewPCG(seed, 7)), 12, 40)
			ctx := context.Background()
			start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			one := &run{l: openEquivLedger(t, newStore(t), NewManualClock(start), false), ids: map[string]string{}}
			clockB := NewManualClock(start)
			many := &run{l: openEquivLedger(t, newStore(t), clockB, true), ids: map[string]string{}}
			clockA := one.l.clock.(*ManualClock)
			for ci, chunk := range stream {
				want := make([]string, len(chunk))
				for i, o := range chunk {
					want[i] = one.do(ctx, o)
				}
				got := runChunkAsOneBatch(t, many, chunk)
				for i := range chunk {
					if got[i] != want[i] {
						t.Fatalf("chunk %d request %d (%+v):\n  one by one: %s\n  batched:    %s", ci, i, chunk[i], want[i], got[i])
					}
				}
				one.collect(ctx, t)
				many.collect(ctx, t)
				clockA.Advance(40 * time.Minute)
				clockB.Advance(40 * time.Minute)
			}
			if a, b := one.ledgerState(ctx, t), many.ledgerState(ctx, t); !reflect.DeepEqual(a, b) {
				for i := range min(len(a), len(b)) {
					if a[i] != b[i] {
						t.Fatalf("final ledgers differ at line %d:\n  one by one: %s\n  batched:    %s", i, a[i], b[i])
					}
				}
				t.Fatalf("final ledgers differ in length: %d vs %d lines", len(a), len(b))
			}
		})
	}
}

// runChunkAsOneBatch queues a chunk's requests in order behind the lane's
// gate, then lets them commit as one batch, and returns their outcomes.
func runChunkAsOneBatch(t *testing.T, rn *run, chunk []op) []string {
	t.Helper()
	results := make([]any, len(chunk))
	errs := make([]error, len(chunk))
	calls := make([]func(), len(chunk))
	for i, o := range chunk {
		calls[i] = func() { results[i], errs[i] = rn.exec(context.Background(), o) }
	}
	queueAsOneBatch(t, rn.l.batcher, calls)
	out := make([]string, len(chunk))
	for i := range chunk {
		out[i] = rn.outcome(chunk[i], results[i], errs[i])
	}
	return out
}

// queueAsOneBatch runs calls (each one write) so that they queue on the
// lane in order and commit as one batch, and returns when all are done.
func queueAsOneBatch(t *testing.T, c *committer, calls []func()) {
	t.Helper()
	finished := make([]chan struct{}, len(calls))
	// Park the lane: the first request is taken out of the queue and waits
	// at the gate, the rest queue behind it in submission order.
	c.gate.Lock()
	for i, call := range calls {
		before := c.submitted.Load()
		finished[i] = make(chan struct{})
		go func() {
			defer close(finished[i])
			call()
		}()
		// Wait until this request is queued, or was refused before reaching
		// the queue, before submitting the next.
		deadline := time.After(10 * time.Second)
		for c.submitted.Load() == before {
			select {
			case <-finished[i]:
			case <-deadline:
				c.gate.Unlock()
				t.Fatalf("request %d neither queued nor finished", i)
			case <-time.After(20 * time.Microsecond):
				continue
			}
			break
		}
	}
	c.gate.Unlock()
	for _, f := range finished {
		<-f
	}
}

// Past a lane's bounded queue, writes fail fast with the overloaded code
// instead of waiting forever; none of them moves a credit, and the queued
// ones all commit once the lane drains.
func TestFullQueueFailsFastWithOverloaded(t *testing.T) {
	t.Parallel()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg, err := ParseConfig("q.yaml", []byte(equivConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Writes = WriteConfig{QueueSize: 4, Lanes: 1}
	l, err := New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Grant(ctx, "ann", 100, nil); err != nil {
		t.Fatal(err)
	}
	c := l.batcher
	c.gate.Lock() // the lane stops draining
	results := make(chan error, 10)
	debit := func() {
		_, err := l.Debit(ctx, "ann", 1, nil)
		results <- err
	}
	// The first request is taken off the queue and waits at the gate
	// before the others arrive, so exactly four fit in the queue.
	before := c.submitted.Load()
	go debit()
	for c.submitted.Load() == before || len(c.lanes[0]) > 0 {
		time.Sleep(time.Millisecond)
	}
	for range 9 {
		go debit()
	}
	// One request waits at the gate, four fill the queue, five are refused.
	var overloaded int
	for overloaded < 5 {
		select {
		case err := <-results:
			if ErrorCodeOf(err) != CodeOverloaded {
				c.gate.Unlock()
				t.Fatalf("refused write: %v, want code overloaded", err)
			}
			overloaded++
		case <-time.After(10 * time.Second):
			c.gate.Unlock()
			t.Fatalf("only %d writes refused while the queue was full", overloaded)
		}
	}
	c.gate.Unlock()
	for range 5 {
		if err := <-results; err != nil {
			t.Fatalf("queued write failed: %v", err)
		}
	}
	bal, err := l.Balance(ctx, "ann", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != 95 {
		t.Fatalf("balance %d, want 95: exactly the 5 accepted debits moved credits", bal.Available)
	}
}
