package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/creditkit/creditkit"
)

// Limits on an endpoint's fields.
const (
	maxURLLength         = 2000
	maxDescriptionLength = 500
	maxEventTypes        = 100
)

// NewSecret returns a fresh Standard Webhooks signing secret: "whsec_" and
// 24 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// EndpointSpec is what a caller asks for when registering an endpoint.
type EndpointSpec struct {
	URL         string
	Description string
	EventTypes  []string
}

// CheckEndpoint validates an endpoint before it is stored. The URL must be
// an absolute http:// or https:// URL without user:password@ and, unless
// allowPrivate, must not name a loopback, private, link-local or
// unspecified address (a host name is checked again, once resolved, each
// time a webhook is sent). Each event type must be one the ledger emits
// (creditkit.EventTypes), a "prefix.*" that matches at least one of them,
// or "*"; an empty list subscribes to every event. The error is a
// creditkit.Error with code invalid_request that says what to fix.
func CheckEndpoint(e EndpointSpec, allowPrivate bool) error {
	if err := CheckURL(e.URL, allowPrivate); err != nil {
		return err
	}
	if len(e.Description) > maxDescriptionLength {
		return invalid("description is %d bytes long; the limit is %d", len(e.Description), maxDescriptionLength)
	}
	if !creditkit.IsText(e.Description) {
		return invalid("description is not plain text (it holds a NUL character or bytes that are not UTF-8): send plain text")
	}
	return CheckEventTypes(e.EventTypes)
}

// CheckURL validates an endpoint URL; see CheckEndpoint.
func CheckURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return invalid("url must be an absolute http:// or https:// URL, got %q", raw)
	}
	if len(raw) > maxURLLength {
		return invalid("url is %d bytes long; the limit is %d", len(raw), maxURLLength)
	}
	if u.User != nil {
		return invalid("url must not carry a user name or password (user:pass@host): authenticate the webhook by its signature")
	}
	if allowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return invalid("url %q points at this machine (localhost); webhooks go to public addresses unless the server runs with --allow-private-webhooks", raw)
	}
	if numericHost(host) {
		return invalid("url %q: %q is not a public host name: it is a number the resolver may read as an address (such as 127.1 or 0x7f000001); give a host name or a dotted-quad IPv4 address", raw, u.Hostname())
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if CheckDestination(ip, false) != nil {
			return invalid("url %q points at a loopback, private, link-local or unspecified address; webhooks go to public addresses unless the server runs with --allow-private-webhooks", raw)
		}
	}
	return nil
}

// CheckEventTypes validates an endpoint's event filter against the
// catalogue; see CheckEndpoint.
func CheckEventTypes(types []string) error {
	if len(types) > maxEventTypes {
		return invalid("event_types has %d items; the limit is %d", len(types), maxEventTypes)
	}
	catalogue := creditkit.EventTypes()
	for _, t := range types {
		if t == "*" || creditkit.IsEventType(t) {
			continue
		}
		if strings.HasSuffix(t, ".*") && len(t) > 2 {
			matched := false
			for _, c := range catalogue {
				if MatchEventType([]string{t}, c) {
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		return invalid("event_types: %q is not an event type; use one of %s, a prefix such as credits.grant.* that matches at least one, or *",
			t, strings.Join(catalogue, ", "))
	}
	return nil
}

// MatchEventType reports whether an endpoint subscribed to filter wants an
// event of type typ: an empty filter wants every event; otherwise an item
// matches exactly, "*" matches everything, and "credits.grant.*" matches
// every type that starts with "credits.grant.".
func MatchEventType(filter []string, typ string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		switch {
		case f == "*", f == typ:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(f, "*")):
			return true
		}
	}
	return false
}

// invalid is a creditkit invalid_request error.
func invalid(format string, args ...any) error {
	return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}
