package creditkit

import (
	"math/big"
	"regexp"
	"strings"
	"time"
)

// Lengths of the calendar-ish units ParseDuration accepts. A month is 30 days
// and a year is 365 days: durations are exact lengths of time, not calendar
// arithmetic.
const (
	durDay   = 24 * time.Hour
	durWeek  = 7 * durDay
	durMonth = 30 * durDay
	durYear  = 365 * durDay
)

// durationUnits maps every unit word ParseDuration accepts to its length.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ms": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": durDay, "day": durDay, "days": durDay,
	"w": durWeek, "wk": durWeek, "wks": durWeek, "week": durWeek, "weeks": durWeek,
	"mo": durMonth, "month": durMonth, "months": durMonth,
	"y": durYear, "yr": durYear, "yrs": durYear, "year": durYear, "years": durYear,
}

// durationPartRE matches one "number unit" part of a duration, with optional
// spaces and a trailing comma.
var durationPartRE = regexp.MustCompile(`^(\d+(?:\.\d*)?|\.\d+)\s*([a-zµμ]+)\s*,?\s*`)

// durationHelp is appended to every ParseDuration error.
const durationHelp = `give a number and a unit, such as "30 days", "12h", "2 weeks" or "1 year"`

// ParseDuration parses a length of time written for people or for Go:
// "30d", "12h", "1y", "90m", "30 days", "1 year", "2 weeks", "1 month", and
// every form time.ParseDuration accepts, such as "1h30m" or "1.5h". Units are
// ns, us, ms, s (sec, second), m (min, minute), h (hr, hour), d (day),
// w (week), mo (month) and y (year), singular or plural; a month is 30 days
// and a year is 365 days. Errors have code invalid_request.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return 0, errorf(CodeInvalidRequest, "duration is empty: %s", durationHelp)
	}
	neg := false
	switch in[0] {
	case '-':
		neg = true
		in = strings.TrimSpace(in[1:])
	case '+':
		in = strings.TrimSpace(in[1:])
	}
	if in == "0" {
		return 0, nil
	}
	if in == "" {
		return 0, errorf(CodeInvalidRequest, "duration %q is not valid: %s", s, durationHelp)
	}
	total := new(big.Rat)
	for in != "" {
		m := durationPartRE.FindStringSubmatch(in)
		if m == nil || len(m[1]) > maxParamNumberLen {
			return 0, errorf(CodeInvalidRequest, "duration %q is not valid: %s", s, durationHelp)
		}
		unit, ok := durationUnits[m[2]]
		if !ok {
			return 0, errorf(CodeInvalidRequest, "duration %q has unknown unit %q: use s, m, h, d, w, mo or y, or the words seconds, minutes, hours, days, weeks, months and years", s, m[2])
		}
		n, ok := new(big.Rat).SetString(m[1])
		if !ok {
			return 0, errorf(CodeInvalidRequest, "duration %q is not valid: %s", s, durationHelp)
		}
		total.Add(total, n.Mul(n, new(big.Rat).SetInt64(int64(unit))))
		in = in[len(m[0]):]
	}
	ns := new(big.Int).Quo(total.Num(), total.Denom())
	if !ns.IsInt64() {
		return 0, errorf(CodeInvalidRequest, "duration %q is too long: the longest is about 292 years", s)
	}
	d := time.Duration(ns.Int64())
	if neg {
		d = -d
	}
	return d, nil
}
