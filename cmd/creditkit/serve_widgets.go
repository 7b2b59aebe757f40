package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/widgets"
)

// demoWidgetCustomer is the seeded customer the widgets demo shows.
const demoWidgetCustomer = "alice"

// demoWidgetTokenTTL is the lifetime of the token the demo page embeds; the
// page reloads itself for a new one when it runs out.
const demoWidgetTokenTTL = 30 * time.Minute

// mountWidgets serves the customer widgets beside the API: /widgets.js,
// /widgets/config.json and the demo page /widgets/demo (which, with --demo,
// embeds a token for alice minted when the page is requested). It lets
// pages on --widget-origins read the customer-token endpoints (CORS). With
// a payment provider (checkout), the balance widget offers the config's
// packs; without one, a host page can still offer them through the
// widget's checkout-url.
func (c *ServeCmd) mountWidgets(srv *httpapi.Server, l *creditkit.Ledger, st store.ServerStore, logger *slog.Logger, checkout bool) error {
	origins, err := parseWidgetOrigins(c.WidgetOrigins)
	if err != nil {
		return err
	}
	if err := srv.AllowWidgetOrigins(origins); err != nil {
		return fmt.Errorf("--widget-origins: %w", err)
	}
	opts := &widgets.Options{Config: l.Config, Logger: logger, Checkout: func() bool { return checkout }}
	if c.Demo {
		opts.DemoToken = func(ctx context.Context) (string, string, error) {
			key, err := auth.TokenKey(ctx, st)
			if err != nil {
				return "", "", err
			}
			exp := l.Now().Add(demoWidgetTokenTTL).Truncate(time.Second)
			return demoWidgetCustomer, auth.SignToken(key, auth.Claims{Customer: demoWidgetCustomer, Expires: exp.Unix()}), nil
		}
	}
	widgets.Mount(srv, opts)
	return nil
}

// parseWidgetOrigins reads --widget-origins: a comma-separated list of
// origins, * for any, or none (or empty) for no cross-origin reads.
func parseWidgetOrigins(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.EqualFold(v, "none") {
		return nil, nil
	}
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out, nil
}
