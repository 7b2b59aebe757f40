package audit_test

import (
	"reflect"
	"testing"

	"github.com/creditkit/creditkit/audit"
)

// Redact reduces every absolute URL, at any depth and under any name, to
// scheme://host, drops secret-named fields, and leaves other strings be.
func TestRedact(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"url":         "http://host/services/T0001/B0001/SuperSecretPathToken123",
		"success_url": "https://admin:hunter2@app.example/ok?session_token=SECRET1",
		"nested":      []any{map[string]any{"link": "https://h.example:8443/p#frag"}, "ftp://u:p@files.example/x"},
		"api_token":   "abc",
		"Password":    map[string]any{"x": 1},
		"note":        "see https://x.example/secret",
		"path":        "/v1/customers/alice",
		"mail":        "mailto:ops@example.com",
		"hostport":    "localhost:8080",
		"broken":      "https://[::1/oops",
		"amount":      float64(5),
	}
	want := map[string]any{
		"url":         "http://host",
		"success_url": "https://app.example",
		"nested":      []any{map[string]any{"link": "https://h.example:8443"}, "ftp://files.example"},
		"api_token":   audit.Redacted,
		"Password":    audit.Redacted,
		"note":        "see https://x.example",
		"path":        "/v1/customers/alice",
		"mail":        "mailto:ops@example.com",
		"hostport":    "localhost:8080",
		"broken":      audit.Redacted,
		"amount":      float64(5),
	}
	if got := audit.Redact(in); !reflect.DeepEqual(got, want) {
		t.Errorf("Redact =\n%v\nwant\n%v", got, want)
	}
	if got, want := audit.RedactURLsInText(`Post "https://h.example/a/SECRET?q=1": dial tcp: refused; see http://u:p@x.example/y.`),
		`Post "https://h.example": dial tcp: refused; see http://x.example.`; got != want {
		t.Errorf("RedactURLsInText = %q, want %q", got, want)
	}
}

// Record stores details and the reason redacted, whoever records.
func TestRecordRedactsDetails(t *testing.T) {
	t.Parallel()
	l, _ := setup(t)
	if _, err := l.Record(t.Context(), audit.Record{ActorKind: audit.ActorDashboard, Action: audit.ActionGrantCreate,
		Reason:  "upgrade per https://u:p@x.example/a?b=c, as agreed",
		Details: map[string]any{"callback": "https://a:b@c.example/d?e=f", "description": "hook https://admin:pw@in.example/p?key=zz"}}); err != nil {
		t.Fatal(err)
	}
	rs, _, err := l.List(t.Context(), audit.Filter{})
	if err != nil || len(rs) != 1 || rs[0].Details["callback"] != "https://c.example" ||
		rs[0].Details["description"] != "hook https://in.example" || rs[0].Reason != "upgrade per https://x.example, as agreed" {
		t.Fatalf("listed %+v, %v: want the URLs as scheme://host, in the details and in the reason", rs, err)
	}
}
