package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// refillConfig is testConfig with a monthly plan whose unused credits
// expire at each refill.
const refillConfig = testConfig + `plans:
  monthly:
    gives: 1000 credits every month
    unused_credits: expire
`

// TestThreeServeProcessesRefillOncePerPeriod starts three serve processes,
// each with its scheduler, on one PostgreSQL database and one test clock,
// subscribes a customer to a monthly plan through the API, then jumps the
// clock of all three three months ahead at once: each missed period is
// refilled exactly once, in order, stamped at its own boundary, with one
// credits.granted event each, delivered once.
//
// It does not run in parallel with the package's other tests: its three
// processes would crowd TestThreeServeProcessesShareTheScheduler's, whose
// grants expire a few seconds after it starts them.
func TestThreeServeProcessesRefillOncePerPeriod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := setup(t)
	b.db = pgtest.NewDatabaseURL(t, cluster)
	if err := os.WriteFile(b.config, []byte(refillConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := creditkit.LoadConfig(b.config)
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(ctx, b.db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st := l.Store().(store.ServerStore)
	r := b.run(t, "--json", "keys", "create", "--name", "refills", "--scope", "admin")
	var key struct{ Secret string }
	if err := json.Unmarshal([]byte(r.stdout), &key); err != nil || key.Secret == "" {
		t.Fatalf("keys create: %v %s %s", err, r.stdout, r.stderr)
	}

	// A receiver that records each delivery of credits.granted by event.
	var mu sync.Mutex
	delivered := map[string]int{}            // event id -> deliveries
	effective := map[string]map[string]any{} // event id -> data
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		id, _ := p.Data["event_id"].(string)
		delivered[id]++
		effective[id] = p.Data
		mu.Unlock()
		w.WriteHeader(204)
	})}
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()
	if err := st.CreateWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: "we_refills", URL: "http://" + ln.Addr().String() + "/hook",
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", EventTypes: []string{creditkit.EventCreditsGranted}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// The three processes share the test clock's offset file: the clock
	// starts at the wall clock's time.
	clockFile := filepath.Join(b.dir, "clock")
	setOffset := func(d time.Duration) {
		t.Helper()
		tmp := clockFile + ".new"
		if err := os.WriteFile(tmp, []byte(d.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, clockFile); err != nil {
			t.Fatal(err)
		}
	}
	setOffset(0)
	var children []*exec.Cmd
	var outs []*syncBuffer
	var bases []string
	defer func() {
		for _, c := range children {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}()
	for i := 0; i < 3; i++ {
		args := []string{"--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0", "--tick", "50ms",
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
		base := ""
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "creditkit serving ") {
				base = line[strings.LastIndex(line, " ")+1:]
				break
			}
		}
		if !strings.HasPrefix(base, "http://127.0.0.1:") {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("serve %d did not say where it serves:\n%s", i, out)
		}
		bases = append(bases, base)
		go func() { _, _ = io.Copy(out, pipe) }()
	}
	logs := func() string {
		return fmt.Sprintf("serve 0:\n%s\nserve 1:\n%s\nserve 2:\n%s", outs[0], outs[1], outs[2])
	}
	if !strings.Contains(outs[0].String(), "test clock") {
		t.Errorf("serve does not warn that its clock is a test clock:\n%s", outs[0])
	}

	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	status, sub, err := call(client, "PUT", bases[0]+"/v1/customers/cust/subscription", key.Secret, map[string]any{"plan": "monthly"},
		"Idempotency-Key", "subscribe-cust")
	if err != nil || status != 200 || sub["status"] != "active" {
		t.Fatalf("subscribe: %d %v %v\n%s", status, sub, err, logs())
	}
	anchor, err := time.Parse(time.RFC3339Nano, sub["anchor"].(string))
	if err != nil {
		t.Fatal(err)
	}
	every := cfg.Plans["monthly"].Every
	boundaries := make([]time.Time, 4) // the first refill, then three missed
	for k := range boundaries {
		boundaries[k] = every.Boundary(anchor, k)
	}

	// The first refill's event delivered and recorded before the jump: a
	// delivery in flight across a three-month clock step would see its
	// lease over and be claimed and sent again by another process.
	for {
		ds, err := st.Deliveries(ctx, store.DeliveryQuery{Status: store.DeliverySucceeded, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) >= 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the first refill's credits.granted was not delivered\n%s", logs())
		case <-time.After(20 * time.Millisecond):
		}
	}

	// Jump three periods (and an hour) at once, in every process; each
	// tells its time in the balances it answers.
	setOffset(time.Until(boundaries[3].Add(time.Hour)).Round(time.Second))
	for i, base := range bases {
		status, bal, err := call(client, "GET", base+"/v1/customers/cust/balance", key.Secret, nil)
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(bal["at"]))
		if err != nil || status != 200 || at.Before(boundaries[3]) {
			t.Fatalf("serve %d after the jump: %d %v %v, want its time past %s", i, status, bal, err, boundaries[3])
		}
	}

	// Wait, asking each process in turn, until the three refills are in
	// the ledger and every credits.granted event reached the receiver.
	refills := func(base string) []creditkit.Entry {
		t.Helper()
		status, body, err := call(client, "GET", base+"/v1/customers/cust/ledger?category=subscription&limit=100", key.Secret, nil)
		if err != nil || status != 200 {
			t.Fatalf("GET ledger: %d %v %v", status, body, err)
		}
		raw, _ := json.Marshal(body["data"])
		var es []creditkit.Entry
		if err := json.Unmarshal(raw, &es); err != nil {
			t.Fatal(err)
		}
		return es
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		mu.Lock()
		got := len(delivered)
		mu.Unlock()
		if len(refills(bases[i%3])) >= len(boundaries) && got >= len(boundaries) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after the jump: %d refills in the ledger, %d credits.granted events delivered; want %d each\n%s",
				len(refills(bases[0])), got, len(boundaries), logs())
		case <-tick.C:
		}
	}
	for i, c := range children {
		_ = c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			t.Errorf("serve %d: %v\n%s", i, err, outs[i])
		}
	}
	children = nil

	// Exactly one refill per period, in order, each at its boundary.
	es, err := l.History(ctx, "cust", &creditkit.HistoryFilter{Category: creditkit.CategorySubscription})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(boundaries) {
		t.Fatalf("%d refills, want %d: %+v", len(es), len(boundaries), es)
	}
	for k, e := range es {
		if !e.At.Equal(boundaries[k]) || e.Amount != 1000 {
			t.Errorf("refill %d: %+d at %s, want +1000 at %s", k, e.Amount, e.At, boundaries[k])
		}
		if k > 0 && e.Actor != "scheduler" {
			t.Errorf("refill %d was written by %q, want a scheduler", k, e.Actor)
		}
	}
	grants, err := l.Grants(ctx, "cust", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != len(boundaries) {
		t.Fatalf("%d grants, want %d", len(grants), len(boundaries))
	}
	for k, g := range grants {
		if g.Source != creditkit.SourceSubscription || !g.EffectiveAt.Equal(boundaries[k]) {
			t.Errorf("grant %d: source %s effective %s, want subscription at %s", k, g.Source, g.EffectiveAt, boundaries[k])
		}
	}
	// The unused credits of each past period expired once, at its end.
	exp, err := l.History(ctx, "cust", &creditkit.HistoryFilter{Category: creditkit.CategoryExpiration})
	if err != nil {
		t.Fatal(err)
	}
	if len(exp) != 3 {
		t.Fatalf("%d expirations, want 3: %+v", len(exp), exp)
	}
	for k, e := range exp {
		if !e.At.Equal(boundaries[k+1]) || e.Amount != -1000 {
			t.Errorf("expiration %d: %+d at %s, want -1000 at %s", k, e.Amount, e.At, boundaries[k+1])
		}
	}
	// (This test's own ledger is on the wall clock: ask at the servers' time.)
	bal, err := l.Balance(ctx, "cust", &creditkit.BalanceOpts{At: boundaries[3].Add(time.Hour)})
	if err != nil || bal.Available != 1000 {
		t.Fatalf("balance = %+v (%v), want 1000 available", bal, err)
	}

	// One credits.granted (source subscription) event per period in the
	// outbox, each delivered exactly once.
	events, err := l.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var granted []*creditkit.Event
	for _, e := range events {
		if e.Type == creditkit.EventCreditsGranted && e.Customer == "cust" {
			granted = append(granted, e)
		}
	}
	if len(granted) != len(boundaries) {
		t.Fatalf("%d credits.granted events, want %d", len(granted), len(boundaries))
	}
	mu.Lock()
	defer mu.Unlock()
	for k, e := range granted {
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Data["effective_at"]))
		if e.Data["source"] != string(creditkit.SourceSubscription) || !at.Equal(boundaries[k]) {
			t.Errorf("event %d: source %v effective_at %v, want subscription at %s", k, e.Data["source"], e.Data["effective_at"], boundaries[k])
		}
		if delivered[e.ID] != 1 || effective[e.ID]["source"] != string(creditkit.SourceSubscription) {
			t.Errorf("event %s (period %d) was delivered %d times", e.ID, k, delivered[e.ID])
		}
	}
	if len(delivered) != len(boundaries) {
		t.Errorf("the receiver got %d distinct events, want %d", len(delivered), len(boundaries))
	}
	ds, err := st.Deliveries(ctx, store.DeliveryQuery{EndpointID: "we_refills", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != len(boundaries) {
		t.Fatalf("%d deliveries, want %d", len(ds), len(boundaries))
	}
}

// TestServeRefusesTestClockWithoutOptIn: --test-clock-file moves the
// server's time, so serve refuses it unless the environment opts in, and
// the flag is not in --help.
func TestServeRefusesTestClockWithoutOptIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	clockFile := filepath.Join(b.dir, "clock")
	if err := os.WriteFile(clockFile, []byte("720h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, env := range []map[string]string{{}, {envAllowTestClock: "1"}} {
		r := runMain(t, &Main{Dir: b.dir, Getenv: func(k string) string { return env[k] }},
			"--db", b.db, "serve", "--addr", "127.0.0.1:0", "--test-clock-file", clockFile)
		if msg := requireTextError(t, r, ExitError); !strings.Contains(msg, envAllowTestClock+"="+allowTestClockValue) {
			t.Errorf("with %v: %q does not say how to opt in", env, msg)
		}
	}
	help := runMain(t, &Main{}, "serve", "--help")
	if strings.Contains(help.stdout, "test-clock") {
		t.Errorf("serve --help lists the test clock:\n%s", help.stdout)
	}
	// With the opt-in, a file that holds no duration is refused too.
	if err := os.WriteFile(clockFile, []byte("next month\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runMain(t, &Main{Dir: b.dir, Getenv: func(k string) string {
		if k == envAllowTestClock {
			return allowTestClockValue
		}
		return ""
	}}, "--db", b.db, "serve", "--addr", "127.0.0.1:0", "--test-clock-file", clockFile)
	if msg := requireTextError(t, r, ExitError); !strings.Contains(msg, "not a duration") {
		t.Errorf("a bad clock file: %q", msg)
	}
}

// TestOffsetFileClock: the clock follows its file as it changes, and keeps
// its last offset when the file goes missing.
func TestOffsetFileClock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "clock")
	if _, err := newOffsetFileClock(path); err == nil {
		t.Fatal("a missing file was accepted")
	}
	if err := os.WriteFile(path, []byte("0s"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := newOffsetFileClock(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(c.Now()); d > time.Minute || d < -time.Minute {
		t.Fatalf("offset 0: now is %s away from the wall clock", d)
	}
	if err := os.WriteFile(path, []byte("2160h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(c.Now()); d < 2159*time.Hour || d > 2161*time.Hour {
		t.Fatalf("offset 2160h: now is %s ahead", d)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(c.Now()); d < 2159*time.Hour {
		t.Fatalf("after the file went away: now is %s ahead, want the last offset", d)
	}
}
