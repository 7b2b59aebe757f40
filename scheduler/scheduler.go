// Package scheduler runs creditkit's due work on a ticker: the expiry sweep
// and stale holds (Ledger.RunDue), notices of grants about to expire, and
// webhook dispatch and delivery. Several processes may run it on one
// database: every job claims its items, so none is done twice.
package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// Options configure a Scheduler. Zero fields mean defaults.
type Options struct {
	// Interval is the time between rounds. Defaults to one second.
	Interval time.Duration
	// ExpiringLead sends credits.grant.expiring this long before a grant
	// expires. Zero sends none.
	ExpiringLead time.Duration
	// Notices records which grants were sent credits.grant.expiring; it is
	// needed when ExpiringLead is set.
	Notices store.ExpiryNoticeStore
	// Webhooks delivers the outbox; nil delivers nothing.
	Webhooks *webhook.Deliverer
	// Grace is how long the webhook requests in flight when Run's context
	// is done may take to finish. Run claims nothing more once its context
	// is done; the requests that end within Grace are recorded as usual
	// (succeeded, or a retry), so a graceful restart sends none of them
	// twice, and those still going after it are cut off unrecorded: they
	// stay leased and are sent again when the lease runs out (see
	// webhook.Deliverer.Drain). Defaults to none: they are cut off at
	// once. serve passes its --grace.
	Grace time.Duration
	// Logger receives the scheduler's logs. Defaults to a logger that
	// discards.
	Logger *slog.Logger
	// Registerer receives the scheduler's metrics. Nil registers none.
	Registerer prometheus.Registerer
}

// Scheduler runs the due work of one ledger.
type Scheduler struct {
	l    *creditkit.Ledger
	o    Options
	wake chan struct{}
	runs *prometheus.CounterVec
	done *prometheus.CounterVec
}

// New returns a scheduler for a ledger.
func New(l *creditkit.Ledger, opts *Options) (*Scheduler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ExpiringLead > 0 && o.Notices == nil {
		return nil, errors.New("scheduler: ExpiringLead needs Notices, the store that records expiry notices")
	}
	s := &Scheduler{l: l, o: o, wake: make(chan struct{}, 1),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditkit_scheduler_job_runs_total", Help: "Scheduler job runs, by job and outcome (ok, error).",
		}, []string{"job", "outcome"}),
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditkit_scheduler_items_total", Help: "Items the scheduler settled, by kind.",
		}, []string{"kind"}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{s.runs, s.done} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Run runs rounds until ctx is done, then returns after the rounds in
// progress end and the webhook requests in flight have finished, or
// Options.Grace has passed and they are cut off. Due work and webhooks run
// in two loops, so a slow receiver never delays the expiry sweep. Events written by this process wake
// webhook delivery at once instead of at the next tick. Webhooks are sent
// by the Deliverer's pool of workers (webhook.Deliverer.Start): a worker
// that comes free claims the next due delivery at once, whatever the
// others are waiting for.
func (s *Scheduler) Run(ctx context.Context) error {
	unsubscribe := s.l.Subscribe(func(creditkit.Event) {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	})
	defer unsubscribe()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.loop(ctx, nil, func() { _ = s.due(ctx) })
	}()
	go func() {
		defer wg.Done()
		s.webhooks(ctx)
	}()
	wg.Wait()
	return nil
}

// loop runs job now, then on every tick and every wake-up, until ctx is
// done.
func (s *Scheduler) loop(ctx context.Context, wake <-chan struct{}, job func()) {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		job()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// due expires what fell due and sends expiry notices.
func (s *Scheduler) due(ctx context.Context) error {
	var errs []error
	if r, err := s.l.RunDue(ctx); s.record(ctx, "run_due", err) {
		s.done.WithLabelValues("expired_grants").Add(float64(r.ExpiredGrants))
		s.done.WithLabelValues("expired_holds").Add(float64(r.ExpiredHolds))
	} else {
		errs = append(errs, err)
	}
	if s.o.ExpiringLead > 0 {
		for {
			n, err := s.l.NotifyExpiring(ctx, s.o.Notices, s.o.ExpiringLead, 500)
			if !s.record(ctx, "notify_expiring", err) {
				errs = append(errs, err)
				break
			}
			s.done.WithLabelValues("expiring_notices").Add(float64(n))
			if n < 500 {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// webhooks dispatches new events and starts sending the due webhooks now,
// then on every tick and every wake-up; and whenever a worker comes free,
// it starts the next due ones without dispatching. When ctx is done it
// claims nothing more, and waits for the attempts in flight for up to
// Grace before it cuts them off (webhook.Deliverer.Drain).
func (s *Scheduler) webhooks(ctx context.Context) {
	wh := s.o.Webhooks
	if wh == nil {
		return
	}
	defer func() {
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(s.o.Grace, 0))
		defer cancel()
		wh.Drain(grace)
	}()
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	dispatch := true
	for {
		_ = s.deliver(ctx, dispatch)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			dispatch = true
		case <-s.wake:
			dispatch = true
		case <-wh.Freed():
			dispatch = false
		}
	}
}

// deliver dispatches new events, if asked, and starts sending the webhooks
// that are due, as many as there are free workers.
func (s *Scheduler) deliver(ctx context.Context, dispatch bool) error {
	if dispatch {
		n, err := s.o.Webhooks.Dispatch(ctx)
		if !s.record(ctx, "webhook_dispatch", err) {
			return err
		}
		s.done.WithLabelValues("events_dispatched").Add(float64(n))
	}
	_, err := s.o.Webhooks.Start(ctx)
	if !s.record(ctx, "webhook_deliver", err) {
		return err
	}
	return nil
}

// record counts a job run and logs its error; it reports success.
func (s *Scheduler) record(ctx context.Context, job string, err error) bool {
	if err == nil {
		s.runs.WithLabelValues(job, "ok").Inc()
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	s.runs.WithLabelValues(job, "error").Inc()
	s.o.Logger.Error("scheduler job failed", "job", job, "err", err)
	return false
}
