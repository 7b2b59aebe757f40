package creditkit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestParseTrial: a trial is more than 0 and at most a year; the error
// echoes what was given.
func TestParseTrial(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "1h", "14d", "1mo", "P2W", "1y", "12mo", "52w", "365d"} {
		if _, err := ParseTrial(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"100y", "0d", "-5d", "366d", "13mo", "1y 1d", "PT0S"} {
		_, err := ParseTrial(bad)
		want := `trial must be more than 0 and at most 1 year (365 days, 12 months), got "` + bad + `"`
		if ErrorCodeOf(err) != CodeInvalidRequest || err.Error() != want {
			t.Errorf("%q: %v, want %s", bad, err, want)
		}
	}
	if _, err := ParseTrial("soon"); ErrorCodeOf(err) != CodeInvalidRequest || !strings.HasPrefix(err.Error(), "trial: ") {
		t.Errorf("soon: %v", err)
	}
}

// TestTrialLimitsAndPlanNames: the library refuses a negative trial in the
// user's words (not -P5D) and takes a long one (a Stripe trial may last
// two years); an unknown plan's error lists the configured plans; a
// negative expires_in is shown in words, not as -120h0m0s.
func TestTrialLimitsAndPlanNames(t *testing.T) {
	t.Parallel()
	onBothStoresSubs(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), func(t *testing.T, l *Ledger, _ *ManualClock) {
		ctx := context.Background()
		_, err := l.StartSubscription(ctx, "t", "basic", &SubscribeOpts{Trial: Span{Days: -5}})
		if ErrorCodeOf(err) != CodeInvalidRequest || err.Error() != "trial must be more than 0, got -5 days" {
			t.Errorf("trial of -5 days: %v", err)
		}
		if _, err := l.StartSubscription(ctx, "long", "basic", &SubscribeOpts{Trial: Span{Days: 700}}); err != nil {
			t.Errorf("trial of 700 days (as Stripe may send): %v", err)
		}
		_, err = l.StartSubscription(ctx, "t", "platinum", nil)
		if ErrorCodeOf(err) != CodeInvalidRequest || !strings.Contains(err.Error(), `unknown plan "platinum": the configured plans are basic, capped, fortnight, latest, monthly, pro, prorate, roll, rollpro, yearly`) {
			t.Errorf("unknown plan: %v", err)
		}
		_, err = l.Grant(ctx, "t", 5, &GrantOpts{ExpiresIn: -120 * time.Hour})
		if ErrorCodeOf(err) != CodeInvalidRequest || !strings.HasSuffix(err.Error(), "expires_in must be positive, got -5 days") {
			t.Errorf("negative expires_in: %v", err)
		}
	})
}
