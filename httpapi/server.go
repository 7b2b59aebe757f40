// Package httpapi is creditkit's HTTP JSON API: a server that maps every
// endpoint one-to-one to a *creditkit.Ledger, described by an OpenAPI 3.1
// document, and a Go client that speaks it.
//
// Every write takes an Idempotency-Key header; errors are RFC 9457 problem
// details with the library's stable code; callers authenticate with API keys
// (read, write or admin scope) or with short-lived customer tokens that read
// one customer's data.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Defaults of Options.
const (
	DefaultKeyCacheTTL    = 2 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBodyBytes   = 1 << 20
)

// Options configure a Server. Nil means defaults.
type Options struct {
	// Logger receives request logs. Defaults to a logger that discards.
	Logger *slog.Logger
	// Registry receives the server's Prometheus metrics and is served at
	// /metrics. Defaults to a new registry with Go and process collectors.
	Registry *prometheus.Registry
	// KeyCacheTTL is how long an API key lookup is remembered; a revoked
	// key stops working within it. Defaults to 2 seconds; negative
	// disables the cache.
	KeyCacheTTL time.Duration
	// RequestTimeout bounds each request. Defaults to 30 seconds.
	RequestTimeout time.Duration
	// DrainDelay is how long Serve, once told to stop, keeps serving with
	// /readyz answering 503 before it closes the listener, so that a load
	// balancer polling /readyz stops sending new requests first. Zero
	// closes the listener at once.
	DrainDelay time.Duration
	// MaxBodyBytes bounds request bodies. Defaults to 1 MiB.
	MaxBodyBytes int64
	// Version is reported in the OpenAPI document.
	Version string
	// ServerStore keeps API keys, secrets and webhook endpoints. Defaults
	// to the ledger's store, which must then implement store.ServerStore
	// (the SQLite and PostgreSQL stores do).
	ServerStore store.ServerStore
	// AllowPrivateWebhooks lets webhook endpoints be registered on
	// loopback, private and link-local addresses, for local development.
	// Defaults to false: such URLs are refused with 422.
	AllowPrivateWebhooks bool
	// PublicURL is the base URL clients reach the server at, listed in the
	// OpenAPI document's servers. Defaults to "/": the host that serves
	// the document.
	PublicURL string
	// Checkout is the payment provider behind the checkout endpoints
	// (httpapi/checkout.go). Defaults to none: they answer 503.
	Checkout CheckoutProvider
}

// Server is the HTTP API on one ledger. Its Handler serves /v1, the OpenAPI
// document at /openapi.json, docs at /docs, and /healthz, /readyz and
// /metrics.
type Server struct {
	ledger   *creditkit.Ledger
	st       store.ServerStore
	api      huma.API
	mux      *http.ServeMux
	handler  http.Handler
	log      *slog.Logger
	keys     keyCache
	tokenKey *tokenKeyring
	metrics  *httpMetrics
	timeout  time.Duration
	drain    time.Duration
	maxBody  int64
	draining atomic.Bool
	ids      creditkit.IDGenerator
	audit    *auditor
	// allowPrivateWebhooks is Options.AllowPrivateWebhooks.
	allowPrivateWebhooks bool
	cors                 atomic.Pointer[corsPolicy] // see AllowWidgetOrigins
	checkout             CheckoutProvider
}

// New builds the server on a ledger and the server store of Options (by
// default the ledger's own store).
func New(ctx context.Context, l *creditkit.Ledger, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	st := o.ServerStore
	if st == nil {
		var ok bool
		if st, ok = l.Store().(store.ServerStore); !ok {
			return nil, creditkit.ErrNoServerStore
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = NewRegistry()
	}
	if o.KeyCacheTTL == 0 {
		o.KeyCacheTTL = DefaultKeyCacheTTL
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Version == "" {
		o.Version = "1"
	}
	tokenKey, err := newTokenKeyring(ctx, st, o.KeyCacheTTL, l.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{ledger: l, st: st, log: o.Logger, tokenKey: tokenKey,
		timeout: o.RequestTimeout, drain: max(o.DrainDelay, 0), maxBody: o.MaxBodyBytes, allowPrivateWebhooks: o.AllowPrivateWebhooks,
		keys: keyCache{ttl: o.KeyCacheTTL, m: map[string]cachedKey{}}, checkout: o.Checkout}
	s.metrics, err = newHTTPMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	if s.audit, err = newAuditor(l, st, o.Registry); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("creditkit", o.Version)
	cfg.Info.Description = "Usage credits: grant, price, spend, hold, transfer and audit credits. " +
		"Amounts are integers in the currency's smallest unit. Every write takes an Idempotency-Key header."
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.DocsPath = ""     // served offline by docsHandler
	cfg.Transformers = []huma.Transformer{problemTransformer(cfg.Components.Schemas)}
	if o.PublicURL == "" {
		o.PublicURL = "/"
	}
	cfg.Servers = []*huma.Server{{URL: o.PublicURL, Description: "This creditkit server."}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key (ck_...) or a customer token (ckt_...)."},
	}
	s.mux = mux
	s.api = humago.New(mux, cfg)
	s.api.UseMiddleware(s.recordAudit, s.authenticate) // recordAudit outside: it sees refused calls too
	s.routes()

	s.probes()
	// Every error is a Problem (see documentErrors); huma's own error model
	// is never sent.
	delete(s.api.OpenAPI().Components.Schemas.Map(), "ErrorModel")
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	mux.HandleFunc("GET /docs", s.docsHandler)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := newProblem(http.StatusNotFound, string(creditkit.CodeNotFound), fmt.Sprintf("no endpoint %s %s; see /docs", r.Method, r.URL.Path))
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			p = newProblem(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				fmt.Sprintf("%s %s is not an endpoint; this path answers %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		}
		p.RequestID = requestID(r.Context())
		writeJSON(w, p.Status, p)
	})
	s.handler = s.observe(s.withCORS(mux))
	return s, nil
}

// allowedMethods lists the methods that have an endpoint at r's path: a
// request that reached the catch-all with one of them would have been
// routed elsewhere.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// NewRegistry returns a Prometheus registry with the Go runtime and process
// collectors, for Options.Registry.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectorsGo(), collectorsProcess())
	return r
}

// Mount serves h at pattern (a net/http ServeMux pattern such as
// "/dashboard/" or "POST /v1/providers/stripe/webhook") beside the API,
// behind the same request ids, deadline, panic recovery, logs and metrics.
// The API's authentication does not apply: h checks its own callers. Call
// Mount before serving; it panics on a pattern that is already served, as
// ServeMux does.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI returns the API's OpenAPI 3.1 document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully: /readyz turns 503 (and requests are still served for
// Options.DrainDelay), the listener closes, requests in flight finish
// (within grace), and Serve returns. It does not close the ledger.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       s.timeout,
		WriteTimeout:      s.timeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if s.drain > 0 {
		s.log.Info("draining: /readyz answers 503 before the listener closes", "drain_delay", s.drain)
		select {
		case <-time.After(s.drain):
		case err := <-errc:
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Past the grace period: cut the requests still running, so none
		// outlives the ledger the caller closes next.
		_ = srv.Close()
	}
	<-errc
	if err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// probeOut is the answer of /healthz and /readyz.
type probeOut struct {
	Status int `json:"-"`
	Body   struct {
		Status string `json:"status" enum:"ok,ready,shutting down,database unavailable"`
	}
}

// probes registers /healthz, which answers while the process runs, and
// /readyz, which answers 200 when the database answers and the server is
// not shutting down, 503 otherwise. Neither needs a key.
func (s *Server) probes() {
	answer := func(status int, what string) *probeOut {
		out := &probeOut{Status: status}
		out.Body.Status = what
		return out
	}
	huma.Register(s.api, huma.Operation{OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Tags: []string{"Probes"},
		Summary: "Is the process running?", Description: "Needs no key."},
		func(ctx context.Context, _ *struct{}) (*probeOut, error) { return answer(http.StatusOK, "ok"), nil })
	huma.Register(s.api, huma.Operation{OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Tags: []string{"Probes"},
		Summary: "Can the server take requests?", Description: "Needs no key. 503 while the database does not answer or the server shuts down."},
		func(ctx context.Context, _ *struct{}) (*probeOut, error) {
			if s.draining.Load() {
				return answer(http.StatusServiceUnavailable, "shutting down"), nil
			}
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := s.st.APIKeyByHash(ctx, "readyz"); err != nil {
				s.log.Warn("readiness check failed", "err", err)
				return answer(http.StatusServiceUnavailable, "database unavailable"), nil
			}
			return answer(http.StatusOK, "ready"), nil
		})
	for _, path := range []string{"/healthz", "/readyz"} {
		op := s.api.OpenAPI().Paths[path].Get
		ok := op.Responses["200"]
		for code := range op.Responses {
			if code != "200" {
				delete(op.Responses, code)
			}
		}
		if path == "/readyz" {
			op.Responses["503"] = &huma.Response{Description: "Not ready.", Content: ok.Content}
		}
	}
}

// Request ids.
type requestIDKey struct{}

// requestID returns the id of the request ctx belongs to.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID is what an incoming X-Request-Id may be to be kept.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// notText names the part of r's URL (the path or a query parameter) that
// is not UTF-8 text or holds a NUL, or returns "".
func notText(r *http.Request) string {
	bad := func(v string) bool { return !creditkit.IsText(v) }
	if bad(r.URL.Path) {
		if strings.HasPrefix(r.URL.Path, "/v1/customers/") {
			return "the customer ID or another part of the path"
		}
		return "the path"
	}
	if r.URL.RawQuery == "" {
		return ""
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "" // the handler answers a malformed query
	}
	for k, vs := range q {
		if bad(k) {
			return "a query parameter's name"
		}
		for _, v := range vs {
			if bad(v) {
				return "query parameter " + k
			}
		}
	}
	return ""
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe wraps every request: a request id, a deadline, panic recovery, a
// log line and metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			id = "req_" + randomToken(10)
		}
		w.Header().Set("X-Request-Id", id)
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestIDKey{}, id), s.timeout)
		defer cancel()
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		if what := notText(r); what != "" {
			// Ids and query values are text: bytes that are not UTF-8, or
			// a NUL, would reach the database (PostgreSQL refuses them).
			p := newProblem(http.StatusUnprocessableEntity, string(creditkit.CodeInvalidRequest),
				what+" holds bytes that are not UTF-8 text, or a NUL: ids, names and query values are text")
			p.RequestID = id
			writeJSON(w, p.Status, p)
			return
		}
		if what := bodyNotText(r); what != "" {
			p := newProblem(http.StatusUnprocessableEntity, string(creditkit.CodeInvalidRequest), what)
			p.RequestID = id
			writeJSON(w, p.Status, p)
			return
		}
		if ct := r.Header.Get("Content-Type"); r.ContentLength != 0 && strings.HasPrefix(r.URL.Path, "/v1/") &&
			(ct == "" || ct == "application/x-www-form-urlencoded") {
			// curl -d sends form encoding by default; every API body is
			// JSON. Handlers mounted beside the API (the dashboard's
			// forms) get their requests as sent.
			r.Header.Set("Content-Type", "application/json")
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "request_id", id, "panic", v)
				if sw.status == 0 {
					p := newProblem(http.StatusInternalServerError, string(creditkit.CodeInternal), "internal error; see the server log for request "+id)
					p.RequestID = id
					writeJSON(sw, p.Status, p)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if i := strings.IndexByte(route, ' '); i >= 0 {
				route = route[i+1:]
			}
			s.metrics.observe(r.Method, route, sw.status, time.Since(start))
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			s.log.Log(ctx, level, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", sw.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		next.ServeHTTP(sw, r)
	})
}

// fail turns a handler error into a problem, logging internal errors.
func (s *Server) fail(ctx context.Context, err error) error {
	p := problemFrom(ctx, err)
	if p.Status >= 500 && !errors.Is(err, creditkit.ErrOverloaded) {
		s.log.Error("request failed", "request_id", requestID(ctx), "err", err)
	}
	return p
}
