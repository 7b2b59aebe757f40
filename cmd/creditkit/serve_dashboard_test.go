package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeDemoDashboard: serve --demo prints the dashboard's URL and a key
// that signs in to it, and the overview shows the seeded customers.
func TestServeDemoDashboard(t *testing.T) {
	t.Parallel()
	base, out, stop := startServe(t, &Main{Dir: t.TempDir()}, "serve", "--demo", "--addr", "127.0.0.1:0")
	defer stop()
	dash := regexp.MustCompile(`dashboard: (http://\S+/dashboard/) \(sign in with the demo admin key below\)`).FindStringSubmatch(out.String())
	key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())
	if dash == nil || key == nil || dash[1] != base+"/dashboard/" {
		t.Fatalf("serve --demo printed no dashboard URL or key:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	res, err := client.PostForm(base+"/dashboard/login", url.Values{"key": {key[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || res.Request.URL.Path != "/dashboard/" || !strings.Contains(string(body), `id="stat-customers">3<`) {
		t.Fatalf("sign in with the demo key: %d at %s, %v\n%s", res.StatusCode, res.Request.URL, err, body)
	}
}
