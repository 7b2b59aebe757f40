package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// TestSubscriptionCommands runs the subscription verbs on --db: start
// with a trial, show, change, pause, resume, cancel at the period end and
// now; an unknown plan fails with invalid_request.
func TestSubscriptionCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock = creditkit.NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	config := testConfig + `plans:
  basic:
    gives: 100 credits every month
    trial_includes: 20 credits
  pro:
    gives: 1000 credits every month
`
	if err := os.WriteFile(b.config, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := func(args ...string) creditkit.Subscription {
		t.Helper()
		var s creditkit.Subscription
		out := b.ok(t, append([]string{"--json", "subscription"}, args...)...)
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
		return s
	}
	if s := sub("start", "cus_a", "basic", "--trial", "14d", "--idempotency-key", "k1"); s.Status != creditkit.SubscriptionTrialing || s.TrialEnd == nil {
		t.Fatalf("start: %+v", s)
	}
	if s := sub("start", "cus_a", "basic", "--trial", "14d", "--idempotency-key", "k1"); s.Status != creditkit.SubscriptionTrialing {
		t.Fatalf("replay: %+v", s)
	}
	if human := b.ok(t, "subscription", "show", "cus_a"); !strings.Contains(human, "trialing") || !strings.Contains(human, "trial ends") || !strings.Contains(human, "next refill") {
		t.Fatalf("show:\n%s", human)
	}
	if s := sub("change", "cus_a", "pro"); s.Plan != "pro" {
		t.Fatalf("change: %+v", s)
	}
	b.clock.Set(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
	if _, err := runDueAndCount(t, b); err != nil {
		t.Fatal(err)
	}
	if s := sub("show", "cus_a"); s.Status != creditkit.SubscriptionActive {
		t.Fatalf("converted: %+v", s)
	}
	if human := b.ok(t, "subscription", "show", "cus_a"); !regexp.MustCompile(`next refill +2026-04-`).MatchString(human) {
		t.Fatalf("show, active:\n%s", human)
	}
	if s := sub("pause", "cus_a"); s.Status != creditkit.SubscriptionPaused {
		t.Fatalf("pause: %+v", s)
	}
	// No refill is coming while paused, nor after a cancellation.
	noRefill := func(why string) {
		t.Helper()
		if human := b.ok(t, "subscription", "show", "cus_a"); !regexp.MustCompile(`next refill +none \(` + regexp.QuoteMeta(why) + `\)`).MatchString(human) {
			t.Fatalf("show, %s:\n%s", why, human)
		}
	}
	noRefill("paused")
	if s := sub("resume", "cus_a"); s.Status != creditkit.SubscriptionActive {
		t.Fatalf("resume: %+v", s)
	}
	if s := sub("cancel", "cus_a", "--at-period-end"); s.CancelAt == nil || s.Status != creditkit.SubscriptionActive {
		t.Fatalf("cancel at period end: %+v", s)
	}
	noRefill("canceled at the period's end")
	if s := sub("cancel", "cus_a"); s.Status != creditkit.SubscriptionCanceled {
		t.Fatalf("cancel: %+v", s)
	}
	noRefill("canceled")
	if human := b.ok(t, "run-due"); human != "refilled 0 subscription periods, expired 0 grants and released 0 lapsed holds\n" {
		t.Fatalf("run-due says %q", human)
	}
	// A trial off a plan without a price: change --trial.
	sub("start", "cus_t", "basic")
	if s := sub("change", "cus_t", "pro", "--trial", "7d"); s.Plan != "pro" || s.Status != creditkit.SubscriptionTrialing || s.TrialEnd == nil {
		t.Fatalf("change with a trial: %+v", s)
	}
	e := requireError(t, b.run(t, "--json", "subscription", "start", "cus_b", "nope"), ExitError)
	if e.Code != "invalid_request" {
		t.Fatalf("unknown plan: %+v", e)
	}
}

// runDueAndCount runs run-due and returns its JSON.
func runDueAndCount(t *testing.T, b *bundle) (creditkit.DueResult, error) {
	t.Helper()
	var r creditkit.DueResult
	out := b.ok(t, "--json", "run-due")
	err := json.Unmarshal([]byte(out), &r)
	if err == nil && r.Refills != 1 {
		t.Fatalf("run-due: %s, want 1 refill (the trial's conversion)", out)
	}
	return r, err
}
