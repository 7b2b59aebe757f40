// Package dashboard is creditkit's admin dashboard: server-rendered pages
// (html/template) with htmx and uPlot vendored through embed, served at
// /dashboard beside the HTTP API. It renders what the ledger, the server
// store and the audit log already answer, and adds no business rule of its
// own: every action is one call of the library, recorded in the audit log.
//
// Users sign in with an API key, exchanged for a signed session cookie.
// The key is checked again on every request (through a short cache), so a
// revoked key's session stops working; a read key sees every page and can
// change nothing. Every form carries a per-session CSRF token. Pages load
// nothing from another origin and run under a strict Content Security
// Policy: no inline script or style.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Defaults of Options.
const (
	DefaultSessionTTL  = 8 * time.Hour
	DefaultKeyCacheTTL = 2 * time.Second
)

// Path is where the dashboard is served; mount the handler at Path + "/".
const Path = "/dashboard"

//go:embed static templates
var files embed.FS

// Options configure the dashboard. Nil means defaults.
type Options struct {
	// ServerStore keeps the API keys the dashboard signs in with, its
	// session key, and webhook deliveries. Defaults to the ledger's store,
	// which must then implement store.ServerStore.
	ServerStore store.ServerStore
	// Audit records the dashboard's actions and lists the audit log.
	// Defaults to the audit log of the ledger's store, when it keeps one;
	// without one the actions still work and the audit page says so.
	Audit Auditor
	// Logger receives the dashboard's errors. Defaults to a logger that
	// discards.
	Logger *slog.Logger
	// SessionTTL is how long a sign-in lasts. Defaults to 8 hours.
	SessionTTL time.Duration
	// KeyCacheTTL is how long a session's API key lookup is remembered; a
	// revoked key's session stops within it. Defaults to 2 seconds;
	// negative disables the cache.
	KeyCacheTTL time.Duration
	// OverviewCustomers caps how many customers the overview reads for its
	// debt, top operations and usage chart. Defaults to 500.
	OverviewCustomers int
}

// Handler serves the dashboard. Mount it at Path + "/".
type Handler struct {
	l        *creditkit.Ledger
	st       store.ServerStore
	audit    Auditor
	log      *slog.Logger
	sessions *sessions
	pages    map[string]*pageTemplate
	static   http.Handler
	mux      *http.ServeMux
	// overviewCap is Options.OverviewCustomers.
	overviewCap int
}

// New builds the dashboard on a ledger. It loads (or creates, on first
// use) the session signing key from the server store.
func New(ctx context.Context, l *creditkit.Ledger, opts *Options) (*Handler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ServerStore == nil {
		st, ok := l.Store().(store.ServerStore)
		if !ok {
			return nil, creditkit.ErrNoServerStore
		}
		o.ServerStore = st
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.KeyCacheTTL == 0 {
		o.KeyCacheTTL = DefaultKeyCacheTTL
	}
	if o.OverviewCustomers <= 0 {
		o.OverviewCustomers = 500
	}
	if o.Audit == nil {
		o.Audit = defaultAuditor(l)
	}
	sess, err := newSessions(ctx, o.ServerStore, l.Now, o.SessionTTL, o.KeyCacheTTL)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(l.Config())
	if err != nil {
		return nil, err
	}
	staticFS, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: static files: %w", err)
	}
	h := &Handler{l: l, st: o.ServerStore, audit: o.Audit, log: o.Logger, sessions: sess, pages: pages,
		static: http.StripPrefix(Path+"/static/", http.FileServerFS(staticFS)), overviewCap: o.OverviewCustomers}
	h.routes()
	return h, nil
}

// routes registers every page and action. Pages need a signed-in user;
// actions need a user whose key allows them and the session's CSRF token.
func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET "+Path+"/static/", h.serveStatic)
	m.HandleFunc("GET "+Path+"/login", h.loginPage)
	m.HandleFunc("POST "+Path+"/login", h.login)
	m.HandleFunc("POST "+Path+"/logout", h.page(store.ScopeRead, h.logout))

	m.HandleFunc("GET "+Path+"/{$}", h.page(store.ScopeRead, h.overview))
	m.HandleFunc("GET "+Path+"/customers", h.page(store.ScopeRead, h.customers))
	m.HandleFunc("GET "+Path+"/customers/{customer}", h.page(store.ScopeRead, h.customer))
	m.HandleFunc("GET "+Path+"/audit", h.page(store.ScopeRead, h.auditPage))
	m.HandleFunc("GET "+Path+"/webhooks", h.page(store.ScopeRead, h.webhooks))
	m.HandleFunc("GET "+Path+"/operations", h.page(store.ScopeRead, h.operations))
	m.HandleFunc("GET "+Path+"/plans", h.page(store.ScopeRead, h.plans))

	// Actions need the scope their API endpoint needs.
	m.HandleFunc("POST "+Path+"/customers/{customer}/grant", h.page(store.ScopeWrite, h.grantAction))
	m.HandleFunc("POST "+Path+"/customers/{customer}/void", h.page(store.ScopeWrite, h.voidAction))
	m.HandleFunc("POST "+Path+"/customers/{customer}/adjust", h.page(store.ScopeWrite, h.adjustAction))
	m.HandleFunc("POST "+Path+"/customers/{customer}/reverse", h.page(store.ScopeWrite, h.reverseAction))
	m.HandleFunc("POST "+Path+"/customers/{customer}/plan", h.page(store.ScopeWrite, h.planAction))
	m.HandleFunc("POST "+Path+"/customers/{customer}/token", h.page(store.ScopeWrite, h.tokenAction))
	m.HandleFunc("POST "+Path+"/webhooks/{delivery}/replay", h.page(store.ScopeAdmin, h.replayAction))

	m.HandleFunc(Path+"/", h.page(store.ScopeRead, func(w http.ResponseWriter, r *http.Request, u *user) {
		h.fail(w, r, u, http.StatusNotFound, "There is no dashboard page at "+r.URL.Path+".")
	}))
	h.mux = m
}

// ServeHTTP serves the dashboard, with its security headers on every
// answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json" {
		// httpapi rewrites a form body's Content-Type to JSON for the API
		// (curl -d sends form encoding); every dashboard post is a form
		// (browsers and htmx send them form-encoded), so read it as one.
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy lets pages load only this origin's scripts, styles
// and images, and post forms only here. uPlot sizes its elements through
// the CSSOM (element.style), which style-src does not govern; htmx is told
// not to add its indicator <style> (see the htmx-config meta tag).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// serveStatic serves the vendored and own assets. Their names carry their
// versions, so they may be cached.
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	h.static.ServeHTTP(w, r)
}

// handlerFunc is a page or action of a signed-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, u *user)

// page wraps a handler: it finds the session's user (else sends the
// browser to sign in), checks the key's scope, and on POST the CSRF token.
func (h *Handler) page(need string, fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := h.sessions.user(r)
		if err != nil {
			if errors.Is(err, errNoSession) {
				if r.Method == http.MethodGet && !isHTMX(r) {
					http.Redirect(w, r, Path+"/login?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				if isHTMX(r) {
					w.Header().Set("HX-Redirect", Path+"/login")
				}
				http.Error(w, "Your session has ended: sign in again at "+Path+"/login.", http.StatusUnauthorized)
				return
			}
			h.log.Error("dashboard: check the session's key", "err", err)
			http.Error(w, "Cannot check your key now; retry shortly.", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost {
			if !u.validCSRF(csrfFrom(r)) {
				h.fail(w, r, u, http.StatusForbidden, "This form's security token is missing or stale: reload the page and try again.")
				return
			}
		}
		if !u.can(need) {
			if r.Method == http.MethodPost {
				h.recordForbidden(w, r, u)
			}
			h.fail(w, r, u, http.StatusForbidden, fmt.Sprintf("Your %s key cannot do this: it needs %s %s key.", u.Scope, article(need), need))
			return
		}
		fn(w, r, u)
	}
}

// csrfFrom returns the CSRF token of a POST: the X-CSRF-Token header
// (htmx sends it from the body's hx-headers) or the csrf form field.
func csrfFrom(r *http.Request) string {
	if t := r.Header.Get("X-CSRF-Token"); t != "" {
		return t
	}
	return r.PostFormValue("csrf")
}

// isHTMX reports whether htmx sent the request (it then swaps the answer
// into the page).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// safeNext keeps a local path to return to after sign-in.
func safeNext(p string) string {
	if !strings.HasPrefix(p, Path+"/") || strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return Path + "/"
	}
	return p
}

// article is "an" before a vowel sound, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// requestID is the id the server gave the request (httpapi sets the
// X-Request-Id response header before the dashboard runs).
func requestID(w http.ResponseWriter) string { return w.Header().Get("X-Request-Id") }
