package creditkit

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// maxTrial is the longest trial a subscription may start with: one year.
// A trial is measured on the calendar, so "1y", "12mo", "52w" and "365d"
// are all within it, and "366d" or "13mo" are not. A longer trial is
// almost always a typo ("100y" for "100d"); give the customer credits with
// a grant instead.
var maxTrial = Span{Months: 12}

// trialReference is the start a trial's length is measured from, so that
// the limit does not depend on the day it is checked: a year without a
// February 29, in which maxTrial is 365 days.
var trialReference = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// trialLimits says what a trial may be, for messages.
const trialLimits = "trial must be more than 0 and at most 1 year (365 days, 12 months)"

// ParseTrial reads a trial as a caller writes it ("14d", "1mo", "P2W"):
// empty means no trial. A trial must be more than zero and at most one
// year (365 days, 12 months: a longer one is almost always a typo, such as
// "100y" for "100d"; give credits with a grant instead); the error, with code invalid_request, echoes what was given.
func ParseTrial(s string) (Span, error) {
	if s == "" {
		return Span{}, nil
	}
	sp, err := ParseSpan(s)
	if err != nil {
		return Span{}, errorf(CodeInvalidRequest, "trial: %s", err.Error())
	}
	if !trialInRange(sp) {
		return Span{}, errorf(CodeInvalidRequest, "%s, got %q", trialLimits, s)
	}
	return sp, nil
}

// checkTrial validates the trial of a StartSubscription or a ChangePlan:
// the zero span means no trial, and a trial must not be negative. The
// library takes trials longer than a year (a Stripe trial may end two
// years out); the one-year limit is ParseTrial's, on what people type.
func checkTrial(sp Span) error {
	if sp.IsNegative() {
		return errorf(CodeInvalidRequest, "trial must be more than 0, got %s", showSpan(sp))
	}
	return nil
}

// trialInRange reports whether a trial is more than zero and at most
// maxTrial, measured from trialReference.
func trialInRange(sp Span) bool {
	end := sp.AddTo(trialReference)
	return end.After(trialReference) && !sp.IsNegative() && !end.After(maxTrial.AddTo(trialReference))
}

// showSpan prints a span for a message in the words a user writes it in
// ("-5 days"), a leading "-" negating every part as ParseSpan reads it.
func showSpan(sp Span) string {
	if sp.IsNegative() && sp.Months <= 0 && sp.Days <= 0 && sp.Duration <= 0 {
		return "-" + Span{Months: -sp.Months, Days: -sp.Days, Duration: -sp.Duration}.Words()
	}
	return sp.Words()
}

// planNames lists the configured plans that can be subscribed to (those
// with a period), for messages.
func (c *Config) planNames() string {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(c.Plans)) {
		if p := c.Plans[name]; p != nil && p.Every.Count >= 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "none are configured; add one under plans: in the config, like pro: { price: 20 USD every month, gives: 1000 credits every month }"
	}
	return strings.Join(names, ", ")
}
