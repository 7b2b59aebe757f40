package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
)

// Asset names, with the vendored files' versions (see VENDOR.md).
const (
	assetHTMX      = Path + "/static/htmx-2.0.11.min.js"
	assetUPlot     = Path + "/static/uPlot-1.6.32.iife.min.js"
	assetUPlotCSS  = Path + "/static/uPlot-1.6.32.min.css"
	assetOwnScript = Path + "/static/dashboard.js"
	assetOwnCSS    = Path + "/static/dashboard.css"
)

// pageTemplate is one page: the layout, the shared partials and the page's
// own blocks.
type pageTemplate struct{ t *template.Template }

// view is what every page template gets.
type view struct {
	Title string
	// Nav names the menu item to mark as current.
	Nav  string
	User *user
	// Flash is a message about what just happened; Error one about what
	// went wrong.
	Flash, Error string
	// Data is the page's own data.
	Data any
	// LiveMessages says the page shows its messages in its live part
	// (the customer page), not under the title.
	LiveMessages bool
	// Assets are the script and style URLs.
	Assets map[string]string
}

// parsePages parses every page of templates/ with the layout and partials.
func parsePages(cfg *creditkit.Config) (map[string]*pageTemplate, error) {
	funcs := template.FuncMap{
		"amount": func(a creditkit.Amount, currency string) string { return cfg.FormatAmount(a, currency) },
		"num":    func(a creditkit.Amount, currency string) string { return formatNumber(cfg, a, currency) },
		"when":   formatTime,
		"whenp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return formatTime(*t)
		},
		"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"query": func(kv ...string) string { return queryString(kv...) },
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"money": formatMoney,
		"neg":   func(a creditkit.Amount) creditkit.Amount { return -a },
		"voidable": func(g *creditkit.Grant) bool {
			return g.Status == creditkit.GrantActive || g.Status == creditkit.GrantScheduled
		},
		"inc":     func(i int) int { return i + 1 },
		"pathesc": url.PathEscape,
		"span":    humanSpan,
		"row": func(v *view, data any) *view {
			c := *v
			c.Data = data
			return &c
		},
		"reversible": func(e *creditkit.Entry) bool { return e.Type == creditkit.EntryCharge },
		"csrfHeaders": func(u *user) string {
			if u == nil {
				return ""
			}
			b, _ := json.Marshal(map[string]string{"X-CSRF-Token": u.CSRF})
			return string(b)
		},
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parse the layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t, err = t.ParseFS(files, n); err != nil {
			return nil, fmt.Errorf("dashboard: parse %s: %w", n, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(n), "page_"), ".html")
		out[name] = &pageTemplate{t: t}
	}
	return out, nil
}

// render writes a whole page, or one named block of it.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, block string, v *view) {
	pt, ok := h.pages[page]
	if !ok {
		h.log.Error("dashboard: no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if block == "" {
		block = "layout"
	}
	v.Assets = map[string]string{"htmx": assetHTMX, "uplot": assetUPlot, "uplotCSS": assetUPlotCSS, "js": assetOwnScript, "css": assetOwnCSS}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, block, v); err != nil {
		h.log.Error("dashboard: render", "page", page, "block", block, "err", err)
		http.Error(w, "internal error rendering the page; see the server log for request "+requestID(w), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail answers a request with an error: a message swapped into the page's
// message area for htmx, else the error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, u *user, status int, msg string) {
	if isHTMX(r) {
		// htmx swaps only 2xx answers by default; this one goes to the
		// message area whatever the target was.
		w.Header().Set("HX-Retarget", "#messages")
		w.Header().Set("HX-Reswap", "innerHTML")
		h.render(w, r, status, "error", "messages", &view{User: u, Error: msg})
		return
	}
	h.render(w, r, status, "error", "", &view{Title: http.StatusText(status), User: u, Error: msg})
}

// failErr answers a library error: the user's mistake (a creditkit.Error
// that is not internal) with its message, anything else as an internal
// error, logged.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, u *user, err error) {
	status, msg := describe(err)
	if status >= 500 {
		h.log.Error("dashboard: request failed", "request_id", requestID(w), "path", r.URL.Path, "err", err)
	}
	h.fail(w, r, u, status, msg)
}

// describe turns an error into a status and a message for the user.
func describe(err error) (int, string) {
	switch creditkit.ErrorCodeOf(err) {
	case creditkit.CodeNotFound, creditkit.CodeCustomerNotFound:
		return http.StatusNotFound, err.Error()
	case creditkit.CodeInternal, "":
		return http.StatusInternalServerError, "Something went wrong on the server; see its log. (" + err.Error() + ")"
	case creditkit.CodeOverloaded:
		return http.StatusServiceUnavailable, "The server is busy; try again in a moment."
	}
	return http.StatusUnprocessableEntity, err.Error()
}

// formatTime prints an instant in UTC to the minute.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// formatNumber prints an amount without its currency word.
func formatNumber(cfg *creditkit.Config, a creditkit.Amount, currency string) string {
	s := cfg.FormatAmount(a, currency)
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

// formatMoney prints minor units of money: 4900 USD is "49.00 USD".
func formatMoney(cents int64, currency string) string {
	return creditkit.FormatAmount(creditkit.Amount(cents), 2, currency)
}

// queryString builds "?k=v&..." from pairs, leaving out empty values.
func queryString(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// humanSpan prints a calendar span in words: "1 year", "30 days".
func humanSpan(s creditkit.Span) string {
	if s.Duration != 0 || s.Months < 0 || s.Days < 0 {
		return s.String()
	}
	var parts []string
	plural := func(n int, unit string) {
		if n == 1 {
			parts = append(parts, "1 "+unit)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %ss", n, unit))
		}
	}
	plural(s.Months/12, "year")
	plural(s.Months%12, "month")
	plural(s.Days, "day")
	return strings.Join(parts, " ")
}
