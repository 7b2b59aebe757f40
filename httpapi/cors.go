package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CORS for the customer widgets. A widget runs in the app's page, on the
// app's origin, and reads the creditkit server on another: the browser lets
// it read the answers only when the server says so. The server says so for
// the reads a customer token may make (GET, with an Authorization header)
// and for nothing else: no write, no admin endpoint, no dashboard page.
//
// Allowing any origin ("*") there is safe because these endpoints take no
// ambient credentials: the API reads no cookies and the server never sends
// Access-Control-Allow-Credentials, so a page can read only what it can
// already authenticate for with a bearer token it was given. A page that has
// no token learns nothing it could not learn with curl, and a token works
// from curl as well as from a browser. Listing origins narrows where the
// widgets may run, which is defence in depth, not the access control.

// corsHeaders are the request headers a widget's preflight may ask for.
var corsHeaders = []string{"authorization", "accept", "x-request-id", "cache-control", "pragma"}

// corsMaxAge is how long a browser may cache a preflight answer, in seconds.
const corsMaxAge = "600"

// corsPolicy is which origins may read which routes.
type corsPolicy struct {
	any     bool
	origins []string
	routes  *http.ServeMux // the GET routes a customer token may call
}

// AllowWidgetOrigins lets pages on origins (such as "https://app.example.com",
// or "*" for any) read, from a browser, the endpoints a customer token may
// call: GET only, with the Authorization header, never with cookies. It
// takes effect at once, for the routes registered so far; an empty list
// turns CORS off, which is the default. It returns an error naming an origin that is not a scheme, a host
// and an optional port.
func (s *Server) AllowWidgetOrigins(origins []string) error {
	p := &corsPolicy{routes: http.NewServeMux()}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			p.any = true
			continue
		}
		norm, err := normalizeOrigin(o)
		if err != nil {
			return err
		}
		p.origins = append(p.origins, norm)
	}
	if !p.any && len(p.origins) == 0 {
		s.cors.Store(nil)
		return nil
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for path, item := range s.api.OpenAPI().Paths {
		if op := item.Get; op != nil {
			if customer, _ := op.Metadata["customer"].(bool); customer {
				p.routes.Handle("GET "+path, ok)
			}
		}
	}
	s.cors.Store(p)
	return nil
}

// normalizeOrigin checks an origin and returns it as a browser sends it.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("widget origin %q: expected a scheme, a host and an optional port, such as https://app.example.com or http://localhost:3000, or * for any", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// allows reports whether pages on origin may read.
func (p *corsPolicy) allows(origin string) bool {
	return p.any || slices.Contains(p.origins, strings.ToLower(origin))
}

// matches reports whether a GET of r's path is a route a customer token
// may call.
func (p *corsPolicy) matches(r *http.Request) bool {
	probe := r.Clone(r.Context())
	probe.Method = http.MethodGet
	_, pattern := p.routes.Handler(probe)
	return pattern != ""
}

// withCORS answers preflights and marks the answers a page on an allowed
// origin may read, on the customer-token routes only.
func (s *Server) withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.cors.Load()
		origin := r.Header.Get("Origin")
		if p == nil || origin == "" || !p.matches(r) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if !p.any {
			h.Add("Vary", "Origin")
		}
		allowed := p.allows(origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			method := r.Header.Get("Access-Control-Request-Method")
			if !allowed || (method != http.MethodGet && method != http.MethodHead) || !corsHeadersAllowed(r.Header.Get("Access-Control-Request-Headers")) {
				// No CORS headers: the browser refuses the request.
				w.WriteHeader(http.StatusNoContent)
				return
			}
			setAllowOrigin(h, p, origin)
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			h.Set("Access-Control-Allow-Headers", "Authorization, Accept, X-Request-Id, Cache-Control, Pragma")
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			setAllowOrigin(h, p, origin)
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, WWW-Authenticate")
		}
		next.ServeHTTP(w, r)
	})
}

func setAllowOrigin(h http.Header, p *corsPolicy, origin string) {
	if p.any {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
}

// corsHeadersAllowed reports whether every header a preflight asks for is
// one a widget sends.
func corsHeadersAllowed(list string) bool {
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "" && !slices.Contains(corsHeaders, name) {
			return false
		}
	}
	return true
}
