package creditkit

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
)

// durDay is the length of a day in a fixed duration. Spans count days on the
// calendar instead (time.AddDate), which is the same in UTC.
const durDay = 24 * time.Hour

// durationUnit is what one unit word of a duration stands for: a fixed
// length of time, or a number of calendar days or months.
type durationUnit struct {
	fixed  time.Duration // nanoseconds per unit, for fixed units
	days   int64         // calendar days per unit (day 1, week 7)
	months int64         // calendar months per unit (month 1, year 12)
}

// durationUnits maps every unit word ParseDuration and ParseSpan accept.
var durationUnits = map[string]durationUnit{
	"ns": {fixed: time.Nanosecond}, "nanosecond": {fixed: time.Nanosecond}, "nanoseconds": {fixed: time.Nanosecond},
	"us": {fixed: time.Microsecond}, "µs": {fixed: time.Microsecond}, "μs": {fixed: time.Microsecond},
	"microsecond": {fixed: time.Microsecond}, "microseconds": {fixed: time.Microsecond},
	"ms": {fixed: time.Millisecond}, "millisecond": {fixed: time.Millisecond}, "milliseconds": {fixed: time.Millisecond},
	"s": {fixed: time.Second}, "sec": {fixed: time.Second}, "secs": {fixed: time.Second}, "second": {fixed: time.Second}, "seconds": {fixed: time.Second},
	"m": {fixed: time.Minute}, "min": {fixed: time.Minute}, "mins": {fixed: time.Minute}, "minute": {fixed: time.Minute}, "minutes": {fixed: time.Minute},
	"h": {fixed: time.Hour}, "hr": {fixed: time.Hour}, "hrs": {fixed: time.Hour}, "hour": {fixed: time.Hour}, "hours": {fixed: time.Hour},
	"d": {days: 1}, "day": {days: 1}, "days": {days: 1},
	"w": {days: 7}, "wk": {days: 7}, "wks": {days: 7}, "week": {days: 7}, "weeks": {days: 7},
	"mo": {months: 1}, "month": {months: 1}, "months": {months: 1},
	"y": {months: 12}, "yr": {months: 12}, "yrs": {months: 12}, "year": {months: 12}, "years": {months: 12},
}

// durationPartRE matches one "number unit" part of a duration, with optional
// spaces and a trailing comma.
var durationPartRE = regexp.MustCompile(`^(\d+(?:\.\d*)?|\.\d+)\s*([a-zµμ]+)\s*,?\s*`)

// isoDurationRE matches an ISO 8601 duration such as P1Y2M3DT4H5M6.5S or
// P2W (lower case, since input is lowered first). Fractions are allowed on
// every part; ParseSpan refuses them on years and months.
var isoDurationRE = regexp.MustCompile(`^p(?:(\d+(?:\.\d+)?)y)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)w)?(?:(\d+(?:\.\d+)?)d)?(?:t(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?)?$`)

// Help appended to duration errors.
const (
	durationHelp = `give a number and a unit, such as "30 days", "12h" or "2 weeks", or an ISO 8601 duration such as "PT12H" or "P30D"`
	spanHelp     = `give a number and a unit, such as "1 month", "30 days", "12h" or "1 year", or an ISO 8601 duration such as "P1M" or "P1Y2M3DT4H"`
)

// Bounds on spans, far past any credit's life, so that AddTo stays within
// the years time.Time can print.
const (
	maxSpanMonths = 12 * 1000
	maxSpanDays   = 366 * 1000
)

// durationParts is a duration as written, before it is resolved into a
// fixed length or a Span: exact numbers of months, days and nanoseconds.
type durationParts struct {
	neg                bool
	months, days, nano *big.Rat
}

// parseDurationParts reads the human forms ("1 month 2 days", "1h30m") and
// ISO 8601 ("P1M2DT3H"). help ends every error message.
func parseDurationParts(s, help string) (durationParts, error) {
	p := durationParts{months: new(big.Rat), days: new(big.Rat), nano: new(big.Rat)}
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return p, errorf(CodeInvalidRequest, "duration is empty: %s", help)
	}
	switch in[0] {
	case '-':
		p.neg = true
		in = strings.TrimSpace(in[1:])
	case '+':
		in = strings.TrimSpace(in[1:])
	}
	if in == "0" {
		return p, nil
	}
	if in == "" || len(in) > 2*maxParamNumberLen {
		return p, errorf(CodeInvalidRequest, "duration %q is not valid: %s", s, help)
	}
	if in[0] == 'p' {
		m := isoDurationRE.FindStringSubmatch(in)
		if m == nil || in == "p" || strings.HasSuffix(in, "t") {
			return p, errorf(CodeInvalidRequest, "duration %q is not a valid ISO 8601 duration: %s", s, help)
		}
		add := func(dst *big.Rat, v string, per int64) {
			if v == "" {
				return
			}
			n, _ := new(big.Rat).SetString(v)
			dst.Add(dst, n.Mul(n, new(big.Rat).SetInt64(per)))
		}
		add(p.months, m[1], 12)
		add(p.months, m[2], 1)
		add(p.days, m[3], 7)
		add(p.days, m[4], 1)
		add(p.nano, m[5], int64(time.Hour))
		add(p.nano, m[6], int64(time.Minute))
		add(p.nano, m[7], int64(time.Second))
		return p, nil
	}
	for in != "" {
		m := durationPartRE.FindStringSubmatch(in)
		if m == nil || len(m[1]) > maxParamNumberLen {
			return p, errorf(CodeInvalidRequest, "duration %q is not valid: %s", s, help)
		}
		unit, ok := durationUnits[m[2]]
		if !ok {
			return p, errorf(CodeInvalidRequest, "duration %q has unknown unit %q: use s, m, h, d, w, mo or y, or the words seconds, minutes, hours, days, weeks, months and years", s, m[2])
		}
		n, ok := new(big.Rat).SetString(m[1])
		if !ok {
			return p, errorf(CodeInvalidRequest, "duration %q is not valid: %s", s, help)
		}
		switch {
		case unit.months != 0:
			p.months.Add(p.months, n.Mul(n, new(big.Rat).SetInt64(unit.months)))
		case unit.days != 0:
			p.days.Add(p.days, n.Mul(n, new(big.Rat).SetInt64(unit.days)))
		default:
			p.nano.Add(p.nano, n.Mul(n, new(big.Rat).SetInt64(int64(unit.fixed))))
		}
		in = in[len(m[0]):]
	}
	return p, nil
}

// ratToDuration truncates an exact number of nanoseconds to a Duration.
func ratToDuration(s string, ns *big.Rat) (time.Duration, error) {
	n := new(big.Int).Quo(ns.Num(), ns.Denom())
	if !n.IsInt64() {
		return 0, errorf(CodeInvalidRequest, "duration %q is too long: the longest is about 292 years", s)
	}
	return time.Duration(n.Int64()), nil
}

// ParseDuration parses a fixed length of time written for people or for Go:
// "30d", "12h", "90m", "30 days", "2 weeks", "1h30m", "1.5h", every form
// time.ParseDuration accepts, and ISO 8601 durations without years or
// months ("PT12H", "P30D", "P2W"). Units are ns, us, ms, s (sec, second),
// m (min, minute), h (hr, hour), d (day) and w (week), singular or plural; a
// day is 24 hours. Months and years have no fixed length, so "1mo", "1y" and
// "P1M" are refused: a field that takes them is calendar-aware and parsed
// with ParseSpan. Errors have code invalid_request.
func ParseDuration(s string) (time.Duration, error) {
	p, err := parseDurationParts(s, durationHelp)
	if err != nil {
		return 0, err
	}
	if p.months.Sign() != 0 {
		return 0, errorf(CodeInvalidRequest, "duration %q counts months or years, which have no fixed length: only a calendar-aware field (such as a grant's expires_in) takes them; here give days or hours, such as \"30 days\" or \"720h\"", s)
	}
	total := new(big.Rat).Mul(p.days, new(big.Rat).SetInt64(int64(durDay)))
	d, err := ratToDuration(s, total.Add(total, p.nano))
	if err != nil {
		return 0, err
	}
	if p.neg {
		d = -d
	}
	return d, nil
}

// Span is a length of time on the calendar: a number of months, then of
// days, then a fixed duration, added in that order by AddTo. "1 month" from
// January 31 ends on the last day of February, and a year is 12 months, so
// it lasts 365 or 366 days as the calendar says. Days are calendar days
// (time.AddDate), which in UTC are 24 hours.
//
// The zero Span is empty. A Span reads from and prints to JSON as its
// string (String), and ParseSpan reads every form String prints.
type Span struct {
	// Months is the number of calendar months; a year is 12.
	Months int
	// Days is the number of calendar days; a week is 7.
	Days int
	// Duration is a fixed length of time added last.
	Duration time.Duration
}

// ParseSpan parses a length of time that may count calendar months and
// years: everything ParseDuration takes, plus "1mo", "1 month", "3 months",
// "1y", "1 year", combinations such as "1 year 2 months", and ISO 8601
// durations ("P1M", "P30D", "PT1H", "P1Y2M3DT4H"). Months and years must be
// whole numbers; a fraction of a day or week is kept as a fixed duration
// ("1.5d" is 1 day and 12 hours). A leading "-" negates every part. Errors
// have code invalid_request.
func ParseSpan(s string) (Span, error) {
	p, err := parseDurationParts(s, spanHelp)
	if err != nil {
		return Span{}, err
	}
	if !p.months.IsInt() {
		return Span{}, errorf(CodeInvalidRequest, "duration %q has a fraction of a month or year: give whole months, or days instead, such as \"45 days\"", s)
	}
	months := p.months.Num()
	if !months.IsInt64() || months.Int64() > maxSpanMonths {
		return Span{}, errorf(CodeInvalidRequest, "duration %q is too long: the longest is %d years", s, maxSpanMonths/12)
	}
	wholeDays := new(big.Int).Quo(p.days.Num(), p.days.Denom())
	if !wholeDays.IsInt64() || wholeDays.Int64() > maxSpanDays {
		return Span{}, errorf(CodeInvalidRequest, "duration %q is too long: the longest is %d days", s, maxSpanDays)
	}
	// The fraction of a day joins the fixed part.
	frac := new(big.Rat).Sub(p.days, new(big.Rat).SetInt(wholeDays))
	nano := new(big.Rat).Add(p.nano, frac.Mul(frac, new(big.Rat).SetInt64(int64(durDay))))
	d, err := ratToDuration(s, nano)
	if err != nil {
		return Span{}, err
	}
	sp := Span{Months: int(months.Int64()), Days: int(wholeDays.Int64()), Duration: d}
	if p.neg {
		sp = Span{Months: -sp.Months, Days: -sp.Days, Duration: -sp.Duration}
	}
	return sp, nil
}

// SpanOf returns the span of a fixed duration d.
func SpanOf(d time.Duration) Span { return Span{Duration: d} }

// IsZero reports whether the span is empty.
func (s Span) IsZero() bool { return s == Span{} }

// IsNegative reports whether any part of the span is below zero.
func (s Span) IsNegative() bool { return s.Months < 0 || s.Days < 0 || s.Duration < 0 }

// AddTo returns t moved forward by the span: months first, staying on the
// same day of the month or on the month's last day when it is shorter
// (January 31 + 1 month = February 28 or 29), then calendar days, then the
// fixed duration. The time of day and t's location are kept.
func (s Span) AddTo(t time.Time) time.Time {
	if s.Months != 0 {
		y, m, d := t.Date()
		hh, mm, ss := t.Clock()
		// Day 1 of the target month never overflows into the next one.
		first := time.Date(y, m+time.Month(s.Months), 1, hh, mm, ss, t.Nanosecond(), t.Location())
		if last := daysIn(first.Year(), first.Month()); d > last {
			d = last
		}
		t = first.AddDate(0, 0, d-1)
	}
	if s.Days != 0 {
		t = t.AddDate(0, 0, s.Days)
	}
	return t.Add(s.Duration)
}

// daysIn returns the number of days of month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String prints the span as an ISO 8601 duration, such as "P1M", "P1Y2M3DT4H"
// or "PT1H30M"; the empty span is "PT0S". A span whose parts are all zero or
// less prints with a leading "-" ("-P1D"); one mixing signs prints each part
// with its own sign, which ParseSpan does not read back.
func (s Span) String() string {
	if s.IsZero() {
		return "PT0S"
	}
	sign := ""
	if s.Months <= 0 && s.Days <= 0 && s.Duration <= 0 {
		sign = "-"
		s = Span{Months: -s.Months, Days: -s.Days, Duration: -s.Duration}
	}
	var b strings.Builder
	b.WriteString(sign + "P")
	if y := s.Months / 12; y != 0 {
		fmt.Fprintf(&b, "%dY", y)
	}
	if m := s.Months % 12; m != 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if s.Days != 0 {
		fmt.Fprintf(&b, "%dD", s.Days)
	}
	if s.Duration != 0 {
		b.WriteString("T")
		d := s.Duration
		if h := d / time.Hour; h != 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m := d % time.Hour / time.Minute; m != 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if ns := d % time.Minute; ns != 0 {
			if ns%time.Second == 0 {
				fmt.Fprintf(&b, "%dS", ns/time.Second)
			} else {
				fmt.Fprintf(&b, "%sS", strings.TrimRight(fmt.Sprintf("%d.%09d", ns/time.Second, ns%time.Second), "0"))
			}
		}
	}
	return b.String()
}

// MarshalJSON writes the span as its string, such as "P1M".
func (s Span) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.String())
}

// UnmarshalJSON reads a span from a string in any form ParseSpan accepts.
func (s *Span) UnmarshalJSON(data []byte) error {
	var str string
	if err := json.Unmarshal(data, &str); err != nil {
		return errorf(CodeInvalidRequest, "a duration must be a string such as \"1 month\" or \"P1M\"")
	}
	sp, err := ParseSpan(str)
	if err != nil {
		return err
	}
	*s = sp
	return nil
}

// Words prints the span for people, in words ParseSpan reads back:
// "1 year", "1 month 2 days", "12 hours", "1 day 90m0s". The empty span is
// "0 days".
func (s Span) Words() string {
	if s.IsZero() {
		return "0 days"
	}
	plural := func(n int, unit string) string {
		if n == 1 || n == -1 {
			return fmt.Sprintf("%d %s", n, unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	var parts []string
	if y := s.Months / 12; y != 0 {
		parts = append(parts, plural(y, "year"))
	}
	if m := s.Months % 12; m != 0 {
		parts = append(parts, plural(m, "month"))
	}
	if s.Days != 0 {
		parts = append(parts, plural(s.Days, "day"))
	}
	switch d := s.Duration; {
	case d == 0:
	case d%time.Hour == 0:
		parts = append(parts, plural(int(d/time.Hour), "hour"))
	case d%time.Minute == 0:
		parts = append(parts, plural(int(d/time.Minute), "minute"))
	default:
		parts = append(parts, d.String())
	}
	return strings.Join(parts, " ")
}
