package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/dashboard"
)

// TestDashboardAuditRecords, on both stores: a form posted by hand from a
// read-only session is refused and recorded as forbidden (as the API
// records a key's refused call), naming the action, the customer and the
// reason; a plan change is recorded with the subscription as its target
// and the plan in its details, as PUT /v1/customers/{c}/subscription is.
func TestDashboardAuditRecords(t *testing.T) {
	for name, dbURL := range map[string]func(t *testing.T) string{"sqlite": sqliteURL, "postgres": func(t *testing.T) string { return pgURL(t) }} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, dbURL(t))
			ctx := context.Background()
			lg, err := audit.Of(e.l.Store(), e.l.Now)
			if err != nil {
				t.Fatal(err)
			}

			r := e.client()
			rcsrf := r.signIn(e.read)
			if p := r.post("/dashboard/customers/alice/grant", url.Values{"amount": {"5000"}, "reason": {"sneaky"}}, rcsrf); p.status != http.StatusForbidden {
				t.Fatalf("forged grant: %d", p.status)
			}
			if p := r.post("/dashboard/webhooks/wd_1/replay", url.Values{}, rcsrf); p.status != http.StatusForbidden {
				t.Fatalf("forged replay: %d", p.status)
			}
			recs, _, err := lg.List(ctx, audit.Filter{Actor: e.readID})
			if err != nil || len(recs) != 2 {
				t.Fatalf("records of the read key = %+v, %v; want the two refused posts", recs, err)
			}
			if g := recs[1]; g.Action != audit.ActionGrantCreate || g.Outcome != dashboard.OutcomeForbidden || g.Customer != "alice" ||
				g.Reason != "sneaky" || g.ActorKind != audit.ActorDashboard || g.Details["amount"] != "5000" {
				t.Errorf("refused grant = %+v", g)
			}
			if rp := recs[0]; rp.Action != "webhook_delivery.replay" || rp.Outcome != dashboard.OutcomeForbidden || rp.Target != "wd_1" {
				t.Errorf("refused replay = %+v", rp)
			}

			a := e.client()
			csrf := a.signIn(e.admin)
			a.post("/dashboard/customers/alice/plan", url.Values{"plan": {"pro"}, "reason": {"upgrade"}, "idem": {idem(t, 1)}}, csrf).mustContain(t, "alice is on plan pro")
			sub, err := e.l.GetSubscription(ctx, "alice", nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, _, err = lg.List(ctx, audit.Filter{Action: audit.ActionSubscriptionChange})
			if err != nil || len(recs) != 1 {
				t.Fatalf("plan records = %+v, %v", recs, err)
			}
			if p := recs[0]; p.Target != sub.ID || p.Customer != "alice" || p.Details["plan"] != "pro" || p.Outcome != audit.OutcomeOK {
				t.Errorf("plan change = %+v, want target %s and plan pro in the details", p, sub.ID)
			}
		})
	}
}
