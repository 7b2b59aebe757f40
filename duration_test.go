package creditkit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "30d", want: 30 * day},
		{in: "12h", want: 12 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "30 days", want: 30 * day},
		{in: "1 day", want: day},
		{in: "2 weeks", want: 14 * day},
		{in: "1w", want: 7 * day},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "1 hour 30 minutes", want: 90 * time.Minute},
		{in: "1 day, 2 hours", want: 26 * time.Hour},
		{in: "300ms", want: 300 * time.Millisecond},
		{in: "2us", want: 2 * time.Microsecond},
		{in: "2µs", want: 2 * time.Microsecond},
		{in: "5ns", want: 5},
		{in: "45 secs", want: 45 * time.Second},
		{in: "0", want: 0},
		{in: "-1h", want: -time.Hour},
		{in: " 7 Days ", want: 7 * day},
		{in: "105000 days", want: 105000 * day},
		{in: "PT12H", want: 12 * time.Hour},
		{in: "P30D", want: 30 * day},
		{in: "p2w", want: 14 * day},
		{in: "P1DT1H30M", want: 25*time.Hour + 30*time.Minute},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "PT1M", want: time.Minute},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "", bad: true},
		{in: "soon", bad: true},
		{in: "30", bad: true},
		{in: "d", bad: true},
		{in: "30 fortnights", bad: true},
		{in: "1h 30", bad: true},
		{in: "-", bad: true},
		{in: "110000 days", bad: true},
		{in: "P", bad: true},
		{in: "PT", bad: true},
		{in: "P1DT", bad: true},
		{in: "P1H", bad: true},
		{in: "PT1D", bad: true},
		{in: "P-1D", bad: true},
		{in: "1e3h", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			} else if ErrorCodeOf(err) != CodeInvalidRequest || !strings.Contains(err.Error(), "duration") {
				t.Errorf("ParseDuration(%q) error = %v (%s)", tt.in, err, ErrorCodeOf(err))
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestParseDurationRefusesMonthsAndYears: months and years have no fixed
// length, so a fixed duration (a hold's TTL) refuses them and says which
// kind of field takes them.
func TestParseDurationRefusesMonthsAndYears(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"1mo", "1 month", "3 months", "1y", "1 year", "2 years", "P1M", "P1Y", "p1y2m3dt4h", "1 day 1 month"} {
		d, err := ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, d)
			continue
		}
		if ErrorCodeOf(err) != CodeInvalidRequest || !strings.Contains(err.Error(), "months or years, which have no fixed length") ||
			!strings.Contains(err.Error(), "calendar-aware") {
			t.Errorf("ParseDuration(%q) error = %v", in, err)
		}
	}
}

func TestParseSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Span
	}{
		{"1mo", Span{Months: 1}},
		{"1 month", Span{Months: 1}},
		{"3 months", Span{Months: 3}},
		{"1y", Span{Months: 12}},
		{"1 year", Span{Months: 12}},
		{"1 year 2 months", Span{Months: 14}},
		{"30d", Span{Days: 30}},
		{"30 days", Span{Days: 30}},
		{"2 weeks", Span{Days: 14}},
		{"12h", Span{Duration: 12 * time.Hour}},
		{"1h30m", Span{Duration: 90 * time.Minute}},
		{"1.5d", Span{Days: 1, Duration: 12 * time.Hour}},
		{"1 month, 2 days, 3 hours", Span{Months: 1, Days: 2, Duration: 3 * time.Hour}},
		{"P1M", Span{Months: 1}},
		{"P30D", Span{Days: 30}},
		{"PT1H", Span{Duration: time.Hour}},
		{"PT1M", Span{Duration: time.Minute}},
		{"P1Y2M3DT4H", Span{Months: 14, Days: 3, Duration: 4 * time.Hour}},
		{"P1Y2M3DT4H5M6.5S", Span{Months: 14, Days: 3, Duration: 4*time.Hour + 5*time.Minute + 6500*time.Millisecond}},
		{"P2W", Span{Days: 14}},
		{"p1m", Span{Months: 1}},
		{"0", Span{}},
		{"PT0S", Span{}},
		{"-P1D", Span{Days: -1}},
		{"-1 month", Span{Months: -1}},
		{"1000 years", Span{Months: 12000}},
	}
	for _, tt := range tests {
		got, err := ParseSpan(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSpan(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "soon", "30", "1.5 months", "P1.5M", "P0.3Y", "1001 years", "P", "PT", "P1M1Y", "1 fortnight", "1mo 30"} {
		if got, err := ParseSpan(in); err == nil || ErrorCodeOf(err) != CodeInvalidRequest {
			t.Errorf("ParseSpan(%q) = %+v, %v; want an invalid_request error", in, got, err)
		}
	}
}

// TestSpanAddTo: months are calendar months that end on the month's last
// day when it is shorter, days are calendar days, and the fixed part comes
// last.
func TestSpanAddTo(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		from string
		span string
		want string
	}{
		{"2027-01-31T10:00:00Z", "1mo", "2027-02-28T10:00:00Z"},
		{"2028-01-31T10:00:00Z", "1 month", "2028-02-29T10:00:00Z"}, // a leap year
		{"2027-03-31T00:00:00Z", "P1M", "2027-04-30T00:00:00Z"},
		{"2027-01-15T08:30:00Z", "1mo", "2027-02-15T08:30:00Z"},
		{"2027-03-01T00:00:00Z", "1mo", "2027-04-01T00:00:00Z"}, // 31 days, not 30
		{"2027-02-01T00:00:00Z", "1mo", "2027-03-01T00:00:00Z"}, // 28 days, not 30
		{"2027-12-31T23:59:59Z", "2 months", "2028-02-29T23:59:59Z"},
		{"2028-02-29T00:00:00Z", "1y", "2029-02-28T00:00:00Z"},
		{"2027-01-01T00:00:00Z", "1 year", "2028-01-01T00:00:00Z"},
		{"2028-01-01T00:00:00Z", "1 year", "2029-01-01T00:00:00Z"}, // 366 days
		{"2027-01-31T00:00:00Z", "P1M1D", "2027-03-01T00:00:00Z"},  // months, then days
		{"2027-01-31T00:00:00Z", "P1MT1H", "2027-02-28T01:00:00Z"},
		{"2027-01-01T00:00:00Z", "30 days", "2027-01-31T00:00:00Z"},
		{"2027-01-01T00:00:00Z", "PT36H", "2027-01-02T12:00:00Z"},
		{"2027-03-31T00:00:00Z", "-1 month", "2027-02-28T00:00:00Z"},
	}
	for _, tt := range tests {
		sp, err := ParseSpan(tt.span)
		if err != nil {
			t.Fatalf("ParseSpan(%q): %v", tt.span, err)
		}
		if got := sp.AddTo(at(tt.from)); !got.Equal(at(tt.want)) {
			t.Errorf("%s + %s = %s, want %s", tt.from, tt.span, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestSpanStringAndJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		span  Span
		iso   string
		words string
	}{
		{Span{}, "PT0S", "0 days"},
		{Span{Months: 1}, "P1M", "1 month"},
		{Span{Months: 12}, "P1Y", "1 year"},
		{Span{Months: 14, Days: 3, Duration: 4 * time.Hour}, "P1Y2M3DT4H", "1 year 2 months 3 days 4 hours"},
		{Span{Days: 30}, "P30D", "30 days"},
		{Span{Duration: 90 * time.Minute}, "PT1H30M", "90 minutes"},
		{Span{Duration: 1500 * time.Millisecond}, "PT1.5S", "1.5s"},
		{Span{Days: 1, Duration: time.Minute + time.Nanosecond}, "P1DT1M0.000000001S", "1 day 1m0.000000001s"},
		{Span{Days: -1}, "-P1D", "-1 day"},
	}
	for _, tt := range tests {
		if got := tt.span.String(); got != tt.iso {
			t.Errorf("%+v.String() = %q, want %q", tt.span, got, tt.iso)
		}
		if got := tt.span.Words(); got != tt.words {
			t.Errorf("%+v.Words() = %q, want %q", tt.span, got, tt.words)
		}
		for _, form := range []string{tt.iso, tt.words} {
			if back, err := ParseSpan(form); err != nil || back != tt.span {
				t.Errorf("ParseSpan(%q) = %+v, %v; want %+v", form, back, err, tt.span)
			}
		}
		data, err := json.Marshal(struct{ S Span }{tt.span})
		if err != nil || string(data) != `{"S":"`+tt.iso+`"}` {
			t.Errorf("json.Marshal(%+v) = %s, %v", tt.span, data, err)
		}
		var v struct{ S Span }
		if err := json.Unmarshal(data, &v); err != nil || v.S != tt.span {
			t.Errorf("json.Unmarshal(%s) = %+v, %v", data, v.S, err)
		}
	}
	var v struct{ S Span }
	if err := json.Unmarshal([]byte(`{"S":"1 month"}`), &v); err != nil || v.S != (Span{Months: 1}) {
		t.Errorf(`unmarshal "1 month" = %+v, %v`, v.S, err)
	}
	for _, bad := range []string{`{"S":5}`, `{"S":"soon"}`, `{"S":"1.5mo"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("json.Unmarshal(%s) succeeded, want an error", bad)
		}
	}
}

// TestGrantExpiresAfterIsACalendarMonth: a grant given on January 31 with
// ExpiresAfter one month expires at the end of February, relative to its
// effective time; ExpiresAfter excludes ExpiresIn and ExpiresAt.
func TestGrantExpiresAfterIsACalendarMonth(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC)
	forEachConfigStore(t, "", NewManualClock(now), func(t *testing.T, l *Ledger) {
		ctx := context.Background()
		month := Span{Months: 1}
		g, err := l.Grant(ctx, "alice", 10, &GrantOpts{ExpiresAfter: month, IdempotencyKey: "g1"})
		if err != nil {
			t.Fatalf("Grant: %v", err)
		}
		if want := time.Date(2027, 2, 28, 9, 0, 0, 0, time.UTC); g.ExpiresAt == nil || !g.ExpiresAt.Equal(want) {
			t.Errorf("expires_at = %v, want %v", g.ExpiresAt, want)
		}
		// Replays match; another span under the same key is a conflict.
		if again, err := l.Grant(ctx, "alice", 10, &GrantOpts{ExpiresAfter: month, IdempotencyKey: "g1"}); err != nil || again.ID != g.ID {
			t.Errorf("replay = %v, %v; want grant %s", again, err, g.ID)
		}
		if _, err := l.Grant(ctx, "alice", 10, &GrantOpts{ExpiresAfter: Span{Months: 2}, IdempotencyKey: "g1"}); ErrorCodeOf(err) != CodeIdempotencyConflict {
			t.Errorf("same key, other span: %v, want %s", err, CodeIdempotencyConflict)
		}
		// Relative to effective_at: scheduled for March 31, it ends April 30.
		later := time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
		g2, err := l.Grant(ctx, "alice", 5, &GrantOpts{EffectiveAt: later, ExpiresAfter: month})
		if err != nil {
			t.Fatalf("scheduled Grant: %v", err)
		}
		if want := time.Date(2027, 4, 30, 0, 0, 0, 0, time.UTC); g2.ExpiresAt == nil || !g2.ExpiresAt.Equal(want) {
			t.Errorf("scheduled expires_at = %v, want %v", g2.ExpiresAt, want)
		}
		for name, opts := range map[string]*GrantOpts{
			"with expires_in": {ExpiresAfter: month, ExpiresIn: time.Hour},
			"with expires_at": {ExpiresAfter: month, ExpiresAt: now.Add(time.Hour)},
			"negative":        {ExpiresAfter: Span{Days: -1}},
		} {
			if _, err := l.Grant(ctx, "alice", 1, opts); ErrorCodeOf(err) != CodeInvalidRequest {
				t.Errorf("%s: %v, want invalid_request", name, err)
			}
		}
		if b, err := l.Balance(ctx, "alice", nil); err != nil || b.Available != 10 {
			t.Errorf("balance = %+v, %v; want 10 available (refused grants move nothing)", b, err)
		}
	})
}
