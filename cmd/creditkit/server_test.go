package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// remoteStart is where every clock of these tests starts, so that the
// --db and the --server runs stamp the same instants.
var remoteStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// remoteWorld is a real creditkit server in-process, on a temp SQLite
// ledger with the CLI tests' config and a manual clock, with a key of each
// scope.
type remoteWorld struct {
	url                string
	dir                string // the CLI's working directory: no config, no database
	clock              *creditkit.ManualClock
	l                  *creditkit.Ledger
	admin, write, read string
}

// newRemoteWorld starts the server.
func newRemoteWorld(t *testing.T) *remoteWorld {
	t.Helper()
	return newRemoteWorldBehind(t, nil)
}

// newRemoteWorldBehind is newRemoteWorld with the server's handler
// wrapped by wrap (nil for none).
func newRemoteWorldBehind(t *testing.T, wrap func(http.Handler) http.Handler) *remoteWorld {
	t.Helper()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	clock := creditkit.NewManualClock(remoteStart)
	cfg.Clock = clock
	l, err := creditkit.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "server.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close the server's ledger: %v", err)
		}
	})
	srv, err := httpapi.New(ctx, l, &httpapi.Options{KeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	w := &remoteWorld{url: hs.URL, dir: t.TempDir(), clock: clock, l: l}
	for _, k := range []struct {
		scope string
		to    *string
	}{{store.ScopeAdmin, &w.admin}, {store.ScopeWrite, &w.write}, {store.ScopeRead, &w.read}} {
		_, secret, err := httpapi.CreateKey(ctx, l.Store().(store.ServerStore), "cli test "+k.scope, k.scope, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		*k.to = secret
	}
	t.Cleanup(func() {
		// --server never touches --db (sqlite:creditkit.db in the
		// working directory).
		if _, err := os.Stat(filepath.Join(w.dir, "creditkit.db")); err == nil {
			t.Errorf("a command run with --server created the --db database")
		}
	})
	return w
}

// run runs the CLI against the server with key.
func (w *remoteWorld) run(t *testing.T, key string, args ...string) result {
	t.Helper()
	return runMain(t, &Main{Dir: w.dir}, append([]string{"--server", w.url, "--api-key", key}, args...)...)
}

// cliRun runs one command line in one mode.
type cliRun func(t *testing.T, args ...string) result

// idRE matches the library's IDs, such as grt_01JD3M6WQ2D5X0Y7K8ZPN4E9RS.
var idRE = regexp.MustCompile(`\b([a-z]+)_[0-9A-Z]{26}\b`)

// normalize rewrites what differs between two ledgers doing the same
// thing: IDs become prefix_ID, the actor (cli on --db, the API key on
// --server) becomes ACTOR, and the idempotency key the client generates
// for a write that had none (ck-...) is dropped, as --db records none.
func normalize(t *testing.T, out string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return idRE.ReplaceAllString(out, "${1}_ID")
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "actor" {
					x[k] = "ACTOR"
				} else if key, ok := e.(string); ok && k == "idempotency_key" && strings.HasPrefix(key, "ck-") {
					delete(x, k)
				} else {
					x[k] = walk(e)
				}
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			return idRE.ReplaceAllString(x, "${1}_ID")
		}
		return v
	}
	b, err := json.MarshalIndent(walk(v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// idOf returns the "id" of a JSON object.
func idOf(t *testing.T, out string) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s (%v)", out, err)
	}
	return v.ID
}

// cliScript runs every core verb, in order, and returns for each its
// exit code and what it printed, normalized. asJSON adds --json.
func cliScript(t *testing.T, run cliRun, advance func(time.Duration), asJSON bool) []string {
	t.Helper()
	var outs []string
	do := func(args ...string) {
		t.Helper()
		if asJSON {
			args = append([]string{"--json"}, args...)
		}
		r := run(t, args...)
		outs = append(outs, fmt.Sprintf("creditkit %s\nexit %d\nstderr: %s\n%s",
			idRE.ReplaceAllString(strings.Join(args, " "), "${1}_ID"), r.code, idRE.ReplaceAllString(r.stderr, "${1}_ID"), normalize(t, r.stdout)))
	}
	// ok runs a command that must succeed and returns its JSON stdout.
	ok := func(args ...string) string {
		t.Helper()
		r := run(t, append([]string{"--json"}, args...)...)
		if r.code != ExitOK {
			t.Fatalf("creditkit %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}

	do("grant", "alice", "100", "--reason", "signup_bonus", "--expires-in", "30d", "--meta", "plan=pro", "--idempotency-key", "g1")
	do("grant", "alice", "12.50", "--currency", "usd_credits", "--priority", "5")
	do("grant", "alice", "100", "--reason", "signup_bonus", "--expires-in", "30d", "--meta", "plan=pro", "--idempotency-key", "g1")
	advance(time.Minute)
	do("spend", "alice", "process_image", "mb=5.2", "--meta", "job=j1")
	do("spend", "alice", "premium_call", "--idempotency-key", "s1")
	do("debit", "alice", "3", "--reason", "support_fix")
	do("debit", "alice", "0.25", "--currency", "usd_credits")
	do("estimate", "process_image", "mb=3")
	do("estimate", "premium_call")
	do("balance", "alice")
	do("balance", "alice", "--currency", "usd_credits")
	do("balance", "alice", "--at", remoteStart.Add(30*time.Second).Format(time.RFC3339))

	h1 := idOf(t, ok("hold", "alice", "process_image", "mb=10", "--ttl", "1h", "--meta", "job=j2"))
	do("capture", h1, "--amount", "15", "--meta", "tokens=9")
	h2 := idOf(t, ok("hold", "alice", "send_email"))
	do("release", h2)
	h3 := idOf(t, ok("hold", "alice", "premium_call", "--amount", "1.25"))
	do("capture", h3)
	do("hold", "alice", "send_email", "--ttl", "10m")

	do("transfer", "alice", "bob", "10", "--meta", "why=gift")
	do("transfer", "alice", "bob", "1.50", "--currency", "usd_credits", "--evergreen")
	g := idOf(t, ok("grant", "bob", "40"))
	do("void", g, "--reason", "mistake")
	do("grants", "alice")
	do("grants", "bob", "--status", "voided")
	do("grants", "carol")
	do("history", "alice")
	do("history", "bob", "--limit", "2")
	do("history", "alice", "--operation", "process_image")

	// Corrections and alerts.
	sp := idOf(t, ok("spend", "alice", "process_image", "mb=2"))
	do("reverse", sp, "--amount", "5", "--reason", "render failed")
	do("reverse", sp, "--reason", "the rest")
	do("reverse", sp, "--reason", "once more")
	gx := idOf(t, ok("grant", "bob", "30", "--expires-in", "1mo"))
	do("void", gx, "--amount", "5", "--reason", "over-issued")
	do("expiry", gx, "--at", remoteStart.Add(90*24*time.Hour).Format(time.RFC3339), "--reason", "goodwill")
	do("expiry", gx, "--never")
	do("alerts", "alice", "50", "10%")
	do("alerts", "alice")
	do("alerts", "alice", "--clear")

	// Errors print the same error object.
	do("spend", "bob", "process_image", "mb=100")
	do("debit", "alice", "100", "--currency", "usd_credits")
	do("void", "grt_missing")
	do("spend", "alice", "no_such_op")
	do("capture", h2)

	advance(31 * 24 * time.Hour)
	do("run-due")
	do("balance", "alice")
	return outs
}

// TestServerMatchesDB runs the same commands on --db and on --server: the
// JSON and the text they print are the same but for IDs and actors.
func TestServerMatchesDB(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{true, false} {
		t.Run(map[bool]string{true: "json", false: "text"}[asJSON], func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.clock = creditkit.NewManualClock(remoteStart)
			db := cliScript(t, b.run, b.clock.Advance, asJSON)

			w := newRemoteWorld(t)
			remote := cliScript(t, func(t *testing.T, args ...string) result { return w.run(t, w.admin, args...) }, w.clock.Advance, asJSON)
			requireSameOutputs(t, db, remote)
		})
	}
}

// requireSameOutputs fails unless a script printed the same on --db and on
// --server.
func requireSameOutputs(t *testing.T, db, remote []string) {
	t.Helper()
	if len(db) != len(remote) {
		t.Fatalf("%d outputs on --db, %d on --server", len(db), len(remote))
	}
	for i := range db {
		if db[i] != remote[i] {
			t.Errorf("--server printed otherwise than --db:\n--- db\n%s\n--- server\n%s", db[i], remote[i])
		}
	}
}

// runOnDBAndServer runs a script with a write key on --db and on --server
// and requires the same outputs.
func runOnDBAndServer(t *testing.T, script func(t *testing.T, run cliRun) []string) {
	t.Helper()
	b := setup(t)
	b.clock = creditkit.NewManualClock(remoteStart)
	db := script(t, b.run)
	w := newRemoteWorld(t)
	remote := script(t, func(t *testing.T, args ...string) result { return w.run(t, w.write, args...) })
	requireSameOutputs(t, db, remote)
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	w := newRemoteWorld(t)
	if r := w.run(t, w.write, "--json", "grant", "alice", "10"); r.code != ExitOK {
		t.Fatalf("grant: exit %d: %s", r.code, r.stderr)
	}

	// Insufficient credits: exit 1 and the numbers, as on --db.
	e := requireError(t, w.run(t, w.write, "--json", "spend", "alice", "process_image", "mb=5"), ExitError)
	if e.Code != "insufficient_credits" || e.Needed == nil || *e.Needed != 15 || e.Available == nil || *e.Available != 10 || e.Currency != "credits" {
		t.Errorf("insufficient credits error = %+v; want needed 15, available 10 credits", e)
	}
	if want := "insufficient credits: alice needs 15 credits but has 10 credits available"; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}

	// The key's scope is enforced by the server.
	if e := requireError(t, w.run(t, w.read, "--json", "grant", "alice", "10"), ExitError); e.Code != httpapi.CodeForbidden {
		t.Errorf("grant with a read key: code %s, want forbidden", e.Code)
	}
	if e := requireError(t, w.run(t, w.write, "--json", "run-due"), ExitError); e.Code != httpapi.CodeForbidden {
		t.Errorf("run-due with a write key: code %s, want forbidden", e.Code)
	}
	if r := w.run(t, w.read, "--json", "balance", "alice"); r.code != ExitOK {
		t.Errorf("balance with a read key: exit %d: %s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"balance", "alice"}, {"grant", "alice", "10"}, {"estimate", "send_email"}} {
		if e := requireError(t, w.run(t, "ck_wrong", append([]string{"--json"}, args...)...), ExitError); e.Code != httpapi.CodeUnauthorized ||
			!strings.HasPrefix(e.Message, "the server refused --api-key: ") {
			t.Errorf("%s with a wrong key: %s %q, want unauthorized, saying the key was refused", args[0], e.Code, e.Message)
		}
	}

	// A customer token works as --api-key for its customer's reads, given
	// a --config for the amounts (a token cannot read the catalog).
	token, _, err := w.client(t).CreateToken(context.Background(), "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "local.yaml"), []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	var bal creditkit.Balance
	r := w.run(t, token, "--json", "--config", "local.yaml", "balance", "alice")
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &bal) != nil || bal.Available != 10 {
		t.Errorf("alice's balance with her token: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if e := requireError(t, w.run(t, token, "--json", "--config", "local.yaml", "balance", "bob"), ExitError); e.Code != httpapi.CodeForbidden {
		t.Errorf("bob's balance with alice's token: code %s, want forbidden", e.Code)
	}

	// Without a key, or with a bad URL, nothing is sent.
	r = runMain(t, &Main{Dir: w.dir}, "--json", "--server", w.url, "balance", "alice")
	if e := requireError(t, r, ExitError); e.Code != "invalid_request" || !strings.Contains(e.Message, "--api-key") {
		t.Errorf("no key: %+v", e)
	}
	r = runMain(t, &Main{Dir: w.dir}, "--json", "--server", "localhost:1", "--api-key", w.read, "balance", "alice")
	if e := requireError(t, r, ExitError); e.Code != "invalid_request" {
		t.Errorf("bad URL: %+v", e)
	}

	// The environment names the server and the key too.
	env := map[string]string{"CREDITKIT_SERVER": w.url, "CREDITKIT_API_KEY": w.read}
	r = runMain(t, &Main{Dir: w.dir, Getenv: func(k string) string { return env[k] }}, "--json", "balance", "alice")
	if r.code != ExitOK {
		t.Errorf("balance with CREDITKIT_SERVER and CREDITKIT_API_KEY: exit %d: %s", r.code, r.stderr)
	}
}

// client returns a library client of the world's server with the write
// key.
func (w *remoteWorld) client(t *testing.T) *httpapi.Client {
	t.Helper()
	c, err := httpapi.NewClient(w.url, w.write, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServerRetriesAnUnknownOutcome: the server applies a spend, and the
// answer is lost as a 503 outcome_unknown; the CLI retries under the key
// it generated and prints the entry the server wrote, charged once.
func TestServerRetriesAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var keys []string
	var first []byte
	w := newRemoteWorldBehind(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/v1/customers/alice/spend" {
				next.ServeHTTP(rw, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			if first == nil {
				first = rec.Body.Bytes()
				rw.Header().Set("Content-Type", "application/problem+json")
				rw.Header().Set("Retry-After", "0")
				rw.WriteHeader(http.StatusServiceUnavailable)
				_, _ = rw.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"the outcome of the write is unknown","code":"outcome_unknown"}`))
				return
			}
			for k, v := range rec.Header() {
				rw.Header()[k] = v
			}
			rw.WriteHeader(rec.Code)
			_, _ = rw.Write(rec.Body.Bytes())
		})
	})
	if r := w.run(t, w.write, "grant", "alice", "100"); r.code != ExitOK {
		t.Fatalf("grant: %s", r.stderr)
	}
	r := w.run(t, w.write, "--json", "spend", "alice", "process_image", "mb=5")
	if r.code != ExitOK {
		t.Fatalf("spend: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	var got, applied creditkit.Entry
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(first, &applied); err != nil {
		t.Fatal(err)
	}
	if got.ID != applied.ID {
		t.Fatalf("the CLI printed %s; the server wrote %s", got.ID, applied.ID)
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("attempts carried keys %q; want two under one key", keys)
	}
	bal, err := w.l.Balance(context.Background(), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != 85 {
		t.Fatalf("alice has %d; want 85, charged once", bal.Available)
	}
}
