package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit/internal/browsertest"
)

// TestBrowserSeesThePageAndItsErrors serves a page on loopback whose script
// writes into the page and logs an error, and checks that the tab reads the
// text, records the error and lists the page's requests.
func TestBrowserSeesThePageAndItsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `document.getElementById("out").textContent = String(6 * 7); console.error("boom");`)
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!doctype html><title>t</title><p id="out">-</p><script src="/app.js"></script>`)
		}
	}))
	defer srv.Close()
	b := browsertest.New(t, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#out"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.getElementById("out").textContent === "42"`)); err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS("#out")))
	if err != nil {
		t.Fatal(err)
	}
	if out != "42" {
		t.Fatalf("page text %q, want 42", out)
	}
	// The console event may reach the test just after the text does.
	errs := b.Errors()
	for deadline := time.Now().Add(10 * time.Second); len(errs) == 0 && time.Now().Before(deadline); errs = b.Errors() {
		time.Sleep(20 * time.Millisecond)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "boom") {
		t.Fatalf("errors %q, want the one console.error", errs)
	}
	var sawScript bool
	for _, u := range b.Requested() {
		sawScript = sawScript || strings.HasSuffix(u, "/app.js")
	}
	if !sawScript {
		t.Fatalf("requests %q do not include /app.js", b.Requested())
	}
}
