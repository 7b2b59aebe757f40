package creditkit

import "time"

// Every instant the ledger stores lies between MinTime and MaxTime. Beyond
// them, times stop fitting the formats the ledger and its clients speak
// (RFC 3339 has four-digit years), so a request that names or computes such
// an instant is refused before it is queued instead of failing deep in the
// write path.
var (
	// MinTime is the earliest instant the ledger accepts: the Unix epoch.
	MinTime = time.Unix(0, 0).UTC()
	// MaxTime is the latest instant the ledger accepts, computed ones
	// included (an effective time plus an expiry duration): the start of
	// the year 9000, far past any real expiry and well inside what every
	// store and encoder can represent.
	MaxTime = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkInstant refuses a time outside [MinTime, MaxTime]. A zero time means
// "not given" and passes.
func checkInstant(what string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Before(MinTime) || t.After(MaxTime) {
		return errorf(CodeInvalidRequest, "%s %s is outside the supported range: give a time between %s and %s",
			what, t.UTC().Format(time.RFC3339), MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
	}
	return nil
}

// addCapped adds d to t, refusing a result past MaxTime (and an overflow of
// the duration arithmetic) with the same error as checkInstant.
func addCapped(what string, t time.Time, d time.Duration) (time.Time, error) {
	if d > MaxTime.Sub(t) {
		return time.Time{}, errorf(CodeInvalidRequest, "%s falls after %s, the latest supported time: give a shorter duration",
			what, MaxTime.Format(time.RFC3339))
	}
	return t.Add(d), nil
}
