package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// WebhooksCmd groups the webhook commands. They work on --db directly.
type WebhooksCmd struct {
	List      WebhooksListCmd      `cmd:"" help:"List webhook deliveries, newest first."`
	Replay    WebhooksReplayCmd    `cmd:"" help:"Send a delivery again."`
	Endpoints WebhooksEndpointsCmd `cmd:"" help:"List webhook endpoints."`
}

// WebhooksListCmd lists deliveries.
type WebhooksListCmd struct {
	Status   string `name:"status" enum:"pending,succeeded,failed," default:"" help:"Only deliveries in this status."`
	Endpoint string `name:"endpoint" help:"Only deliveries to this endpoint (we_...)."`
	Event    string `name:"event" help:"Only deliveries of this event (evt_...)."`
	Limit    int    `name:"limit" default:"50" help:"At most this many."`
	Before   string `name:"before" help:"Cursor: the last delivery ID of the previous page."`
}

// Run lists the deliveries.
func (c *WebhooksListCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		ds, err := st.Deliveries(s.ctx, store.DeliveryQuery{Status: c.Status, EndpointID: c.Endpoint, EventID: c.Event, Before: c.Before, Limit: c.Limit})
		if err != nil {
			return err
		}
		out := make([]webhook.Delivery, len(ds))
		for i, d := range ds {
			out[i] = webhook.DeliveryOf(d)
		}
		return s.output(out, func(w io.Writer) {
			if len(out) == 0 {
				fmt.Fprintln(w, "no deliveries")
				return
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEVENT\tTYPE\tENDPOINT\tSTATUS\tATTEMPTS\tLAST")
			for _, d := range out {
				last := "-"
				if d.LastAttemptAt != nil {
					last = fmt.Sprintf("%s %d %s", d.LastAttemptAt.Format(time.RFC3339), d.LastStatus, d.LastError)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.EventID, d.EventType, d.URL, d.Status, d.Attempts, last)
			}
			tw.Flush()
		})
	})
}

// WebhooksReplayCmd replays a delivery.
type WebhooksReplayCmd struct {
	ID string `arg:"" name:"delivery" help:"The delivery's ID (dlv_...)."`
	reasonFlag
}

// Run makes the delivery due now; a running server sends it within a tick.
func (c *WebhooksReplayCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		d, err := st.ReplayDelivery(s.ctx, c.ID, l.Now())
		if err == nil && d == nil {
			err = &creditkit.Error{Code: creditkit.CodeNotFound, Message: fmt.Sprintf("no delivery %s (or its endpoint was deleted); see creditkit webhooks list", c.ID)}
		}
		s.recordCLI(l, audit.Record{Action: "webhook_delivery.replay", Target: c.ID, Reason: c.Reason}, err)
		if err != nil {
			return err
		}
		out := webhook.DeliveryOf(d)
		return s.output(out, func(w io.Writer) {
			fmt.Fprintf(w, "delivery %s of %s to %s is due again; a running server sends it at its next tick\n", d.ID, out.EventType, d.URL)
		})
	})
}

// WebhooksEndpointsCmd lists endpoints.
type WebhooksEndpointsCmd struct{}

// Run lists the endpoints that are not deleted.
func (c *WebhooksEndpointsCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		es, err := st.WebhookEndpoints(s.ctx, "", 1000)
		if err != nil {
			return err
		}
		type endpointJSON struct {
			ID         string    `json:"id"`
			URL        string    `json:"url"`
			EventTypes []string  `json:"event_types"`
			CreatedAt  time.Time `json:"created_at"`
		}
		out := make([]endpointJSON, len(es))
		for i, e := range es {
			out[i] = endpointJSON{ID: e.ID, URL: e.URL, EventTypes: e.EventTypes, CreatedAt: e.CreatedAt}
			if out[i].EventTypes == nil {
				out[i].EventTypes = []string{}
			}
		}
		return s.output(out, func(w io.Writer) {
			if len(out) == 0 {
				fmt.Fprintln(w, "no webhook endpoints; register one with POST /v1/webhook-endpoints")
				return
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tURL\tEVENTS\tCREATED")
			for _, e := range out {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", e.ID, e.URL, e.EventTypes, e.CreatedAt.Format(time.RFC3339))
			}
			tw.Flush()
		})
	})
}
