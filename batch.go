package creditkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditkit/creditkit/store"
)

// This file is group commit: the one write path. Every write request is
// queued on a lane; a lane's loop takes everything queued (up to MaxBatch),
// applies each request in memory against the wallets it locked once, writes
// all their rows with one store.Changes, commits once, and answers every
// caller. A lone request commits at once, so batching adds no latency at low
// load. Without batching, a request runs as a batch of one in its caller's
// goroutine: the same code either way.

// maxRetries bounds how often a batch reruns after losing a race.
const maxRetries = 8

// batchTimeout bounds one batch transaction. Callers are answered by the
// batch, not by their own context, once their request is in a batch: a
// request that may have committed is never reported as cancelled.
const batchTimeout = 60 * time.Second

// ErrClosed is returned for writes made after Close.
var ErrClosed = errors.New("creditkit: ledger is closed")

// pending is a request waiting for its batch.
type pending struct {
	ctx  context.Context
	req  *writeReq
	done chan outcome
}

type outcome struct {
	result any
	err    error
}

// committer owns the lanes of batched writes.
type committer struct {
	l        *Ledger
	lanes    []chan *pending
	maxBatch int
	quit     chan struct{}
	wg       sync.WaitGroup
	// gate is held by each batch while it drains its lane; a test holds it
	// to let requests queue in a known order and form one batch.
	gate sync.Mutex
	// submitted counts queued requests (for that test, and for metrics).
	submitted atomic.Int64
}

func newCommitter(l *Ledger, wc WriteConfig) *committer {
	lanes := wc.Lanes
	if lanes <= 0 {
		lanes = 1
		if wl, ok := l.store.(store.WriteLaner); ok {
			lanes = max(1, wl.WriteLanes())
		}
	}
	queue := wc.QueueSize
	if queue <= 0 {
		queue = 4096
	}
	maxBatch := wc.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 256
	}
	c := &committer{l: l, maxBatch: maxBatch, quit: make(chan struct{})}
	for range lanes {
		lane := make(chan *pending, queue)
		c.lanes = append(c.lanes, lane)
		c.wg.Add(1)
		go c.loop(lane)
	}
	return c
}

// submit queues a request on its lane, or fails fast when the lane is full.
func (c *committer) submit(p *pending) error {
	h := fnv.New32a()
	h.Write([]byte(p.req.route))
	lane := c.lanes[int(h.Sum32()%uint32(len(c.lanes)))]
	select {
	case <-c.quit:
		return ErrClosed
	default:
	}
	select {
	case lane <- p:
		c.submitted.Add(1)
		return nil
	default:
		return &Error{Code: CodeOverloaded, Message: fmt.Sprintf("write queue full (%d waiting): retry shortly", cap(lane))}
	}
}

// loop runs batches for one lane until the committer stops.
func (c *committer) loop(lane chan *pending) {
	defer c.wg.Done()
	for {
		var first *pending
		select {
		case first = <-lane:
		case <-c.quit:
			// Answer whatever is still queued: nothing was written for it.
			for {
				select {
				case p := <-lane:
					p.done <- outcome{err: ErrClosed}
				default:
					return
				}
			}
		}
		c.gate.Lock()
		batch := []*pending{first}
	drain:
		for len(batch) < c.maxBatch {
			select {
			case p := <-lane:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		c.gate.Unlock()
		c.l.runBatch(batch)
	}
}

// answer hands a request its outcome unless it already has one (done is
// buffered for exactly one).
func (p *pending) answer(o outcome) {
	select {
	case p.done <- o:
	default:
	}
}

// stop ends the lane loops after their current batch.
func (c *committer) stop() {
	close(c.quit)
	c.wg.Wait()
}

// exec runs one write request on the write path and returns its result.
func (l *Ledger) exec(ctx context.Context, req *writeReq) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &pending{ctx: ctx, req: req, done: make(chan outcome, 1)}
	if l.batcher == nil {
		l.runBatch([]*pending{p})
	} else if err := l.batcher.submit(p); err != nil {
		return nil, err
	}
	o := <-p.done
	return o.result, o.err
}

// errTainted aborts a batch transaction when a request failed after it had
// already changed the shared write state.
var errTainted = errors.New("creditkit: request failed after changing the batch state")

// runBatch applies a batch of requests in one transaction and answers each.
// Requests are applied in order; each one sees the effects of those before
// it. A request that fails before changing anything simply fails; one that
// fails after changing the shared state (which requests avoid by checking
// before changing) is answered with its error and the batch reruns without it.
//
// No panic below this function reaches the process: a request that panics
// while applying fails alone (the batch reruns without it), and a panic
// while writing the batch reruns each of its requests alone, so only the
// culprit fails.
func (l *Ledger) runBatch(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- outcome{err: err}
			continue
		}
		live = append(live, p)
	}
	if l.cache != nil {
		// The cache must change in step with the database: no other write
		// transaction may start between this one's commit and its save to
		// the cache. (With batching on, SQLite's single lane already runs
		// batches one at a time; unbatched callers run concurrently.)
		l.cacheMu.Lock()
		defer l.cacheMu.Unlock()
	}
	defer func() {
		// Last resort: whatever is still unanswered learns that its write
		// failed. (Requests answered before the panic keep their answer.)
		if r := recover(); r != nil {
			err := l.panicError("batch", r)
			for _, p := range live {
				p.answer(outcome{err: err})
			}
		}
	}()
	if err := l.commitBatch(live); errors.Is(err, errPanicked) || errors.Is(err, errSplit) {
		if len(live) == 1 {
			live[0].answer(outcome{err: err})
			return
		}
		// The batch as a whole panicked (while writing rows, say), or the
		// database refused its text: run each request on its own, so that
		// only the one at fault fails.
		if l.cache != nil {
			l.cache.clear()
		}
		for _, p := range live {
			if err := l.commitBatch([]*pending{p}); errors.Is(err, errPanicked) {
				p.answer(outcome{err: err})
			}
		}
	}
}

// batchIdempotency reads the stored records of the keys of a batch's
// requests (those not already failed), keyed by key.
func batchIdempotency(ctx context.Context, tx store.WriteTx, live []*pending, results []outcome) (map[string]*store.Idempotency, error) {
	var keys []string
	for i, p := range live {
		if results[i].err == nil && p.req.idemKey != "" {
			keys = append(keys, p.req.idemKey)
		}
	}
	seen := make(map[string]*store.Idempotency, len(keys))
	if len(keys) == 0 {
		return seen, nil
	}
	recs, err := tx.Idempotencies(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		seen[r.Key] = r
	}
	return seen, nil
}

// errSplit asks runBatch to run a batch's requests one by one: the
// database refused the batch for a reason that belongs to one of them.
var errSplit = errors.New("creditkit: batch to be split")

// errPanicked marks an error made from a recovered panic.
var errPanicked = errors.New("creditkit: internal error (panic) in the write path")

// panicError turns a recovered panic into an internal error for the
// caller, and logs it with its stack.
func (l *Ledger) panicError(what string, r any) error {
	l.logger.Error("recovered from a panic in the write path; the request fails, the process goes on",
		"in", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	return &Error{Code: CodeInternal, Message: "internal error while writing: nothing was written for this request",
		Err: fmt.Errorf("%w: %v", errPanicked, r)}
}

// applySafely runs one request's apply, turning a panic into an error for
// that request alone.
func (l *Ledger) applySafely(ctx context.Context, req *writeReq, w *writeState) (res any, panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, panicked, err = nil, true, l.panicError(req.kind, r)
		}
	}()
	res, err = req.apply(ctx, w)
	return res, false, err
}

// commitBatch runs live requests in one transaction, retrying lost races,
// and answers each, except on a panic outside any one request's apply: then
// it answers nobody, writes nothing and returns an error wrapping
// errPanicked, for runBatch to split the batch.
func (l *Ledger) commitBatch(live []*pending) error {
	attempt := 0
	for len(live) > 0 {
		results := make([]outcome, len(live))
		var events []Event
		var state *writeState
		tainted := -1
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		err := l.store.Update(ctx, func(ctx context.Context, tx store.WriteTx) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = l.panicError("batch", r)
				}
			}()
			for i := range results {
				results[i] = outcome{}
			}
			var keys []WalletKey
			keysOf := make([][]WalletKey, len(live))
			for i, p := range live {
				ks, err := p.req.wallets(ctx, tx)
				if err != nil {
					if ErrorCodeOf(err) == CodeInternal {
						return err
					}
					results[i].err = err
					continue
				}
				keysOf[i] = ks
				keys = append(keys, ks...)
			}
			var cache *walletCache
			if det, ok := l.store.(store.ChangeDetector); ok && l.cache != nil {
				unchanged, err := det.UnchangedSinceLastWrite(ctx, tx, l)
				if err != nil {
					return err
				}
				if !unchanged {
					l.cache.clear()
				}
				cache = l.cache
			}
			w, err := l.loadWriteState(ctx, tx, keys, cache)
			if err != nil {
				return err
			}
			state = w
			w.joinDefaultPlan(live, results)
			// Every key of the batch is looked up in one query (after the
			// wallets are locked, so a concurrent first use of a key has
			// committed or rolled back); seen then also holds the records
			// this batch writes, for a key used twice in it.
			seen, err := batchIdempotency(ctx, tx, live, results)
			if err != nil {
				return err
			}
			for i, p := range live {
				if results[i].err != nil {
					continue
				}
				req := p.req
				if req.idemKey != "" {
					rec := seen[req.idemKey]
					if rec != nil {
						if rec.Fingerprint != req.fingerprint {
							results[i].err = errorf(CodeIdempotencyConflict, "idempotency key %q was already used for a different request: use a new key for a new request", req.idemKey)
							continue
						}
						results[i].result, results[i].err = req.decode(rec.Result)
						continue
					}
				}
				mark := w.muts
				res, panicked, err := l.applySafely(ctx, req, w)
				if err != nil {
					// A panic may have left the state half changed, whatever
					// muts says: rerun the batch without the request.
					if w.muts != mark || panicked {
						tainted = i
						results[i].err = err
						return errTainted
					}
					results[i].err = err
					continue
				}
				if req.idemKey != "" {
					data, err := json.Marshal(res)
					if err != nil {
						return fmt.Errorf("encode result for idempotency: %w", err)
					}
					rec := &store.Idempotency{Key: req.idemKey, Fingerprint: req.fingerprint, Result: data, CreatedAt: w.now}
					w.changes.Idempotencies = append(w.changes.Idempotencies, rec)
					seen[req.idemKey] = rec
				}
				results[i].result = res
			}
			if err := w.finish(); err != nil {
				return err
			}
			events = w.events
			return tx.Apply(ctx, w.changes)
		})
		cancel()
		if l.cache != nil {
			if err == nil {
				l.cache.save(state)
			} else {
				// The database rolled back to what the cache holds, but be
				// certain: reload from the database next time.
				l.cache.clear()
			}
		}
		switch {
		case errors.Is(err, errPanicked):
			return err
		case errors.Is(err, errTainted):
			l.logger.Warn("write request failed after changing batch state; rerunning the batch without it", "kind", live[tainted].req.kind, "err", results[tainted].err)
			live[tainted].done <- results[tainted]
			live = append(live[:tainted:tainted], live[tainted+1:]...)
			continue
		case errors.Is(err, store.ErrRetry) && attempt < maxRetries:
			attempt++
			l.logger.Debug("write batch lost a race, retrying", "size", len(live), "attempt", attempt, "err", err)
			continue
		case errors.Is(err, store.ErrNotText) && len(live) > 1:
			// Which request's text the database refused is not known.
			return fmt.Errorf("%w: %w", errSplit, err)
		case errors.Is(err, store.ErrOutcomeUnknown):
			// The commit may or may not have happened: say so, so that the
			// caller retries with the same idempotency key instead of
			// assuming nothing was charged.
			err = &Error{Code: CodeOutcomeUnknown, Message: "the database connection failed while committing, so this write may or may not have been applied: retry it with the same idempotency key", Err: err}
			for _, p := range live {
				p.done <- outcome{err: err}
			}
			return nil
		case err != nil:
			for _, p := range live {
				p.done <- outcome{err: err}
			}
			return nil
		}
		l.publish(events)
		for i, p := range live {
			p.done <- results[i]
		}
		return nil
	}
	return nil
}
