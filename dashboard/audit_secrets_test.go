package dashboard_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// TestWebhookURLsAdminOnly: a webhook URL can be its secret (Slack puts it
// in the path), and the API shows endpoints and deliveries to admin keys
// only; so a read or write session sees the host of a delivery's URL, on
// the webhooks page and in the overview's failing deliveries, also where
// the last error quotes the URL; an admin session sees it whole.
func TestWebhookURLsAdminOnly(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	ctx := context.Background()
	now := e.clock.Now()
	const secretURL = "https://hooks.example.com/services/T0001/B0001/SuperSecretPathToken123?k=QuerySecret"
	if err := e.st.CreateWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: "we_1", URL: secretURL, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.DispatchEvents(ctx, now, 100, webhook.Fanout(now, func() string { return "wd_" + strconv.FormatInt(time.Now().UnixNano(), 36) })); err != nil {
		t.Fatal(err)
	}
	ds, err := e.st.ClaimDeliveries(ctx, now, time.Minute, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %d", err, len(ds))
	}
	if err := e.st.FinishDelivery(ctx, ds[0].ID, store.DeliveryAttempt{At: now, Error: `Post "` + secretURL + `": dial tcp: connection refused`,
		Status: store.DeliveryFailed, StatusIfEndpointDeleted: store.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{e.read, e.write} {
		c := e.client()
		c.signIn(key)
		for _, path := range []string{"/dashboard/webhooks", "/dashboard/"} {
			p := c.get(path)
			p.mustContain(t, ds[0].ID, "https://hooks.example.com", "connection refused")
			for _, secret := range []string{"SuperSecretPathToken123", "/services/", "QuerySecret"} {
				if strings.Contains(p.body, secret) {
					t.Errorf("%s shows a non-admin session %q", path, secret)
				}
			}
		}
	}
	a := e.client()
	a.signIn(e.admin)
	for _, path := range []string{"/dashboard/webhooks", "/dashboard/"} {
		a.get(path).mustContain(t, "SuperSecretPathToken123")
	}
}
