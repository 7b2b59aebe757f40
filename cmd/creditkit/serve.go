package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/scheduler"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// ServeCmd runs the HTTP API, webhook delivery and the scheduler.
type ServeCmd struct {
	Addr           string        `name:"addr" default:"127.0.0.1:8080" envvar:"CREDITKIT_ADDR" help:"Address to listen on (env CREDITKIT_ADDR)."`
	Demo           bool          `name:"demo" help:"Use the example config, seed a few customers with history, and print an admin key."`
	LogFormat      string        `name:"log-format" enum:"text,json" default:"text" envvar:"CREDITKIT_LOG_FORMAT" help:"Log format on stderr: text or json."`
	Tick           time.Duration `name:"tick" default:"1s" help:"How often the scheduler runs due work."`
	ExpiringNotice time.Duration `name:"expiring-notice" default:"72h" help:"Send credits.grant.expiring this long before a grant expires; 0 sends none."`
	WebhookBackoff string        `name:"webhook-backoff" default:"5s,5m,30m,2h,5h,10h,10h" help:"Waits between webhook retries, comma separated; then the delivery fails."`
	NoScheduler    bool          `name:"no-scheduler" help:"Serve the API only; another process runs the scheduler."`
	Grace          time.Duration `name:"grace" default:"30s" help:"On SIGTERM, how long requests in flight may take to finish; then as long again for webhook deliveries in flight."`
	DrainDelay     time.Duration `name:"drain-delay" default:"0s" help:"On SIGTERM, how long to keep serving with /readyz answering 503 before the listener closes (set it to your load balancer's readiness interval times its failure threshold)."`
	AllowPrivate   bool          `name:"allow-private-webhooks" help:"Let webhook endpoints be on loopback, private and link-local addresses (local development only; implied by --demo)."`
	KeyCacheTTL    time.Duration `name:"key-cache-ttl" default:"2s" help:"How long an API key lookup is remembered; a revoked key stops working within it. 0 disables the cache."`
	WidgetOrigins  string        `name:"widget-origins" default:"*" envvar:"CREDITKIT_WIDGET_ORIGINS" help:"Origins whose pages may read the customer-token endpoints from a browser (CORS, GET only, no cookies), comma separated; * for any, none for no cross-origin reads (env CREDITKIT_WIDGET_ORIGINS)."`
	// TestClockFile is for tests only (see testclock.go): hidden, and
	// refused unless the environment opts in.
	TestClockFile string `name:"test-clock-file" hidden:"" help:"For tests only: a file holding an offset added to the clock, re-read on every reading."`
	StripeFlags   `embed:""`
}

// Run serves until the process is told to stop, then shuts down in order:
// the listener closes and requests in flight finish, the scheduler ends
// its round (it claims no more webhooks, and those in flight get --grace
// to finish and be recorded), and the ledger commits what it has queued.
func (c *ServeCmd) Run(s *session) error {
	if err := c.useTestClock(s); err != nil {
		return err
	}
	if c.Grace <= 0 {
		c.Grace = 30 * time.Second
	}
	backoff, err := parseBackoff(c.WebhookBackoff)
	if err != nil {
		return err
	}
	logger := s.serverLogger(c.LogFormat)
	if c.TestClockFile != "" {
		logger.Warn("the clock is a test clock: its time is moved by the offset in --test-clock-file", "file", c.TestClockFile, "now", s.clock.Now())
	}
	// The demo is a local playground: its webhooks may go to a receiver on
	// this machine.
	allowPrivate := c.AllowPrivate || c.Demo
	if allowPrivate {
		logger.Warn("webhooks may go to loopback, private and link-local addresses (--allow-private-webhooks or --demo): for local development only")
	}
	if c.Demo {
		if _, err := s.loadConfig(func() (*creditkit.Config, error) {
			return creditkit.ParseConfig(exampleConfigName, exampleConfig)
		}); err != nil {
			return err
		}
	}
	// Look for a WAL left behind before opening the database, which
	// replays it.
	wal := leftoverWAL(s.dbURL())
	return s.withLedger(func(l *creditkit.Ledger) error {
		st, err := serverStoreOf(l)
		if err != nil {
			return err
		}
		reg := httpapi.NewRegistry()
		keyCache := c.KeyCacheTTL
		if keyCache <= 0 {
			keyCache = -1 // httpapi: negative disables the cache
		}
		pay, err := c.stripeSetup(l, logger)
		if err != nil {
			return err
		}
		srv, err := httpapi.New(s.ctx, l, &httpapi.Options{Logger: logger, Registry: reg, ServerStore: st,
			AllowPrivateWebhooks: allowPrivate, KeyCacheTTL: keyCache, Checkout: pay.checkout(), DrainDelay: c.DrainDelay})
		if err != nil {
			return err
		}
		if err := c.mountWidgets(srv, l, st, logger, pay.p != nil); err != nil {
			return err
		}
		var demo *demoSeed
		if c.Demo {
			if demo, err = seedDemo(s.ctx, l, st); err != nil {
				return fmt.Errorf("seed the demo: %w", err)
			}
		}
		ln, err := net.Listen("tcp", c.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w (set another address with --addr or CREDITKIT_ADDR)", c.Addr, err)
		}
		if err := mountDashboard(s.ctx, l, st, srv, logger); err != nil {
			ln.Close()
			return err
		}
		base := "http://" + ln.Addr().String()
		fmt.Fprintf(s.stdout, "creditkit serving %s on %s\n", s.redactedDB(), base)
		fmt.Fprintf(s.stdout, "  %s\n", s.configSource())
		fmt.Fprintf(s.stdout, "  API docs: %s/docs   OpenAPI: %s/openapi.json   metrics: %s/metrics\n", base, base, base)
		printDashboard(s.stdout, base, c.Demo)
		if demo != nil {
			demo.print(s.stdout, base, s.redactedDB())
			pay.describe(s.stdout, base)
		}
		logger.Info("serving", "addr", ln.Addr().String(), "db", s.redactedDB(), "config", cmp.Or(s.cfg.Path, "none"), "scheduler", !c.NoScheduler)
		logStartupCheck(s.ctx, logger, l, wal)
		if s.ready != nil {
			select {
			case s.ready <- base:
			default:
			}
		}

		schedCtx, stopSched := context.WithCancel(context.WithoutCancel(s.ctx))
		defer stopSched()
		var wg sync.WaitGroup
		pay.start(schedCtx, srv, !c.NoScheduler, c.StripeOverageEvery, &wg)
		var topUpCharger creditkit.TopUpCharger
		if pay.p != nil {
			if topUpCharger, err = stripeTopUpCharger(c.StripeKey, c.StripeAPIURL, pay.p); err != nil {
				ln.Close()
				return err
			}
		}
		startTopUps(schedCtx, l, topUpCharger, logger, &wg)
		if !c.NoScheduler {
			wh, err := webhook.New(st, &webhook.Options{Schedule: backoff, Logger: logger, Registerer: reg,
				AllowPrivate: allowPrivate, Now: l.Now})
			if err != nil {
				ln.Close()
				return err
			}
			sch, err := scheduler.New(l, &scheduler.Options{Interval: c.Tick, ExpiringLead: c.ExpiringNotice, Notices: st, Webhooks: wh, Logger: logger, Registerer: reg, Grace: c.Grace})
			if err != nil {
				ln.Close()
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = sch.Run(schedCtx)
			}()
		}
		serveErr := srv.Serve(s.ctx, ln, c.Grace)
		stopSched()
		wg.Wait()
		logger.Info("stopped")
		if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
			return serveErr
		}
		return nil
	})
}

// serverLogger logs at info level on stderr, as text or JSON.
func (s *session) serverLogger(format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if s.globals.Verbose {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(s.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(s.stderr, opts))
}

// parseBackoff reads a comma-separated list of durations.
func parseBackoff(v string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := creditkit.ParseDuration(f)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--webhook-backoff: %q is not a positive duration such as 5s or 2h", f)
		}
		out = append(out, d)
	}
	return out, nil
}

// seedDemo gives the demo customers some history (once: the writes carry
// idempotency keys, and the plan customers are seeded only when they do
// not exist yet) and creates an admin key. The plan customers come first:
// their history lies in the past (see seedPlanHistory).
func seedDemo(ctx context.Context, l *creditkit.Ledger, st store.ServerStore) (*demoSeed, error) {
	plans, err := seedPlanHistory(ctx, l)
	if err != nil {
		return nil, err
	}
	type spend struct {
		op     string
		params creditkit.Params
	}
	seeds := []struct {
		customer string
		grant    creditkit.Amount
		reason   string
		expires  time.Duration
		spends   []spend
	}{
		{"alice", 1000, "signup_bonus", 0, []spend{{"send_email", nil}, {"process_image", creditkit.Params{"mb": "5.2"}}, {"send_email", nil}}},
		{"bob", 250, "trial", 14 * 24 * time.Hour, []spend{{"process_image", creditkit.Params{"mb": "12"}}}},
		{"carol", 5000, "subscription", 30 * 24 * time.Hour, []spend{{"send_email", nil}}},
	}
	for _, sd := range seeds {
		if _, err := l.Grant(ctx, sd.customer, sd.grant, &creditkit.GrantOpts{Reason: sd.reason, ExpiresIn: sd.expires,
			IdempotencyKey: "demo-grant-" + sd.customer, Actor: "demo"}); err != nil {
			return nil, err
		}
		for i, sp := range sd.spends {
			if _, err := l.Spend(ctx, sd.customer, sp.op, sp.params, &creditkit.SpendOpts{
				IdempotencyKey: fmt.Sprintf("demo-spend-%s-%d", sd.customer, i), Actor: "demo"}); err != nil {
				return nil, err
			}
		}
	}
	secret, err := replaceDemoKey(ctx, l, st)
	if err != nil {
		return nil, err
	}
	return &demoSeed{AdminKey: secret, Plans: plans, Now: l.Now()}, nil
}

// demoKeyPrefix begins the name of the admin key serve --demo creates; the
// rest of the name is when (RFC 3339).
const demoKeyPrefix = "demo "

// replaceDemoKey creates the admin key this start of the demo prints, and
// revokes the ones earlier starts printed (a key named by demoKeyPrefix and
// a time), so that restarts do not pile up live admin keys. Both are
// recorded in the audit log, as creditkit's own actions.
func replaceDemoKey(ctx context.Context, l *creditkit.Ledger, st store.ServerStore) (string, error) {
	log, err := audit.Of(st, l.Now)
	if err != nil {
		return "", err
	}
	record := func(action, target string) error {
		_, err := log.Record(ctx, audit.Record{ActorKind: audit.ActorSystem, ActorName: "serve --demo", Action: action,
			Target: target, Reason: "serve --demo replaces its sign-in key at each start"})
		return err
	}
	keys, err := st.APIKeys(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		when, ok := strings.CutPrefix(k.Name, demoKeyPrefix)
		if !ok || k.RevokedAt != nil || k.Scope != store.ScopeAdmin {
			continue
		}
		if _, err := time.Parse(time.RFC3339, when); err != nil {
			continue // a key of the user's, named "demo …"
		}
		if _, err := st.RevokeAPIKey(ctx, k.ID, l.Now()); err != nil {
			return "", err
		}
		if err := record(audit.ActionAPIKeyRevoke, k.ID); err != nil {
			return "", err
		}
	}
	k, secret, err := auth.CreateKey(ctx, st, demoKeyPrefix+l.Now().Format(time.RFC3339), store.ScopeAdmin, l.Now())
	if err != nil {
		return "", err
	}
	if err := record(audit.ActionAPIKeyCreate, k.ID); err != nil {
		return "", err
	}
	return secret, nil
}
