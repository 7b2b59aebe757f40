package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/scheduler"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// receiver is a webhook endpoint on 127.0.0.1 that verifies signatures,
// fails the first failFirst attempts of each message, and processes each
// message once, deduplicated by webhook-id.
type receiver struct {
	t         *testing.T
	url       string
	secret    string
	failFirst int
	block     chan struct{} // when set, requests wait until it is closed

	mu        sync.Mutex
	attempts  map[string]int // by webhook-id
	processed map[string]int
	types     map[string]string
	badSig    int
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{t: t, failFirst: failFirst, attempts: map[string]int{}, processed: map[string]int{}, types: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	r.url = "http://" + ln.Addr().String() + "/hook"
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.block != nil {
		<-r.block
	}
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err != nil || wh.Verify(body, req.Header) != nil {
		r.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := req.Header.Get("webhook-id")
	r.attempts[id]++
	if r.attempts[id] <= r.failFirst {
		http.Error(w, "not now", http.StatusInternalServerError)
		return
	}
	if _, seen := r.types[id]; seen {
		// Already processed: acknowledge without doing it again.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("payload: %v", err)
	}
	r.types[id] = p.Type
	r.processed[id]++
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) snapshot() (attempts, processed map[string]int, badSig int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, p := map[string]int{}, map[string]int{}
	for k, v := range r.attempts {
		a[k] = v
	}
	for k, v := range r.processed {
		p[k] = v
	}
	return a, p, r.badSig
}

// allowPrivate lets the server register endpoints on 127.0.0.1, where the
// tests' receivers listen.
func allowPrivate(_ *creditkit.Config, o *httpapi.Options) { o.AllowPrivateWebhooks = true }

// startScheduler runs a scheduler with fast webhook retries until the test
// ends.
func startScheduler(t *testing.T, e *env, schedule []time.Duration) {
	t.Helper()
	wh, err := webhook.New(e.st, &webhook.Options{Schedule: schedule, Jitter: -1, Lease: 30 * time.Second, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := scheduler.New(e.l, &scheduler.Options{Interval: 10 * time.Millisecond, Webhooks: wh})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sch.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond until it holds, failing after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhookRetriedUntilDeliveredOnce: a receiver that fails three times
// and then succeeds gets each event exactly once after dedupe by
// webhook-id, and the delivery records four attempts.
func TestWebhookRetriedUntilDeliveredOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, allowPrivate)
		rc := newReceiver(t, 3)
		we := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": rc.url, "event_types": []string{"credits.spent"}})
		rc.secret = str(we.body, "secret")
		startScheduler(t, e, []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond})

		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100})
		sp := e.must(200, "POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "send_email"})
		events, err := e.l.Events(context.Background(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var spentID string
		for _, ev := range events {
			if ev.Type == "credits.spent" {
				spentID = ev.ID
			}
		}
		if spentID == "" {
			t.Fatalf("no credits.spent event after spend %s", str(sp.body, "id"))
		}
		waitFor(t, "the spent event to be processed", func() bool {
			_, p, _ := rc.snapshot()
			return p[spentID] > 0
		})
		var d map[string]any
		waitFor(t, "the delivery to be recorded as succeeded", func() bool {
			l := e.must(200, "GET", "/v1/webhook-deliveries?event="+spentID, e.admin, nil).list
			if len(l) != 1 {
				return false
			}
			d = l[0].(map[string]any)
			return str(d, "status") == store.DeliverySucceeded
		})
		attempts, processed, bad := rc.snapshot()
		if attempts[spentID] != 4 || processed[spentID] != 1 || bad != 0 {
			t.Fatalf("attempts %d (want 4), processed %d (want 1), bad signatures %d", attempts[spentID], processed[spentID], bad)
		}
		if num(d, "attempts") != 4 || num(d, "last_status") != 204 {
			t.Fatalf("delivery: %v", d)
		}
		if len(processed) != 1 || rc.types[spentID] != "credits.spent" {
			t.Fatalf("the filter let through %v", rc.types)
		}

		// A replay is sent again with the same webhook-id: the receiver
		// sees a fifth attempt and, deduplicating, still processed it once.
		e.must(200, "POST", "/v1/webhook-deliveries/"+str(d, "id")+"/replay", e.admin, nil)
		waitFor(t, "the replay", func() bool {
			a, _, _ := rc.snapshot()
			return a[spentID] == 5
		})
		if _, p, _ := rc.snapshot(); p[spentID] != 1 {
			t.Fatalf("processed %d times after the replay, want 1", p[spentID])
		}
	})
}

// TestWebhookGivesUpAfterSchedule: a receiver that always fails gets one
// attempt per scheduled wait plus the first, then the delivery fails.
func TestWebhookGivesUpAfterSchedule(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), allowPrivate)
	rc := newReceiver(t, 1000)
	we := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": rc.url})
	rc.secret = str(we.body, "secret")
	startScheduler(t, e, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond})
	e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 5})
	var d map[string]any
	waitFor(t, "the delivery to fail", func() bool {
		l := e.must(200, "GET", "/v1/webhook-deliveries?status=failed", e.admin, nil).list
		if len(l) == 0 {
			return false
		}
		d = l[0].(map[string]any)
		return true
	})
	// The status and its standard reason are kept, never the body the
	// receiver sent ("not now").
	if num(d, "attempts") != 3 || num(d, "last_status") != 500 || str(d, "last_error") != "HTTP 500 Internal Server Error" {
		t.Fatalf("failed delivery: %v", d)
	}
}

// TestSlowReceiverDoesNotBlockSpends: while a receiver holds every webhook
// request open, spends keep succeeding.
func TestSlowReceiverDoesNotBlockSpends(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), allowPrivate)
	rc := newReceiver(t, 0)
	rc.block = make(chan struct{})
	we := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": rc.url})
	rc.secret = str(we.body, "secret")
	startScheduler(t, e, []time.Duration{time.Second})
	e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100})
	waitFor(t, "a delivery to be in flight", func() bool {
		l := e.must(200, "GET", "/v1/webhook-deliveries", e.admin, nil).list
		return len(l) > 0 && num(l[0].(map[string]any), "attempts") == 0
	})
	for i := 0; i < 50; i++ {
		e.must(200, "POST", "/v1/customers/alice/spend", e.write, map[string]any{"operation": "send_email"})
	}
	if a, _, _ := rc.snapshot(); len(a) != 0 {
		t.Fatalf("the receiver answered while blocked: %v", a)
	}
	close(rc.block)
	if e.available("alice") != 50 {
		t.Fatalf("available %d, want 50", e.available("alice"))
	}
}

// TestWebhookEndpointDestinations: by default an endpoint on a loopback,
// private, link-local or unspecified address, on localhost, or with a
// user:password@ is refused with 422; a public URL is accepted.
func TestWebhookEndpointDestinations(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	for _, u := range []string{
		"http://127.0.0.1:8080/hook",
		"http://[::1]/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]/hook",
		"http://10.0.0.8/hook",
		"http://192.168.1.2/hook",
		"http://0.0.0.0/hook",
		"http://[::ffff:127.0.0.1]/hook",
		"http://localhost:3000/hook",
		"http://user:pass@hooks.example.com/credits",
		"ftp://hooks.example.com/credits",
	} {
		r := e.do("POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": u})
		if r.status != 422 || str(r.body, "code") != "invalid_request" {
			t.Errorf("%s: %d %s, want 422 invalid_request", u, r.status, r.raw)
		}
	}
	e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": "https://hooks.example.com/credits"})
	if l := e.must(200, "GET", "/v1/webhook-endpoints", e.admin, nil).list; len(l) != 1 {
		t.Fatalf("%d endpoints, want the 1 public one", len(l))
	}
}

// TestWebhookEventTypesCatalogue: event_types takes exact names from the
// catalogue, a prefix.* that matches at least one, or *; anything else is
// a 422 that lists the catalogue.
func TestWebhookEventTypesCatalogue(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	for _, types := range [][]string{{"credits.spnt"}, {"credits.spent", "credits.nothing.*"}, {"credits"}, {""}, {".*"}, {"credits.spent*"}} {
		r := e.do("POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": "https://hooks.example.com/a", "event_types": types})
		detail := str(r.body, "detail")
		if r.status != 422 || !strings.Contains(detail, "credits.spent") || !strings.Contains(detail, "hold.expired") {
			t.Errorf("event_types %q: %d %s, want 422 listing the catalogue", types, r.status, r.raw)
		}
	}
	for _, types := range [][]string{{"credits.spent"}, {"credits.grant.*"}, {"credits.*", "hold.expired"}, {"*"}, {}} {
		e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": "https://hooks.example.com/b", "event_types": types})
	}
}

// TestWebhookReplayOfCreationReturnsSecret: an idempotent replay of an
// endpoint's creation answers as the first request did, secret included,
// as docs/api.md says.
func TestWebhookReplayOfCreationReturnsSecret(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	body := map[string]any{"url": "https://hooks.example.com/c"}
	first := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, body, "Idempotency-Key", "we-secret")
	again := e.must(201, "POST", "/v1/webhook-endpoints", e.admin, body, "Idempotency-Key", "we-secret")
	if s := str(first.body, "secret"); !strings.HasPrefix(s, "whsec_") || str(again.body, "secret") != s || str(again.body, "id") != str(first.body, "id") {
		t.Fatalf("first %s\nreplay %s", first.raw, again.raw)
	}
}
