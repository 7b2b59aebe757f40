// Package webhook delivers creditkit's outbox events to registered HTTP
// endpoints, signed per the Standard Webhooks specification
// (webhook-id, webhook-timestamp and webhook-signature headers).
//
// Delivery is at least once: an event is fanned out to one delivery row per
// matching endpoint (Dispatch), deliveries are claimed with a lease so that
// several processes never send one twice at the same time (Deliver), and a
// failed attempt is retried on a backoff schedule with jitter for more than
// 24 hours before the delivery is marked failed. Receivers dedupe on
// webhook-id, which is the event's ID and the same on every attempt.
//
// Sending is a continuous pool of Workers, so that a slow or hung receiver
// does not hold up the others. Start claims only as many due deliveries as
// there are free workers and sends each at once, without waiting for the
// others; whenever an attempt ends, the freed worker claims the next due
// delivery (Freed wakes the caller), while the slow ones are still in
// flight. And no more than PerEndpoint requests go to one endpoint at once:
// the deliveries of an endpoint at its cap are left unclaimed
// (store.WebhookStore.ClaimDeliveries skips them), for other processes or
// for later, so one hung endpoint holds at most PerEndpoint workers and
// the rest keep delivering to everyone else. A claim leases each delivery
// only for about one request (a delivery is sent as soon as it is claimed),
// and a delivery whose lease would run out before its request could time
// out is still never sent. The caps are per process: n serve processes
// send at most n*PerEndpoint requests at once to one endpoint.
//
// At shutdown the caller stops calling Start, so nothing more is claimed,
// and calls Drain: the requests in flight get a bounded time to finish and
// are recorded as usual (succeeded, or a retry), so that a graceful
// restart sends none of them twice. Only those still going when that time
// is up are cut off; they stay leased and are sent again when the lease
// runs out.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// DefaultSchedule is the wait before each retry, after the first attempt
// fails: about 27.6 hours of retries in all, as the Standard Webhooks
// specification suggests.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Options configure a Deliverer. Zero fields mean defaults.
type Options struct {
	// Client sends the requests. Defaults to NewClient(10*time.Second,
	// AllowPrivate): a 10 second timeout, no redirects, no proxy, and no
	// private destinations. A client given here is used as it is, so it
	// must refuse private destinations itself (build it with NewClient).
	Client *http.Client
	// AllowPrivate lets the default client send webhooks to loopback,
	// private and link-local addresses, for local development. Defaults to
	// false: such destinations are refused when connecting.
	AllowPrivate bool
	// Schedule is the wait before each retry; when it runs out the delivery
	// fails. Defaults to DefaultSchedule.
	Schedule []time.Duration
	// Jitter spreads each wait by up to this fraction either way. Defaults
	// to 0.2; negative means none.
	Jitter float64
	// Lease is how long a claimed delivery is kept from other workers.
	// Each claimed delivery is sent at once, so the lease only has to
	// outlast one request: it defaults to the client's timeout plus ten
	// seconds, and at least one minute. A delivery whose lease would run
	// out before its request could time out is not sent; its lease runs
	// out and it is claimed again.
	Lease time.Duration
	// Workers is how many requests are in flight at once. Defaults to 16.
	Workers int
	// PerEndpoint is how many of those may go to one endpoint at once, so
	// that a hung receiver cannot occupy every worker. Defaults to 4, or
	// half the workers when that is fewer (at least one).
	PerEndpoint int
	// Now tells the time. Defaults to time.Now; a server passes its
	// ledger's clock (Ledger.Now).
	Now func() time.Time
	// Logger receives delivery logs. Defaults to a logger that discards.
	Logger *slog.Logger
	// Registerer receives the delivery metrics. Nil registers none.
	Registerer prometheus.Registerer
}

// Deliverer moves outbox events to webhook endpoints. Its methods may be
// called from several goroutines.
type Deliverer struct {
	st       store.ServerStore
	o        Options
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
	ids      creditkit.IDGenerator

	// claiming is held by the one claim at a time, so that the room it
	// reads in the counts below can only grow until it has counted what
	// it claimed.
	claiming sync.Mutex
	// mu guards the counts of requests in flight, in all and by endpoint,
	// and backlog: whether due deliveries may be waiting for a worker.
	mu       sync.Mutex
	busy     int
	endpoint map[string]int
	backlog  bool
	inflight sync.WaitGroup
	freed    chan struct{}
	// cancels cuts off each attempt in flight (by a number of its own,
	// from last), for Drain; mu guards them too.
	cancels map[uint64]context.CancelFunc
	last    uint64
}

// New returns a Deliverer on a store.
func New(st store.ServerStore, opts *Options) (*Deliverer, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Client == nil {
		o.Client = NewClient(10*time.Second, o.AllowPrivate)
	}
	if o.Schedule == nil {
		o.Schedule = DefaultSchedule
	}
	if o.Jitter == 0 {
		o.Jitter = 0.2
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.PerEndpoint <= 0 {
		o.PerEndpoint = max(1, min(4, o.Workers/2))
	}
	if o.Lease <= 0 {
		// A claimed delivery is sent at once: one request's time is enough.
		o.Lease = max(time.Minute, o.Client.Timeout+10*time.Second)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{st: st, o: o, endpoint: map[string]int{}, freed: make(chan struct{}, 1),
		cancels: map[uint64]context.CancelFunc{},
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditkit_webhook_attempts_total", Help: "Webhook delivery attempts, by outcome (succeeded, retrying, failed).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "creditkit_webhook_attempt_duration_seconds", Help: "Time to send one webhook and read the answer.",
			Buckets: prometheus.DefBuckets,
		}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{d.attempts, d.latency} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register webhook metrics: %w", err)
			}
		}
	}
	return d, nil
}

// Dispatch fans new outbox events out to delivery rows, a batch at a time,
// until none is left. It returns how many events it dispatched.
func (d *Deliverer) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for {
		now := d.o.Now().UTC()
		n, err := d.st.DispatchEvents(ctx, now, 500, Fanout(now, func() string { return d.ids.New("dlv") }))
		total += n
		if err != nil {
			return total, fmt.Errorf("dispatch events: %w", err)
		}
		if n < 500 {
			return total, nil
		}
	}
}

// Start claims as many due deliveries as there are free workers, leaving
// those of endpoints that have PerEndpoint requests in flight, and starts
// sending them. It returns how many attempts it started, without waiting
// for them: a slow receiver holds only its own workers. ctx governs the
// claiming only: once it is done Start claims nothing, but the attempts it
// started go on (with ctx's values, not its cancellation) until they end
// or Drain cuts them off; their errors are logged. Call Start on every
// tick and whenever Freed receives, and Drain (or Wait) before exiting.
func (d *Deliverer) Start(ctx context.Context) (int, error) {
	return d.start(ctx, true, nil, func(err error) {
		d.o.Logger.Error("webhook delivery not recorded", "err", err)
	})
}

// Freed receives when an attempt ends while due deliveries may be waiting
// for a worker: then Start claims the next ones.
func (d *Deliverer) Freed() <-chan struct{} { return d.freed }

// Wait waits for every attempt in flight.
func (d *Deliverer) Wait() { d.inflight.Wait() }

// Drain waits for the attempts in flight until ctx is done, then cuts off
// the requests still in flight and waits for their attempts to return. An
// attempt that ends in time is recorded as any other (succeeded, or a retry
// on the schedule), so a graceful restart does not send it again; one cut
// off is not recorded: its delivery stays leased and is sent again when the
// lease runs out. A done ctx cuts everything off at once. Call it after the
// last Start, when shutting down: ctx bounds how long shutdown waits for
// receivers (give it a timeout, such as serve's --grace).
func (d *Deliverer) Drain(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		d.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	d.mu.Lock()
	n := len(d.cancels)
	for _, cancel := range d.cancels {
		cancel()
	}
	d.mu.Unlock()
	if n > 0 {
		d.o.Logger.Warn("webhook requests cut off at shutdown: they are sent again when their leases run out", "requests", n)
	}
	<-done
}

// Deliver makes one round: it claims and sends what Start would, and waits
// for those attempts. It returns how many attempts it made. It suits tests
// and one-off runs; a long-running process calls Start instead, so that it
// need not wait for the slowest receiver before claiming more.
func (d *Deliverer) Deliver(ctx context.Context) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	n, err := d.start(ctx, false, &wg, func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	})
	wg.Wait()
	return n, errors.Join(append(errs, err)...)
}

// start claims while there is room and something due, and starts an
// attempt for each delivery claimed; detach lets the attempts outlive
// ctx's cancellation (until Drain cuts them off), track, if not nil,
// counts the attempts, and failed gets their errors.
func (d *Deliverer) start(ctx context.Context, detach bool, track *sync.WaitGroup, failed func(error)) (int, error) {
	d.claiming.Lock()
	defer d.claiming.Unlock()
	started := 0
	for ctx.Err() == nil {
		limit, skip := d.room()
		if limit == 0 {
			d.setBacklog(true)
			break
		}
		claimed := d.o.Now().UTC()
		ds, err := d.st.ClaimDeliveries(ctx, claimed, d.o.Lease, limit, skip...)
		if err != nil {
			return started, fmt.Errorf("claim webhook deliveries: %w", err)
		}
		for _, dl := range ds {
			d.launch(ctx, detach, dl, claimed.Add(d.o.Lease), track, failed)
		}
		started += len(ds)
		if len(ds) < limit {
			// Nothing else is due, but for the endpoints skipped.
			d.setBacklog(len(skip) > 0)
			break
		}
	}
	return started, nil
}

// room tells how many deliveries the next claim may take, and which
// endpoints it must skip. No endpoint may get more than its own room, so
// the limit is the smallest room left among the endpoints that have
// requests in flight but are not at their cap.
func (d *Deliverer) room() (int, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	limit := min(d.o.Workers-d.busy, d.o.PerEndpoint)
	var skip []string
	for id, n := range d.endpoint {
		if n >= d.o.PerEndpoint {
			skip = append(skip, id)
		} else {
			limit = min(limit, d.o.PerEndpoint-n)
		}
	}
	return max(limit, 0), skip
}

func (d *Deliverer) setBacklog(b bool) {
	d.mu.Lock()
	d.backlog = b
	d.mu.Unlock()
}

// launch counts a claimed delivery in flight and attempts it in a
// goroutine of its own, under ctx or, if detach, under ctx without its
// cancellation; either way Drain can cut it off.
func (d *Deliverer) launch(ctx context.Context, detach bool, dl *store.Delivery, leased time.Time, track *sync.WaitGroup, failed func(error)) {
	if detach {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	d.busy++
	d.endpoint[dl.EndpointID]++
	d.last++
	key := d.last
	d.cancels[key] = cancel
	d.mu.Unlock()
	d.inflight.Add(1)
	if track != nil {
		track.Add(1)
	}
	go func() {
		defer d.inflight.Done()
		if track != nil {
			defer track.Done()
		}
		err := d.attempt(ctx, dl, leased)
		d.release(dl.EndpointID, key)
		if err != nil {
			failed(err)
		}
	}()
}

// release frees a worker (and the attempt's context, numbered key), and
// wakes whoever waits on Freed if due deliveries may be waiting for it.
func (d *Deliverer) release(endpointID string, key uint64) {
	d.mu.Lock()
	d.cancels[key]()
	delete(d.cancels, key)
	d.busy--
	if d.endpoint[endpointID]--; d.endpoint[endpointID] <= 0 {
		delete(d.endpoint, endpointID)
	}
	backlog := d.backlog
	d.mu.Unlock()
	if backlog {
		select {
		case d.freed <- struct{}{}:
		default:
		}
	}
}

// Payload is the JSON body of a webhook: the event's type and time, and
// its data with the customer and currency.
type Payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// payload builds the body of a delivery's request.
func payload(ev *store.Event) ([]byte, error) {
	data := map[string]any{}
	if len(ev.Data) > 0 {
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return nil, fmt.Errorf("event %s data: %w", ev.ID, err)
		}
	}
	data["event_id"] = ev.ID
	data["customer"] = ev.Customer
	data["currency"] = ev.Currency
	return json.Marshal(Payload{Type: ev.Type, Timestamp: ev.At.UTC(), Data: data})
}

// attempt sends one delivery and records the outcome. A delivery whose
// lease (until leased) could run out before the request times out is not
// sent: another worker may claim it then, and it would go out twice.
func (d *Deliverer) attempt(ctx context.Context, dl *store.Delivery, leased time.Time) error {
	if timeout := d.o.Client.Timeout; timeout > 0 && d.o.Now().Add(timeout).After(leased) {
		return nil
	}
	status, sendErr := d.send(ctx, dl)
	if sendErr != nil && ctx.Err() != nil {
		// Cut off mid-request (Drain's time was up, or Deliver's ctx was
		// cancelled): the lease runs out and the delivery is retried. A
		// success is still recorded below.
		return nil
	}
	now := d.o.Now().UTC()
	a := Succeeded(now, status)
	outcome := "succeeded"
	if sendErr != nil {
		if n := dl.Attempts; n < len(d.o.Schedule) {
			a = Retry(now, status, sendErr.Error(), now.Add(d.jitter(d.o.Schedule[n])))
			outcome = "retrying"
		} else {
			a = GiveUp(now, status, sendErr.Error())
			outcome = "failed"
		}
		d.o.Logger.Warn("webhook attempt failed", "delivery", dl.ID, "endpoint", dl.EndpointID, "event", dl.EventID,
			"attempt", dl.Attempts+1, "status", status, "err", sendErr, "outcome", outcome)
	}
	d.attempts.WithLabelValues(outcome).Inc()
	if err := d.st.FinishDelivery(context.WithoutCancel(ctx), dl.ID, a); err != nil {
		return fmt.Errorf("record webhook delivery %s: %w", dl.ID, err)
	}
	return nil
}

// send makes one signed request. A 2xx answer is a success.
func (d *Deliverer) send(ctx context.Context, dl *store.Delivery) (int, error) {
	if dl.Event == nil {
		return 0, errors.New("delivery has no event")
	}
	body, err := payload(dl.Event)
	if err != nil {
		return 0, err
	}
	wh, err := standardwebhooks.NewWebhook(dl.Secret)
	if err != nil {
		return 0, fmt.Errorf("endpoint secret: %w", err)
	}
	now := d.o.Now()
	sig, err := wh.Sign(dl.EventID, now, body)
	if err != nil {
		return 0, fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "creditkit-webhooks/1")
	req.Header.Set("webhook-id", dl.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := d.o.Client.Do(req)
	d.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Read a little so the connection can be reused, but keep none of it:
	// the answer's body is the receiver's, and may hold anything.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errors.New(statusReason(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// statusReason names an HTTP status with the standard reason phrase, such
// as "HTTP 500 Internal Server Error", not the one the receiver sent.
func statusReason(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("HTTP %d %s", code, text)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// jitter spreads a wait by up to ±Jitter.
func (d *Deliverer) jitter(w time.Duration) time.Duration {
	if d.o.Jitter <= 0 {
		return w
	}
	f := 1 + d.o.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(w) * f)
}
