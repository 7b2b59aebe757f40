package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docURL names the served OpenAPI document for the schema compiler.
const docURL = "https://creditkit.test/openapi.json"

// contract checks every response an end-to-end test sees against the
// OpenAPI document the server serves at /openapi.json: the operation must
// list the status, the content type and the headers it answers with, and
// the body must match the schema. A response to a request no operation
// matches must be a Problem (404 or 405). It is how the document is kept
// from drifting from what the server really sends.
type contract struct {
	t     testing.TB
	doc   map[string]any
	paths []contractPath

	mu       sync.Mutex // guards compiler and compiled
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

// contractPath is one path of the document, as a pattern.
type contractPath struct {
	template string
	re       *regexp.Regexp
}

// newContract reads the document h serves at /openapi.json.
func newContract(t testing.TB, h http.Handler) *contract {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", rec.Code, rec.Body)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	c := &contract{t: t, doc: doc.(map[string]any), compiler: jsonschema.NewCompiler(), compiled: map[string]*jsonschema.Schema{}}
	c.compiler.AssertFormat()
	if err := c.compiler.AddResource(docURL, doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\\\{[^}]+\\\}`)
	for tmpl := range c.doc["paths"].(map[string]any) {
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$")
		c.paths = append(c.paths, contractPath{template: tmpl, re: re})
	}
	return c
}

// schema compiles the schema at a JSON pointer into the document.
func (c *contract) schema(tokens ...string) (*jsonschema.Schema, error) {
	var ptr strings.Builder
	for _, tok := range tokens {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
		ptr.WriteString("/" + url.PathEscape(tok))
	}
	loc := docURL + "#" + ptr.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.compiled[loc]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", loc, err)
	}
	c.compiled[loc] = s
	return s, nil
}

// get walks the document.
func (c *contract) get(tokens ...string) any {
	var v any = c.doc
	for _, tok := range tokens {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[tok]
	}
	return v
}

// check checks one response.
func (c *contract) check(method, escapedPath string, status int, header http.Header, body []byte) {
	if method == http.MethodHead {
		return
	}
	what := fmt.Sprintf("%s %s answered %d", method, escapedPath, status)
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	for _, p := range c.paths {
		if !p.re.MatchString(escapedPath) {
			continue
		}
		op, _ := c.get("paths", p.template, strings.ToLower(method)).(map[string]any)
		if op == nil {
			break // a wrong method: checked below
		}
		code := strconv.Itoa(status)
		resp, _ := c.get("paths", p.template, strings.ToLower(method), "responses", code).(map[string]any)
		if resp == nil {
			c.t.Errorf("contract: %s, a status the document does not list for %s %s (it lists %v)\n%s", what, method, p.template, keys(op["responses"]), body)
			return
		}
		for name := range asMap(resp["headers"]) {
			if header.Get(name) == "" {
				c.t.Errorf("contract: %s without the %s header the document lists", what, name)
			}
		}
		content := asMap(resp["content"])
		if len(content) == 0 {
			if len(bytes.TrimSpace(body)) > 0 {
				c.t.Errorf("contract: %s with a body, where the document lists none\n%s", what, body)
			}
			return
		}
		if content[ct] == nil {
			c.t.Errorf("contract: %s as %q; the document lists %v", what, ct, keys(content))
			return
		}
		c.validate(what, body, "paths", p.template, strings.ToLower(method), "responses", code, "content", ct, "schema")
		return
	}
	// No operation: an unknown path (404) or a wrong method (405), or one
	// of the server's own routes outside /v1 (health, metrics, docs).
	if ct == "application/problem+json" {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			c.t.Errorf("contract: %s, outside any operation of the document", what)
		}
		c.validate(what, body, "components", "schemas", "Problem")
		return
	}
	if strings.HasPrefix(escapedPath, "/v1/") {
		c.t.Errorf("contract: %s, outside any operation of the document\n%s", what, body)
	}
}

// validate checks a JSON body against the schema at a pointer.
func (c *contract) validate(what string, body []byte, tokens ...string) {
	s, err := c.schema(tokens...)
	if err != nil {
		c.t.Errorf("contract: %s: %v", what, err)
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		c.t.Errorf("contract: %s with a body that is not JSON: %v\n%s", what, err, body)
		return
	}
	if err := s.Validate(v); err != nil {
		c.t.Errorf("contract: %s with a body that does not match the document: %v\n%s", what, err, body)
	}
}

// transport checks the responses of a client that uses base.
func (c *contract) transport(base *http.Transport) http.RoundTripper {
	return &contractTransport{c: c, base: base}
}

// contractTransport is a RoundTripper that checks every response.
type contractTransport struct {
	c    *contract
	base *http.Transport
}

func (tr *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := tr.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	tr.c.check(req.Method, req.URL.EscapedPath(), res.StatusCode, res.Header, body)
	return res, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach base.
func (tr *contractTransport) CloseIdleConnections() { tr.base.CloseIdleConnections() }

// handler checks the responses of a handler.
func (c *contract) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		c.check(r.Method, r.URL.EscapedPath(), rec.Code, rec.Header(), rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func keys(v any) []string {
	var ks []string
	for k := range asMap(v) {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
