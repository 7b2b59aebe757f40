package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

var cluster *pgtest.Cluster

// Environment of a child process running the CLI (see TestMain).
const (
	envChild     = "CREDITKIT_TEST_CLI_CHILD"
	envChildArgs = "CREDITKIT_TEST_CLI_ARGS"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		// A child process: run the CLI with the given args until SIGTERM.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		code := NewMain().Run(ctx, strings.Split(os.Getenv(envChildArgs), "\x1f"))
		stop()
		os.Exit(code)
	}
	os.Exit(pgtest.Main(m, &cluster))
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs "serve" in-process until the returned stop is called,
// which returns the exit code. It returns once serve is ready, as told by
// Main.Ready.
func startServe(t *testing.T, m *Main, args ...string) (base string, stdout *syncBuffer, stop func() int) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	m.Stdout, m.Stderr = stdout, stderr
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	ready := make(chan string, 1)
	m.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, args) }()
	select {
	case base = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before it was ready\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() {
			cancel()
			code = <-done
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return base, stdout, stop
}

// call makes one API request and decodes the JSON answer.
func call(client *http.Client, method, url, key string, body any, headers ...string) (int, map[string]any, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, nil
}

// TestServeDemo: the README's first command starts, seeds customers,
// prints an admin key that works, and stops cleanly.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, out, stop := startServe(t, &Main{Dir: dir}, "serve", "--demo", "--addr", "127.0.0.1:0")
	key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())
	if key == nil {
		t.Fatalf("no admin key printed:\n%s", out)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for customer, want := range map[string]float64{"alice": 1482, "bob": 728, "carol": 5499} { // each with the free plan's 500
		status, body, err := call(client, "GET", base+"/v1/customers/"+customer+"/balance", key[1], nil)
		if err != nil || status != 200 || body["available"] != want {
			t.Fatalf("%s: %d %v %v, want available %v", customer, status, body, err, want)
		}
	}
	for _, p := range []string{"/docs", "/openapi.json", "/healthz", "/readyz", "/metrics"} {
		res, err := client.Get(base + p)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", p, res, err)
		}
		res.Body.Close()
	}
	client.CloseIdleConnections()
	if code := stop(); code != ExitOK {
		t.Fatalf("serve exited %d", code)
	}
	// A second start seeds nothing twice.
	base, out, stop = startServe(t, &Main{Dir: dir}, "serve", "--demo", "--addr", "127.0.0.1:0")
	key = regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())
	if status, body, _ := call(client, "GET", base+"/v1/customers/alice/balance", key[1], nil); status != 200 || body["available"] != 1482.0 {
		t.Fatalf("after a restart: %d %v", status, body)
	}
	client.CloseIdleConnections()
	stop()
}

// TestGracefulShutdownLosesNoAcknowledgedSpend stops serve while clients
// spend as fast as they can, then checks that every spend that was
// answered 200 is in the ledger.
func TestGracefulShutdownLosesNoAcknowledgedSpend(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if name == "postgres" {
				b.db = pgtest.NewDatabaseURL(t, cluster)
			}
			if r := b.run(t, "grant", "alice", "1000000"); r.code != 0 {
				t.Fatalf("grant: %s", r.stderr)
			}
			r := b.run(t, "--json", "keys", "create", "--name", "load", "--scope", "write")
			var k struct{ Secret string }
			if err := json.Unmarshal([]byte(r.stdout), &k); err != nil || k.Secret == "" {
				t.Fatalf("keys create: %v %s %s", err, r.stdout, r.stderr)
			}
			base, _, stop := startServe(t, &Main{Dir: b.dir}, "--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0", "--grace", "20s")

			var acked sync.Map // entry id -> idempotency key
			var nacked, n atomic.Int64
			var wg sync.WaitGroup
			stopping := make(chan struct{})
			reached := make(chan struct{}) // closed at the 300th acknowledged spend
			for c := 0; c < 16; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := &http.Client{Timeout: 30 * time.Second}
					defer client.CloseIdleConnections()
					for i := 0; ; i++ {
						idem := fmt.Sprintf("c%d-%d", c, i)
						status, body, err := call(client, "POST", base+"/v1/customers/alice/spend", k.Secret, map[string]any{"operation": "send_email"}, "Idempotency-Key", idem)
						if err != nil {
							select {
							case <-stopping:
								return // the server is gone
							default:
								t.Errorf("spend before shutdown: %v", err)
								return
							}
						}
						if status == 200 {
							acked.Store(body["id"].(string), idem)
							if n.Add(1) == 300 {
								close(reached)
							}
						} else {
							nacked.Add(1)
						}
					}
				}()
			}
			<-reached
			close(stopping)
			if code := stop(); code != ExitOK {
				t.Fatalf("serve exited %d", code)
			}
			wg.Wait()

			cfg, err := creditkit.LoadConfig(b.config)
			if err != nil {
				t.Fatal(err)
			}
			l, err := creditkit.Open(context.Background(), b.dbURL(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			inLedger := map[string]bool{}
			after := ""
			for {
				es, err := l.History(context.Background(), "alice", &creditkit.HistoryFilter{Limit: 1000, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					inLedger[e.ID] = true
				}
				if len(es) < 1000 {
					break
				}
				after = es[len(es)-1].ID
			}
			lost := 0
			total := 0
			acked.Range(func(id, _ any) bool {
				total++
				if !inLedger[id.(string)] {
					lost++
				}
				return true
			})
			bal, err := l.Balance(context.Background(), "alice", nil)
			if err != nil {
				t.Fatal(err)
			}
			if lost > 0 {
				t.Fatalf("%d of %d acknowledged spends are not in the ledger", lost, total)
			}
			if spent := 1000000 - int(bal.Available); spent != len(inLedger)-1 || spent < total {
				t.Fatalf("balance says %d spent, ledger has %d spends, %d acknowledged", spent, len(inLedger)-1, total)
			}
			t.Logf("%d spends acknowledged, %d refused during shutdown, %d in the ledger", total, nacked.Load(), len(inLedger)-1)
		})
	}
}

// dbURL returns the bundle's database URL as the library takes it.
func (b *bundle) dbURL() string { return b.db }

// TestThreeServeProcessesShareTheScheduler starts three serve processes on
// one PostgreSQL database and checks that each grant is expired once,
// noticed once, and each event delivered once to a webhook endpoint.
func TestThreeServeProcessesShareTheScheduler(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.db = pgtest.NewDatabaseURL(t, cluster)
	cfg, err := creditkit.LoadConfig(b.config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := creditkit.Open(ctx, b.db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st := l.Store().(store.ServerStore)

	// A receiver that counts deliveries per webhook-id, and closes all
	// when it has seen both events of every grant.
	const grants = 40
	var mu sync.Mutex
	got := map[string]int{}
	all := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		if got[r.Header.Get("webhook-id")] == 1 && len(got) == 2*grants {
			close(all)
		}
		mu.Unlock()
		w.WriteHeader(204)
	})}
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()
	if err := st.CreateWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: "we_test", URL: "http://" + ln.Addr().String() + "/hook",
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", EventTypes: []string{"credits.grant.*"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// The processes share a test clock (see testclock.go): the grants
	// expire half an hour from now, so their expiring notices are due at
	// once, and their expiry when the test moves the clock an hour on,
	// however long the granting took on a loaded machine.
	clockFile := filepath.Join(b.dir, "clock")
	if err := os.WriteFile(clockFile, []byte("0s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var children []*exec.Cmd
	var outs []*syncBuffer
	for i := 0; i < 3; i++ {
		args := []string{"--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0", "--tick", "50ms", "--expiring-notice", "1h",
			"--webhook-backoff", "200ms", "--allow-private-webhooks", "--test-clock-file", clockFile}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"=1", envChildArgs+"="+strings.Join(args, "\x1f"),
			envAllowTestClock+"="+allowTestClockValue)
		out := &syncBuffer{}
		cmd.Stderr = out
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
		outs = append(outs, out)
		// Ready when it prints where it serves; the rest of its output
		// goes to out.
		sc := bufio.NewScanner(pipe)
		for sc.Scan() && !strings.Contains(sc.Text(), "creditkit serving") {
		}
		go func() { _, _ = io.Copy(out, pipe) }()
	}
	defer func() {
		for _, c := range children {
			_ = c.Process.Kill()
		}
	}()

	expires := time.Now().Add(30 * time.Minute)
	for i := 0; i < grants; i++ {
		if _, err := l.Grant(ctx, fmt.Sprintf("cust%02d", i), 10, &creditkit.GrantOpts{ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	// Every grant granted and its expiring notice sent (a grant already
	// expired gets none): now the processes' clock passes their expiry.
	for deadline := time.Now().Add(60 * time.Second); ; {
		events, err := l.Events(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Type == creditkit.EventGrantExpiring {
				n++
			}
		}
		if n >= grants {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d expiring notices within 60s, want %d", n, grants)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And every notice's delivery recorded as succeeded: a delivery still
	// in flight when the clock jumps an hour would see its one-minute lease
	// over, and another process would claim and send it again. That is the
	// lease doing its job across a wall-clock step, not what this test is
	// about.
	for deadline := time.Now().Add(60 * time.Second); ; {
		ds, err := st.Deliveries(ctx, store.DeliveryQuery{Status: store.DeliverySucceeded, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) >= grants {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d expiring notices delivered within 60s, want %d", len(ds), grants)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tmp := clockFile + ".new"
	if err := os.WriteFile(tmp, []byte("1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, clockFile); err != nil {
		t.Fatal(err)
	}

	// Wait until every grant expired and both its events reached the receiver.
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		mu.Lock()
		n := len(got)
		mu.Unlock()
		t.Fatalf("the receiver got %d distinct events, want %d\nchild output:\n%s\n%s\n%s", n, 2*grants, outs[0], outs[1], outs[2])
	}
	for i, c := range children {
		_ = c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	children = nil

	expired, expiring := map[string]int{}, map[string]int{}
	events, err := l.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		switch e.Type {
		case creditkit.EventGrantExpired:
			expired[e.Customer]++
		case creditkit.EventGrantExpiring:
			expiring[e.Customer]++
		}
	}
	for i := 0; i < grants; i++ {
		c := fmt.Sprintf("cust%02d", i)
		es, err := l.History(ctx, c, &creditkit.HistoryFilter{Category: creditkit.CategoryExpiration})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || expired[c] != 1 || expiring[c] != 1 {
			t.Fatalf("%s: %d expiration entries, %d expired events, %d expiring events; want 1 each", c, len(es), expired[c], expiring[c])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %s was delivered %d times", id, n)
		}
	}
	ds, err := st.Deliveries(ctx, store.DeliveryQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2*grants {
		t.Fatalf("%d deliveries, want %d", len(ds), 2*grants)
	}
}

// TestKeysAndWebhooksCommands drives keys create/list/revoke and webhooks
// endpoints/list/replay on the database a server is running on, and checks
// the server's JSON logs.
func TestKeysAndWebhooksCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	create := func(scope string) (id, secret string) {
		r := b.run(t, "--json", "keys", "create", "--name", "ops "+scope, "--scope", scope)
		var k struct{ ID, Secret, Scope string }
		if err := json.Unmarshal([]byte(r.stdout), &k); err != nil || k.Scope != scope || !strings.HasPrefix(k.Secret, "ck_") {
			t.Fatalf("keys create: %v %s %s", err, r.stdout, r.stderr)
		}
		return k.ID, k.Secret
	}
	adminID, admin := create("admin")
	if r := b.run(t, "keys", "create", "--name", "x", "--scope", "root"); r.code != ExitUsage {
		t.Fatalf("scope root: exit %d", r.code)
	}

	// A receiver that fails everything, so deliveries stay failed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hits := make(chan struct{}, 100)
	rs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hits <- struct{}{}:
		default:
		}
		w.WriteHeader(500)
	})}
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()

	m := &Main{Dir: b.dir}
	base, _, stop := startServe(t, m, "--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0", "--allow-private-webhooks",
		"--tick", "20ms", "--webhook-backoff", "10ms", "--log-format", "json", "--key-cache-ttl", "0")
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	status, we, err := call(client, "POST", base+"/v1/webhook-endpoints", admin, map[string]any{"url": "http://" + ln.Addr().String() + "/hook"})
	if err != nil || status != 201 {
		t.Fatalf("create endpoint: %d %v %v", status, we, err)
	}
	if status, _, _ := call(client, "POST", base+"/v1/customers/alice/grants", admin, map[string]any{"amount": 5}); status != 201 {
		t.Fatalf("grant: %d", status)
	}

	// webhooks endpoints lists it; webhooks list shows the failed delivery.
	r := b.run(t, "--json", "webhooks", "endpoints")
	if !strings.Contains(r.stdout, we["id"].(string)) {
		t.Fatalf("webhooks endpoints: %s %s", r.stdout, r.stderr)
	}
	var ds []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = b.run(t, "--json", "webhooks", "list", "--status", "failed")
		ds = nil
		if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil {
			t.Fatalf("webhooks list: %v %s %s", err, r.stdout, r.stderr)
		}
		if len(ds) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery failed within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The delivery failed: its attempts are over. Forget them, replay, and
	// wait for the one attempt the replay makes.
	for len(hits) > 0 {
		<-hits
	}
	if r := b.run(t, "--json", "webhooks", "replay", ds[0].ID); r.code != ExitOK || !strings.Contains(r.stdout, `"status": "pending"`) {
		t.Fatalf("webhooks replay: %d %s %s", r.code, r.stdout, r.stderr)
	}
	select {
	case <-hits:
	case <-time.After(30 * time.Second):
		t.Fatal("the replayed delivery was not sent")
	}
	if r := b.run(t, "webhooks", "replay", "dlv_nope"); r.code != ExitError || !strings.Contains(r.stderr, "no delivery dlv_nope") {
		t.Fatalf("replay of nothing: %d %s", r.code, r.stderr)
	}

	// keys list shows both without secrets; revoke stops the key.
	r = b.run(t, "keys", "list")
	if !strings.Contains(r.stdout, adminID) || strings.Contains(r.stdout, admin) {
		t.Fatalf("keys list: %s", r.stdout)
	}
	if r := b.run(t, "keys", "revoke", adminID); r.code != ExitOK {
		t.Fatalf("revoke: %s", r.stderr)
	}
	if r := b.run(t, "keys", "revoke", adminID); r.code != ExitError {
		t.Fatalf("second revoke: exit %d", r.code)
	}
	// With --key-cache-ttl 0 a revoked key stops at once.
	if status, body, _ := call(client, "GET", base+"/v1/customers/alice/balance", admin, nil); status != 401 {
		t.Fatalf("a revoked key still works: %d %v", status, body)
	}
	client.CloseIdleConnections()
	if code := stop(); code != ExitOK {
		t.Fatalf("serve exited %d", code)
	}
	// --log-format json: one JSON object per line, requests with their id.
	logs := m.Stderr.(*syncBuffer).String()
	sawRequest := false
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" && rec["request_id"] != nil && rec["status"] != nil {
			sawRequest = true
		}
	}
	if !sawRequest {
		t.Fatalf("no request log line:\n%s", logs)
	}
}

// TestServeReportsWhatItFoundOnStart kills a serve process with SIGKILL
// after a write, then starts serve again: one log line says that SQLite's
// WAL was left behind and replayed, and how many holds past their TTL and
// grants past their expiry are due; the write survived. A clean restart
// says clean.
func TestServeReportsWhatItFoundOnStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two hours ago: a grant that expired an hour ago and a hold whose
	// ten minutes are long over.
	b.clock = creditkit.NewManualClock(time.Now().Add(-2 * time.Hour))
	b.grant(t, "alice", "50", "--expires-in", "1h")
	b.grant(t, "alice", "10")
	b.ok(t, "hold", "alice", "send_email", "--ttl", "10m")
	b.clock = nil
	r := b.run(t, "--json", "keys", "create", "--name", "crash", "--scope", "write")
	var k struct{ Secret string }
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil || k.Secret == "" {
		t.Fatalf("keys create: %v %s %s", err, r.stdout, r.stderr)
	}

	// A serve process that writes, then dies without closing anything.
	args := []string{"--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0", "--no-scheduler"}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), envChild+"=1", envChildArgs+"="+strings.Join(args, "\x1f"))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var base string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("the child printed no URL: %v", sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	client := &http.Client{Timeout: 10 * time.Second}
	if status, body, err := call(client, "POST", base+"/v1/customers/bob/grants", k.Secret, map[string]any{"amount": 7}); err != nil || status != 201 {
		t.Fatalf("grant through the child: %d %v %v", status, body, err)
	}
	client.CloseIdleConnections()
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if _, err := os.Stat(strings.TrimPrefix(b.db, "sqlite:") + "-wal"); err != nil {
		t.Fatalf("the killed process left no WAL: %v", err)
	}

	startupLine := func() string {
		t.Helper()
		m := &Main{Dir: b.dir}
		_, _, stop := startServe(t, m, "--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0", "--no-scheduler")
		if code := stop(); code != ExitOK {
			t.Fatalf("serve exited %d", code)
		}
		var lines []string
		for _, l := range strings.Split(m.Stderr.(*syncBuffer).String(), "\n") {
			if strings.Contains(l, "start-up check") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 {
			t.Fatalf("want one start-up line, got %q", lines)
		}
		return lines[0]
	}
	line := startupLine()
	for _, want := range []string{"level=WARN", "did not close the database", "sqlite_wal=recovered", "holds_past_ttl=1", "grants_past_expiry=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up line lacks %s: %s", want, line)
		}
	}
	b.requireAvailable(t, "bob", 7)
	line = startupLine()
	for _, want := range []string{"level=INFO", "sqlite_wal=clean", "holds_past_ttl=1", "grants_past_expiry=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up line after a clean stop lacks %s: %s", want, line)
		}
	}
}
