package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestEnumErrorsListEveryValue: a query parameter outside its enum answers
// 422 with a message that lists every allowed value, without the empty
// value that stands for "absent".
func TestEnumErrorsListEveryValue(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	cases := []struct {
		path, param string
		allowed     []string
	}{
		{"/v1/customers/alice/usage?by=category", "by", []string{"operation"}},
		{"/v1/customers/alice/usage?interval=week", "interval", []string{"hour", "day", "month"}},
		{"/v1/customers/alice/ledger?order=newest", "order", []string{"asc", "desc"}},
		{"/v1/customers/alice/grants?status=gone", "status", []string{"scheduled", "active", "depleted", "expired", "voided"}},
		{"/v1/webhook-deliveries?status=lost", "status", []string{"pending", "succeeded", "failed"}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r := e.do("GET", c.path, e.admin, nil)
			if r.status != 422 || str(r.body, "code") != "invalid_request" {
				t.Fatalf("status %d code %q, want 422 invalid_request\n%s", r.status, str(r.body, "code"), r.raw)
			}
			want := fmt.Sprintf(`expected value to be one of "%s"`, strings.Join(c.allowed, ", "))
			errs, _ := r.body["errors"].([]any)
			if len(errs) != 1 || str(errs[0].(map[string]any), "message") != want || str(errs[0].(map[string]any), "location") != "query."+c.param {
				t.Fatalf("errors %v, want one at query.%s saying %s", errs, c.param, want)
			}
			if d := str(r.body, "detail"); !strings.Contains(d, "query."+c.param) || !strings.Contains(d, want) {
				t.Errorf("detail %q does not say which parameter and which values", d)
			}
			if strings.Contains(string(r.raw), `, \"`) {
				t.Errorf("garbled enum (an empty value): %s", r.raw)
			}
		})
	}
	// The document lists the same values, without "".
	for path, item := range e.srv.OpenAPI().Paths {
		if item.Get == nil {
			continue
		}
		for _, p := range item.Get.Parameters {
			if p.Schema != nil && slices.Contains(p.Schema.Enum, any("")) {
				t.Errorf("GET %s parameter %s has an empty enum value", path, p.Name)
			}
		}
	}
}

// TestAmountsOutOfRange: an amount that does not fit in 64 bits answers
// 422 invalid_amount with the allowed range, on every body with an amount,
// and moves no credit.
func TestAmountsOutOfRange(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 100})
		hold := str(e.must(201, "POST", "/v1/customers/alice/holds", e.write, map[string]any{"amount": 10}).body, "id")
		bodies := map[string]string{
			"/v1/customers/alice/grants":     `{"amount":%s}`,
			"/v1/customers/alice/spend":      `{"amount":%s}`,
			"/v1/customers/alice/holds":      `{"amount":%s}`,
			"/v1/holds/" + hold + "/capture": `{"amount":%s}`,
			"/v1/transfers":                  `{"from":"alice","to":"bob","amount":%s}`,
		}
		for path, tmpl := range bodies {
			for _, n := range []string{"1e30", "9223372036854775808", "-9223372036854775809"} {
				t.Run(path+" "+n, func(t *testing.T) {
					r := e.do("POST", path, e.write, fmt.Sprintf(tmpl, n))
					if r.status != 422 || str(r.body, "code") != "invalid_amount" {
						t.Fatalf("status %d code %q, want 422 invalid_amount\n%s", r.status, str(r.body, "code"), r.raw)
					}
					d := str(r.body, "detail")
					if !strings.Contains(d, "9223372036854775807") || !strings.Contains(d, n) || strings.Contains(d, "Go struct") {
						t.Fatalf("detail %q should give the value and the range", d)
					}
				})
			}
		}
		if got := e.available("alice"); got != 90 {
			t.Fatalf("available %d, want 90: a refused amount moved credits", got)
		}
		// The largest amount is still accepted.
		e.must(201, "POST", "/v1/customers/carol/grants", e.write, `{"amount":9223372036854775807}`)
	})
}

// TestLastPageHasNoCursor: a list whose last page is full carries no
// next_cursor; a page with more after it does.
func TestLastPageHasNoCursor(t *testing.T) {
	eachStore(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, nil)
		for range 4 {
			e.must(201, "POST", "/v1/customers/alice/grants", e.write, map[string]any{"amount": 5})
		}
		for _, list := range []string{"/v1/customers/alice/grants", "/v1/customers/alice/ledger", "/v1/customers/alice/grants?status=active", "/v1/customers/alice/ledger?order=desc"} {
			sep := "?"
			if strings.Contains(list, "?") {
				sep = "&"
			}
			p1 := e.must(200, "GET", list+sep+"limit=2", e.read, nil)
			if len(p1.list) != 2 || str(p1.body, "next_cursor") == "" {
				t.Fatalf("%s first page: %s", list, p1.raw)
			}
			p2 := e.must(200, "GET", list+sep+"limit=2&cursor="+str(p1.body, "next_cursor"), e.read, nil)
			if len(p2.list) != 2 {
				t.Fatalf("%s last page: %s", list, p2.raw)
			}
			if _, ok := p2.body["next_cursor"]; ok {
				t.Fatalf("%s: the full last page has a next_cursor: %s", list, p2.raw)
			}
			if all := e.must(200, "GET", list+sep+"limit=4", e.read, nil); len(all.list) != 4 || all.body["next_cursor"] != nil {
				t.Fatalf("%s: one full page of everything has a next_cursor: %s", list, all.raw)
			}
		}
	})
}

// TestWrongMethod: every path answers a method it does not serve with 405,
// an Allow header listing the methods it does serve, and a problem.
func TestWrongMethod(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	param := regexp.MustCompile(`\{[^}]+\}`)
	paths := map[string][]string{
		"/metrics": {"GET"}, "/docs": {"GET"}, "/openapi.json": {"GET"},
	}
	for path, item := range e.srv.OpenAPI().Paths {
		for m, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil {
				paths[path] = append(paths[path], m)
			}
		}
	}
	if len(paths) < 15 {
		t.Fatalf("only %d paths", len(paths))
	}
	for path, methods := range paths {
		want := slices.Clone(methods)
		if slices.Contains(want, "GET") {
			want = append(want, "HEAD")
		}
		url := param.ReplaceAllString(path, "x")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "BREW"} {
			if slices.Contains(methods, m) {
				continue
			}
			r := e.do(m, url, e.admin, nil)
			if r.status != http.StatusMethodNotAllowed || str(r.body, "code") != "method_not_allowed" {
				t.Errorf("%s %s: %d %s, want 405 method_not_allowed", m, url, r.status, r.raw)
				continue
			}
			allow := strings.Split(r.header.Get("Allow"), ", ")
			slices.Sort(allow)
			slices.Sort(want)
			if !slices.Equal(allow, want) {
				t.Errorf("%s %s: Allow %v, want %v", m, url, allow, want)
			}
		}
	}
	if r := e.do("GET", "/v1/nowhere", e.admin, nil); r.status != 404 || r.header.Get("Allow") != "" {
		t.Errorf("unknown path: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

// TestMetricsMethodLabel: made-up methods are counted as OTHER, so they
// cannot grow /metrics.
func TestMetricsMethodLabel(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	for i := range 50 {
		e.do(fmt.Sprintf("X%dMADEUP", i), "/v1/operations", "", nil)
	}
	e.do("GET", "/v1/operations", e.read, nil)
	m := string(e.must(200, "GET", "/metrics", "", nil).raw)
	if strings.Contains(m, "MADEUP") {
		t.Fatalf("made-up methods are labels in /metrics")
	}
	if !strings.Contains(m, `method="OTHER"`) || !strings.Contains(m, `method="GET"`) {
		t.Fatalf("no OTHER or GET label in /metrics:\n%s", m)
	}
	if c := regexp.MustCompile(`creditkit_http_requests_total\{method="OTHER",route="/",status="405"\} (\d+)`).FindStringSubmatch(m); c == nil || c[1] != "50" {
		t.Fatalf("OTHER requests: %v", c)
	}
}

// TestOpenAPIDocumentsErrors: the served document declares one Problem
// schema with every field the server sends, lists each operation's error
// statuses (never only a default), and has a servers block. That the
// server keeps to it is checked on every response of every end-to-end test
// (see contract).
func TestOpenAPIDocumentsErrors(t *testing.T) {
	e := newEnv(t, storeURLs(t)["sqlite"](t), nil)
	doc := e.must(200, "GET", "/openapi.json", "", nil).body
	if servers, _ := doc["servers"].([]any); len(servers) == 0 || str(servers[0].(map[string]any), "url") == "" {
		t.Fatalf("no servers: %v", doc["servers"])
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	if schemas["ErrorModel"] != nil {
		t.Errorf("huma's ErrorModel, which the server never sends, is still in the document")
	}
	problem, _ := schemas["Problem"].(map[string]any)
	props, _ := problem["properties"].(map[string]any)
	for _, f := range []string{"type", "title", "status", "detail", "code", "request_id", "customer", "needed", "available", "currency", "errors"} {
		if props[f] == nil {
			t.Errorf("Problem lacks %s", f)
		}
	}
	want := map[string][]string{
		"post /v1/customers/{customer}/spend":  {"400", "401", "402", "403", "409", "413", "422", "500", "503"},
		"post /v1/customers/{customer}/holds":  {"402", "409", "422"},
		"post /v1/transfers":                   {"402", "409", "422"},
		"get /v1/grants/{grant}":               {"401", "403", "404", "422", "500", "503"},
		"post /v1/holds/{hold}/capture":        {"404", "409", "413", "422"},
		"post /v1/grants/{grant}/void":         {"404", "409"},
		"get /v1/customers/{customer}/balance": {"401", "403", "422", "503"},
		"get /v1/operations":                   {"401", "403", "500", "503"},
	}
	ops := 0
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			responses := op.(map[string]any)["responses"].(map[string]any)
			if op.(map[string]any)["security"] == nil {
				continue // the probes
			}
			ops++
			if responses["default"] != nil {
				t.Errorf("%s %s has a default response", method, path)
			}
			for code, r := range responses {
				if code[0] != '4' && code[0] != '5' {
					continue
				}
				ref := r.(map[string]any)["content"].(map[string]any)["application/problem+json"].(map[string]any)["schema"].(map[string]any)["$ref"]
				if ref != "#/components/schemas/Problem" {
					t.Errorf("%s %s %s: schema %v, want the Problem", method, path, code, ref)
				}
			}
			for _, code := range want[method+" "+path] {
				if responses[code] == nil {
					t.Errorf("%s %s does not list %s", method, path, code)
				}
			}
			if got := responses["503"]; got == nil || got.(map[string]any)["headers"].(map[string]any)["Retry-After"] == nil {
				t.Errorf("%s %s: 503 without Retry-After", method, path)
			}
		}
	}
	if ops < 20 {
		t.Fatalf("only %d operations", ops)
	}
	custom := newEnv(t, storeURLs(t)["sqlite"](t), func(_ *creditkit.Config, o *httpapi.Options) { o.PublicURL = "https://credits.example.com" })
	if servers, _ := custom.must(200, "GET", "/openapi.json", "", nil).body["servers"].([]any); len(servers) != 1 || str(servers[0].(map[string]any), "url") != "https://credits.example.com" {
		t.Errorf("servers with a PublicURL: %v", servers)
	}
	page := string(e.must(200, "GET", "/docs", "", nil).raw)
	for _, want := range []string{"errors (problem details)", "<td>402</td>", "outcome_unknown", "Retry-After"} {
		if !strings.Contains(page, want) {
			t.Errorf("the docs page does not show the errors: lacks %q", want)
		}
	}
	if responses := doc["paths"].(map[string]any)["/v1/operations"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any); responses["422"] != nil || responses["402"] != nil {
		t.Errorf("GET /v1/operations lists statuses it cannot answer: %v", keys(responses))
	}
}

// TestWebhookEndpointListHasNoCursorOnItsLastPage: the webhook endpoint
// list pages like every other list.
func TestWebhookEndpointListHasNoCursorOnItsLastPage(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/wh.db", nil)
	for i := range 2 {
		e.must(201, "POST", "/v1/webhook-endpoints", e.admin, map[string]any{"url": fmt.Sprintf("https://203.0.113.%d/hook", i+1)})
	}
	p1 := e.must(200, "GET", "/v1/webhook-endpoints?limit=1", e.admin, nil)
	if len(p1.list) != 1 || str(p1.body, "next_cursor") == "" {
		t.Fatalf("first page: %s", p1.raw)
	}
	p2 := e.must(200, "GET", "/v1/webhook-endpoints?limit=1&cursor="+str(p1.body, "next_cursor"), e.admin, nil)
	if _, ok := p2.body["next_cursor"]; len(p2.list) != 1 || ok {
		t.Fatalf("full last page: %s", p2.raw)
	}
}
