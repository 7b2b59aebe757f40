// Package widgets serves creditkit's customer widgets: one script,
// /widgets.js, that defines <creditkit-balance>, <creditkit-utilization>,
// <creditkit-grants>, <creditkit-history> and <creditkit-usage-chart>, the
// public facts they need (/widgets/config.json: currencies and packs), and a
// demo page at /widgets/demo.
//
// The widgets are standard web components with no build step and no
// third-party code: a page on any origin loads the script from the creditkit
// server and gives each widget a customer token (ckt_...) that the app mints
// server-side; the widget then reads that one customer's data from the API
// (see docs/widgets.md). Everything is embedded, so it works offline, and
// nothing needs inline script or style, so pages can keep a strict
// Content-Security-Policy.
package widgets

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/creditkit/creditkit"
)

//go:embed widgets.js demo.html demo.js demo.css
var files embed.FS

// ScriptPath is where the widgets' script is served.
const ScriptPath = "/widgets.js"

// DemoPath is where the demo page is served.
const DemoPath = "/widgets/demo"

// ConfigPath is where the widgets read the server's currencies and packs.
const ConfigPath = "/widgets/config.json"

// DemoCSP is the Content-Security-Policy of the demo page: scripts, styles
// and API calls from this server only, no inline script or style, no
// frames, no forms posted anywhere.
const DemoCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Options configure the widgets' handlers. Nil means defaults.
type Options struct {
	// Config returns the ledger's current config, whose currencies and
	// packs /widgets/config.json lists. Defaults to an empty config (one
	// currency, "credits", and no packs).
	Config func() *creditkit.Config
	// Checkout reports whether a payment provider can sell packs here. With
	// it and at least one pack, <creditkit-balance> shows a top-up button.
	// Defaults to false: the host page shows the button by giving the
	// widget a checkout-url.
	Checkout func() bool
	// DemoToken mints a short-lived customer token for the demo page. Nil
	// (the default) serves a page that says how to get a token instead.
	DemoToken func(ctx context.Context) (customer, token string, err error)
	// Logger receives errors. Defaults to a logger that discards.
	Logger *slog.Logger
}

// Mounter serves a handler at a ServeMux pattern, as httpapi.Server.Mount
// does.
type Mounter interface {
	Mount(pattern string, h http.Handler)
}

// Mount serves the widgets' script, config and demo page on m.
func Mount(m Mounter, opts *Options) {
	h := newHandler(opts)
	m.Mount("GET "+ScriptPath, static(h.script))
	m.Mount("GET /widgets/demo.js", static(h.demoJS))
	m.Mount("GET /widgets/demo.css", static(h.demoCSS))
	m.Mount("GET "+ConfigPath, http.HandlerFunc(h.config))
	m.Mount("GET "+DemoPath, http.HandlerFunc(h.demo))
}

// Script returns the widgets' script as served at /widgets.js, for apps
// that serve it themselves.
func Script() []byte {
	b, _ := files.ReadFile("widgets.js")
	return b
}

// handler serves the widgets.
type handler struct {
	o       Options
	script  asset
	demoJS  asset
	demoCSS asset
	page    *template.Template
}

// asset is an embedded file with its type and a strong ETag.
type asset struct {
	name, contentType string
	body              []byte
	etag              string
}

func newAsset(name, contentType string) asset {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("widgets: embedded " + name + " is missing: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return asset{name: name, contentType: contentType, body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

func newHandler(opts *Options) *handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Config == nil {
		empty := creditkit.DefaultConfig()
		o.Config = func() *creditkit.Config { return empty }
	}
	if o.Checkout == nil {
		o.Checkout = func() bool { return false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &handler{o: o,
		script:  newAsset("widgets.js", "text/javascript; charset=utf-8"),
		demoJS:  newAsset("demo.js", "text/javascript; charset=utf-8"),
		demoCSS: newAsset("demo.css", "text/css; charset=utf-8"),
		page:    template.Must(template.ParseFS(files, "demo.html")),
	}
}

// static serves an asset that any origin may load: the script is public
// code, cached for an hour and revalidated by its ETag after that.
func static(a asset) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Type", a.contentType)
		hd.Set("Cache-Control", "public, max-age=3600")
		hd.Set("ETag", a.etag)
		hd.Set("X-Content-Type-Options", "nosniff")
		// A page on another origin may load it as a module or with
		// crossorigin, and behind Cross-Origin-Embedder-Policy.
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	})
}

// configOut is what /widgets/config.json answers.
type configOut struct {
	Currencies []currencyOut `json:"currencies"`
	Packs      []packOut     `json:"packs"`
	// Checkout is true when a payment provider can sell the packs.
	Checkout bool `json:"checkout"`
}

type currencyOut struct {
	Name     string `json:"name"`
	Decimals int    `json:"decimals"`
}

type packOut struct {
	Name          string           `json:"name"`
	Gives         creditkit.Amount `json:"gives"`
	Currency      string           `json:"currency"`
	PriceMinor    int64            `json:"price_minor"`
	PriceCurrency string           `json:"price_currency"`
}

// config answers the public facts the widgets need: the currencies' decimals,
// to format amounts, and the packs on sale, for the top-up button. It needs
// no token (it is the catalogue a pricing page shows anyway), and any origin
// may read it: it sends no credentials and reveals no customer.
func (h *handler) config(w http.ResponseWriter, r *http.Request) {
	cfg := h.o.Config()
	out := configOut{Currencies: []currencyOut{}, Packs: []packOut{}, Checkout: h.o.Checkout()}
	for _, c := range cfg.Currencies {
		out.Currencies = append(out.Currencies, currencyOut{Name: c.Name, Decimals: c.Decimals})
	}
	if len(out.Currencies) == 0 {
		d := cfg.DefaultCurrency()
		out.Currencies = append(out.Currencies, currencyOut{Name: d.Name, Decimals: d.Decimals})
	}
	for name, p := range cfg.Packs {
		cur := p.Currency
		if cur == "" {
			cur = cfg.DefaultCurrency().Name
		}
		out.Packs = append(out.Packs, packOut{Name: name, Gives: p.Gives, Currency: cur, PriceMinor: p.PriceCents, PriceCurrency: p.PriceCurrency})
	}
	// Cheapest first, as a price list reads.
	slices.SortFunc(out.Packs, func(a, b packOut) int {
		return cmp.Or(cmp.Compare(a.PriceMinor, b.PriceMinor), cmp.Compare(a.Name, b.Name))
	})
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(out)
}

// demoPage is what the demo page template shows.
type demoPage struct {
	Customer, Token string
	// Error says why no token could be minted.
	Error string
}

// demo serves a page with all five widgets: for the demo customer with a
// token minted now when DemoToken is set, or a form to paste a customer and
// a token into.
func (h *handler) demo(w http.ResponseWriter, r *http.Request) {
	var p demoPage
	if h.o.DemoToken != nil {
		customer, token, err := h.o.DemoToken(r.Context())
		if err != nil {
			h.o.Logger.Error("mint a demo customer token", "err", err)
			p.Error = "could not mint a demo token; see the server log"
		} else {
			p.Customer, p.Token = customer, token
		}
	}
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, p); err != nil {
		h.o.Logger.Error("render the widgets demo", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", DemoCSP)
	// The page carries a token: never cache it, never leak the URL.
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(buf.Bytes())
}
