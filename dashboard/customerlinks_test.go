package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// TestCustomerLinksOpenTheirCustomer checks that the customers list links
// every customer to its own page, whatever its ID holds: an ID with a
// question mark must not open another customer's page (where the actions
// would act on that customer), one with a slash or dots must not lead to
// another page.
func TestCustomerLinksOpenTheirCustomer(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	c := e.client()
	c.signIn(e.admin)
	for _, id := range []string{"alice?support", "al/ice", "...", "alice#x", "al%2Fice"} {
		if _, err := e.l.Grant(context.Background(), id, 7, nil); err != nil {
			t.Fatal(err)
		}
	}
	// "." and ".." are no ids: no URL could name them.
	for _, id := range []string{".", ".."} {
		if _, err := e.l.Grant(context.Background(), id, 7, nil); creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
			t.Fatalf("grant to %q: %v, want invalid_request", id, err)
		}
	}
	p := c.get("/dashboard/customers")
	links := regexp.MustCompile(`<td><a href="([^"]*)">([^<]*)</a></td>`).FindAllStringSubmatch(p.body, -1)
	seen := 0
	for _, m := range links {
		href, id := html.UnescapeString(m[1]), html.UnescapeString(m[2])
		page := c.get(href)
		if page.status != http.StatusOK {
			t.Errorf("the link of %q (%s) answers %d", id, href, page.status)
			continue
		}
		if !strings.Contains(page.body, "<h1>Customer "+html.EscapeString(id)+"</h1>") {
			t.Errorf("the link of %q (%s) opens another page", id, href)
		}
		if strings.Contains(id, "?") || strings.Contains(id, "/") || strings.HasPrefix(id, "..") || strings.Contains(id, "#") || strings.Contains(id, "%") {
			seen++
		}
	}
	if seen != 5 {
		t.Fatalf("found %d of the 5 odd customers' links in:\n%s", seen, p.body)
	}
}
