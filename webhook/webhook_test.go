package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

func TestCheckDestination(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.1", true},
		{"192.168.0.1", true}, {"169.254.169.254", true}, {"fe80::1", true}, {"fc00::1", true}, {"0.0.0.0", true},
		{"::", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true}, {"100.64.0.1", true}, {"224.0.0.1", true},
		{"93.184.215.14", false}, {"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false}, {"8.8.8.8", false},
	} {
		err := webhook.CheckDestination(netip.MustParseAddr(c.addr), false)
		if refused := errors.Is(err, webhook.ErrPrivateDestination); refused != c.refused {
			t.Errorf("%s: refused %v (%v), want %v", c.addr, refused, err, c.refused)
		}
		if err := webhook.CheckDestination(netip.MustParseAddr(c.addr), true); err != nil {
			t.Errorf("%s with private destinations allowed: %v", c.addr, err)
		}
	}
}

// bundle is a SQLite store with one event in its outbox and a receiver on
// 127.0.0.1 that counts the requests it gets.
type bundle struct {
	st       *sqlite.Store
	received atomic.Int64
	url      string
	clock    *creditkit.ManualClock
}

func setup(t *testing.T, status int, body string) *bundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wh.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &bundle{st: st, clock: creditkit.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b.received.Add(1)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	err = st.Update(t.Context(), func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Events: []*store.Event{{ID: "evt_1", Type: creditkit.EventCreditsSpent,
			Customer: "amy", Currency: "credits", Data: []byte(`{}`), At: b.clock.Now()}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// endpoint stores an endpoint as it is, without the registration checks,
// as if its name had resolved to a public address when it was registered.
func (b *bundle) endpoint(t *testing.T, url string) {
	t.Helper()
	if err := b.st.CreateWebhookEndpoint(t.Context(), &store.WebhookEndpoint{ID: "we_1", URL: url, Secret: webhook.NewSecret(),
		CreatedAt: b.clock.Now()}); err != nil {
		t.Fatal(err)
	}
}

// deliverOnce dispatches the outbox and makes one round of attempts.
func (b *bundle) deliverOnce(t *testing.T, allowPrivate bool) *store.Delivery {
	t.Helper()
	d, err := webhook.New(b.st, &webhook.Options{AllowPrivate: allowPrivate, Now: b.clock.Now, Jitter: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Dispatch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Deliver(t.Context()); err != nil || n != 1 {
		t.Fatalf("delivered %d (err %v), want 1 attempt", n, err)
	}
	ds, err := b.st.Deliveries(t.Context(), store.DeliveryQuery{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("%d deliveries (err %v), want 1", len(ds), err)
	}
	return ds[0]
}

// TestDialRefusesPrivateDestinations: the address is checked when the
// connection is made, after name resolution, so an endpoint whose name
// resolves to this machine (a rebinding name; here localhost) gets nothing
// and its delivery records why.
func TestDialRefusesPrivateDestinations(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		b := setup(t, http.StatusNoContent, "")
		b.endpoint(t, strings.Replace(b.url, "127.0.0.1", host, 1)+"/hook")
		d := b.deliverOnce(t, false)
		if b.received.Load() != 0 {
			t.Fatalf("%s: the receiver got %d requests", host, b.received.Load())
		}
		if d.Status != store.DeliveryPending || d.Attempts != 1 || !strings.Contains(d.LastError, "private") {
			t.Fatalf("%s: delivery %s, %d attempts, error %q; want a retry saying the destination is private", host, d.Status, d.Attempts, d.LastError)
		}
	}
}

// TestAllowPrivateDelivers: with private destinations allowed (local
// development), the same endpoint gets its webhook.
func TestAllowPrivateDelivers(t *testing.T) {
	t.Parallel()
	b := setup(t, http.StatusNoContent, "")
	b.endpoint(t, b.url+"/hook")
	d := b.deliverOnce(t, true)
	if b.received.Load() != 1 || d.Status != store.DeliverySucceeded || d.LastStatus != 204 {
		t.Fatalf("received %d, delivery %s status %d; want 1, succeeded 204", b.received.Load(), d.Status, d.LastStatus)
	}
}

// TestFailureKeepsStatusNotBody: a non-2xx answer is recorded as its
// status and standard reason; the body, which may hold anything, is kept
// nowhere.
func TestFailureKeepsStatusNotBody(t *testing.T) {
	t.Parallel()
	b := setup(t, http.StatusServiceUnavailable, "internal secret: db password is hunter2")
	b.endpoint(t, b.url+"/hook")
	d := b.deliverOnce(t, true)
	if d.LastStatus != 503 || d.LastError != "HTTP 503 Service Unavailable" || d.Status != store.DeliveryPending {
		t.Fatalf("delivery %s, status %d, error %q; want pending, 503, HTTP 503 Service Unavailable", d.Status, d.LastStatus, d.LastError)
	}
	if got := webhook.DeliveryOf(d).LastError; strings.Contains(got, "hunter2") {
		t.Fatalf("the API shows the body: %q", got)
	}
}

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		spec webhook.EndpointSpec
		ok   bool
	}{
		{webhook.EndpointSpec{URL: "https://hooks.example.com/x"}, true},
		{webhook.EndpointSpec{URL: "https://hooks.example.com/x", EventTypes: []string{"credits.grant.*", "hold.expired"}}, true},
		{webhook.EndpointSpec{URL: "https://hooks.example.com/x", EventTypes: []string{"credits.spnt"}}, false},
		{webhook.EndpointSpec{URL: "https://hooks.example.com/x", EventTypes: []string{"billing.*"}}, false},
		{webhook.EndpointSpec{URL: "https://a:b@hooks.example.com/x"}, false},
		{webhook.EndpointSpec{URL: "https://a@hooks.example.com/x"}, false},
		{webhook.EndpointSpec{URL: "http://[::1]:80/x"}, false},
		{webhook.EndpointSpec{URL: "http://app.localhost/x"}, false},
		{webhook.EndpointSpec{URL: "/relative"}, false},
	} {
		err := webhook.CheckEndpoint(c.spec, false)
		if (err == nil) != c.ok {
			t.Errorf("%+v: %v, want ok %v", c.spec, err, c.ok)
		}
		if err != nil && creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
			t.Errorf("%+v: code %s, want invalid_request", c.spec, creditkit.ErrorCodeOf(err))
		}
	}
}

// TestCheckURLRefusesNumericHosts: a host that is a number in a form other
// than a canonical dotted quad (127.1, 0x7f000001, 2130706433, 0,
// 0177.0.0.1) reads as an address to resolvers, so it is refused at
// creation as not a public host name, unless private webhooks are allowed;
// host names that merely look like hex or hold digits pass.
func TestCheckURLRefusesNumericHosts(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.1", "0x7f000001", "2130706433", "0", "0177.0.0.1", "0x7f.1", "127.0.0.1.", "8.8.2056", "010.0.0.1", "0x"} {
		raw := "http://" + host + "/hook"
		err := webhook.CheckURL(raw, false)
		if err == nil || creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
			t.Errorf("%s: %v, want invalid_request", raw, err)
			continue
		}
		if host != "127.0.0.1." && !strings.Contains(err.Error(), "is not a public host name") {
			t.Errorf("%s: %v, want it to say the host is not a public host name", raw, err)
		}
		if err := webhook.CheckURL(raw, true); err != nil {
			t.Errorf("%s with private webhooks allowed: %v", raw, err)
		}
	}
	for _, host := range []string{"8.8.8.8", "cafe.example", "0xdeadbeef.example", "123.example.com", "1e100.net", "hooks.example.com"} {
		if err := webhook.CheckURL("https://"+host+"/hook", false); err != nil {
			t.Errorf("%s: %v, want it accepted", host, err)
		}
	}
	if err := webhook.CheckEndpoint(webhook.EndpointSpec{URL: "https://hooks.example.com/x", Description: "a\x00b"}, false); err == nil ||
		!strings.Contains(err.Error(), "NUL") {
		t.Errorf("description with a NUL: %v, want it refused", err)
	}
}
