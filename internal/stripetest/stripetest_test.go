package stripetest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/stripetest"
)

// TestStartAnswersTheStripeAPI checks that the started stripe-mock answers
// an authenticated API call on loopback.
func TestStartAnswersTheStripeAPI(t *testing.T) {
	base := stripetest.Start(t)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base URL %q is not on loopback", base)
	}
	req, err := http.NewRequest(http.MethodGet, base+"/v1/customers/cus_123", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/customers/cus_123: %s", resp.Status)
	}
}
