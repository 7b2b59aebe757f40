package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/dashboard"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// mountDashboard serves the admin dashboard at /dashboard/ beside the API,
// recording its actions in the server's audit log.
func mountDashboard(ctx context.Context, l *creditkit.Ledger, st store.ServerStore, srv *httpapi.Server, logger *slog.Logger) error {
	opts := &dashboard.Options{ServerStore: st, Logger: logger}
	if lg := srv.AuditLog(); lg != nil {
		opts.Audit = lg
	}
	h, err := dashboard.New(ctx, l, opts)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	srv.Mount(dashboard.Path+"/", h)
	return nil
}

// printDashboard tells where the dashboard is, and with --demo which key
// signs in.
func printDashboard(w io.Writer, base string, demo bool) {
	hint := ""
	if demo {
		hint = " (sign in with the demo admin key below)"
	}
	fmt.Fprintf(w, "  dashboard: %s%s/%s\n", base, dashboard.Path, hint)
}
