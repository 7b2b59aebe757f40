package stripe_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// TestSubscriptionTrialFromStripe: a Stripe subscription still in its
// trial moves a customer on a plan without a price to the price's plan as
// a trial ending when Stripe's does; a trialing subscription of a new
// customer starts as a trial too.
func TestSubscriptionTrialFromStripe(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		e := setup(t, url)
		ctx := context.Background()
		trialEnd := epoch.Add(14 * 24 * time.Hour)
		trialing := func(id, stripeCustomer string) map[string]any {
			obj := subscriptionObj(id, stripeCustomer, "price_pro_m", "trialing", false)
			obj["trial_end"] = trialEnd.Unix()
			e.fake.set("/v1/subscriptions/"+id, obj)
			return obj
		}
		// On basic (no price) already, as on a default free plan.
		linkCustomer(t, e, "bea", "cus_bea")
		if _, err := e.l.StartSubscription(ctx, "bea", "basic", nil); err != nil {
			t.Fatal(err)
		}
		e.send("evt_bea", "customer.subscription.created", trialing("sub_bea", "cus_bea"))
		sub, err := e.l.GetSubscription(ctx, "bea", nil)
		if err != nil || sub.Plan != "pro" || sub.Status != creditkit.SubscriptionTrialing || sub.TrialEnd == nil || !sub.TrialEnd.Equal(trialEnd) {
			t.Fatalf("trial off basic: %+v %v", sub, err)
		}
		// A customer with no subscription.
		linkCustomer(t, e, "nat", "cus_nat")
		e.send("evt_nat", "customer.subscription.created", trialing("sub_nat", "cus_nat"))
		if sub, err = e.l.GetSubscription(ctx, "nat", nil); err != nil || sub.Status != creditkit.SubscriptionTrialing || !sub.TrialEnd.Equal(trialEnd) {
			t.Fatalf("trial start: %+v %v", sub, err)
		}
		// The same event again: nothing more.
		if out := e.send("evt_nat_2", "customer.subscription.updated", trialing("sub_nat", "cus_nat")); out["outcome"] != "unchanged" {
			t.Fatalf("again: %v", out)
		}
	})
}
