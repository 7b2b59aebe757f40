package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// testGrace is how long a test server's shutdown waits for requests in
// flight: long, so that a loaded machine does not fail a test that passed,
// and it costs nothing when none is in flight.
const testGrace = 30 * time.Second

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

const testConfig = `
low_balance: 10 credits
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
`

// env is a real server on 127.0.0.1 over a real ledger, with a key of each
// scope.
type env struct {
	t                  *testing.T
	l                  *creditkit.Ledger
	st                 store.ServerStore
	srv                *httpapi.Server
	base               string
	admin, write, read string
	client             *http.Client
}

// storeURLs names the databases every end-to-end test runs on.
func storeURLs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "creditkit.db") },
		"postgres": func(t *testing.T) string { return pgtest.NewDatabaseURL(t, cluster) },
	}
}

// eachStore runs fn on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, url string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { fn(t, storeURLs(t)[name](t)) })
	}
}

// newEnv opens a ledger on url and serves it on 127.0.0.1:0.
func newEnv(t *testing.T, url string, tweak func(cfg *creditkit.Config, o *httpapi.Options)) *env {
	t.Helper()
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	o := &httpapi.Options{KeyCacheTTL: -1}
	if tweak != nil {
		tweak(cfg, o)
	}
	l, err := creditkit.Open(ctx, url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(ctx, l, o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, testGrace) }()
	// Every response the test sees is checked against the served document.
	client := &http.Client{Timeout: 30 * time.Second, Transport: newContract(t, srv.Handler()).transport(http.DefaultTransport.(*http.Transport).Clone())}
	t.Cleanup(func() {
		// Connections dialed but never used would hold Shutdown for 5 s.
		client.CloseIdleConnections()
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	})
	e := &env{t: t, l: l, st: l.Store().(store.ServerStore), srv: srv, base: "http://" + ln.Addr().String(),
		client: client}
	e.admin = e.key("admin")
	e.write = e.key("write")
	e.read = e.key("read")
	return e
}

// key creates an API key of a scope and returns its secret.
func (e *env) key(scope string) string {
	e.t.Helper()
	_, secret, err := httpapi.CreateKey(context.Background(), e.st, "test "+scope, scope, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// resp is an answer: status, headers and the decoded JSON body.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
	list   []any // body["data"] of a list
}

// do sends a request with an optional JSON body (a string is sent as is)
// and extra headers as name, value pairs.
func (e *env) do(method, path, key string, body any, headers ...string) resp {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header}
	if out.raw, err = io.ReadAll(res.Body); err != nil {
		e.t.Fatal(err)
	}
	if len(bytes.TrimSpace(out.raw)) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		var v any
		if err := json.Unmarshal(out.raw, &v); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, out.raw)
		}
		if m, ok := v.(map[string]any); ok {
			out.body = m
			out.list, _ = m["data"].([]any)
		}
	}
	return out
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(want int, method, path, key string, body any, headers ...string) resp {
	e.t.Helper()
	r := e.do(method, path, key, body, headers...)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.raw)
	}
	return r
}

// available returns a customer's available balance, read from the ledger.
func (e *env) available(customer string) creditkit.Amount {
	e.t.Helper()
	b, err := e.l.Balance(context.Background(), customer, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return b.Available
}

// num reads a JSON number field.
func num(m map[string]any, k string) int64 {
	f, _ := m[k].(float64)
	return int64(f)
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// timeZero is a fixed instant for tests on a manual clock.
func timeZero() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
