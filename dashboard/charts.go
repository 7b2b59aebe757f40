package dashboard

import (
	"math"
	"slices"
	"time"

	"github.com/creditkit/creditkit"
)

// chart is what dashboard.js hands uPlot: one x value per UTC day (Unix
// seconds) and one series per operation, in the currency's units. It
// travels in the chart element's data-chart attribute, as JSON.
type chart struct {
	ID     string        `json:"id"`
	Title  string        `json:"title"`
	Unit   string        `json:"unit"`
	X      []int64       `json:"x"`
	Series []chartSeries `json:"series"`
}

type chartSeries struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}

// Empty reports whether the chart has no usage at all.
func (c *chart) Empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// chartRow is one day of a chart, for its table.
type chartRow struct {
	Day    time.Time
	Values []float64
}

// Rows lists the days with some usage, for the table that spells out the
// chart for screen readers.
func (c *chart) Rows() []chartRow {
	var out []chartRow
	for i, x := range c.X {
		row := chartRow{Day: time.Unix(x, 0).UTC()}
		some := false
		for _, s := range c.Series {
			row.Values = append(row.Values, s.Values[i])
			some = some || s.Values[i] != 0
		}
		if some {
			out = append(out, row)
		}
	}
	return out
}

// usageLabel names a usage row: its operation, or "debit: <reason>" for a
// raw charge.
func usageLabel(r creditkit.UsageRow) string {
	if r.Operation != "" {
		return r.Operation
	}
	if r.Reason != "" {
		return "debit: " + r.Reason
	}
	return "all"
}

// dailyChart builds a chart of usage rows by day and operation over the
// days from since (a UTC midnight) to until.
func dailyChart(id, title string, cur creditkit.Currency, rows []creditkit.UsageRow, since, until time.Time) *chart {
	c := &chart{ID: id, Title: title, Unit: cur.Name}
	index := map[int64]int{}
	for d := since; d.Before(until); d = d.AddDate(0, 0, 1) {
		index[d.Unix()] = len(c.X)
		c.X = append(c.X, d.Unix())
	}
	series := map[string][]float64{}
	scale := math.Pow10(cur.Decimals)
	for _, r := range rows {
		i, ok := index[r.Start.UTC().Unix()]
		if !ok {
			continue
		}
		label := usageLabel(r)
		if series[label] == nil {
			series[label] = make([]float64, len(c.X))
		}
		series[label][i] += float64(r.Amount) / scale
	}
	labels := make([]string, 0, len(series))
	for l := range series {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, l := range labels {
		c.Series = append(c.Series, chartSeries{Label: l, Values: series[l]})
	}
	return c
}

// startOfDay is the UTC midnight at or before t.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// startOfMonth is the first instant of t's UTC month.
func startOfMonth(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}
