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
	// Defaults to enough time to send a whole batch even when every request
	// times out (at least one minute). A delivery whose lease would run out
	// before its request could time out is left for the next claim.
	Lease time.Duration
	// Batch is how many deliveries one Deliver call claims. Defaults to 100.
	Batch int
	// Workers is how many requests are in flight at once. Defaults to 16.
	Workers int
	// Now tells the time. Defaults to time.Now; a server passes its
	// ledger's clock (Ledger.Now).
	Now func() time.Time
	// Logger receives delivery logs. Defaults to a logger that discards.
	Logger *slog.Logger
	// Registerer receives the delivery metrics. Nil registers none.
	Registerer prometheus.Registerer
}

// Deliverer moves outbox events to webhook endpoints.
type Deliverer struct {
	st       store.ServerStore
	o        Options
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
	ids      creditkit.IDGenerator
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
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Lease <= 0 {
		// Long enough to send a whole claim even if every request times out.
		rounds := (o.Batch + o.Workers - 1) / o.Workers
		o.Lease = max(time.Minute, time.Duration(rounds)*o.Client.Timeout+10*time.Second)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{st: st, o: o,
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

// Deliver claims the deliveries that are due and sends them, Workers at a
// time, recording each outcome. It returns how many attempts it made.
func (d *Deliverer) Deliver(ctx context.Context) (int, error) {
	claimed := d.o.Now().UTC()
	ds, err := d.st.ClaimDeliveries(ctx, claimed, d.o.Lease, d.o.Batch)
	if err != nil {
		return 0, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	sem := make(chan struct{}, d.o.Workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, dl := range ds {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := d.attempt(ctx, dl, claimed.Add(d.o.Lease)); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(ds), errors.Join(errs...)
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
		// Shutting down mid-request: the lease runs out and the delivery
		// is retried. A success is still recorded below.
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
