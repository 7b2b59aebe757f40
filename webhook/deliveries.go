package webhook

import (
	"context"
	"time"

	"github.com/creditkit/creditkit/store"
)

// ErrorEndpointDeleted is the last error of the deliveries that were
// pending when their endpoint was deleted.
const ErrorEndpointDeleted = "endpoint deleted"

// Fanout returns the rule that turns events into deliveries: one pending
// delivery, due at now, of each event to each endpoint whose filter wants
// it (MatchEventType), with IDs from newID. Stores run it inside the
// transaction that claims the events (store.WebhookStore.DispatchEvents).
func Fanout(now time.Time, newID func() string) store.Fanout {
	return func(events []*store.Event, endpoints []*store.WebhookEndpoint) []*store.Delivery {
		var out []*store.Delivery
		for _, ev := range events {
			for _, ep := range endpoints {
				if MatchEventType(ep.EventTypes, ev.Type) {
					out = append(out, &store.Delivery{ID: newID(), EndpointID: ep.ID, EventID: ev.ID,
						Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now})
				}
			}
		}
		return out
	}
}

// The transitions of a delivery's status after an attempt. A delivery
// whose endpoint was deleted while it was being attempted is never left
// pending: a retry it would have had becomes a failure, since no one would
// ever claim it.

// Succeeded records an attempt the endpoint acknowledged with a 2xx status.
func Succeeded(at time.Time, httpStatus int) store.DeliveryAttempt {
	return store.DeliveryAttempt{At: at, HTTPStatus: httpStatus,
		Status: store.DeliverySucceeded, StatusIfEndpointDeleted: store.DeliverySucceeded}
}

// Retry records a failed attempt that is tried again at next.
func Retry(at time.Time, httpStatus int, reason string, next time.Time) store.DeliveryAttempt {
	return store.DeliveryAttempt{At: at, HTTPStatus: httpStatus, Error: reason, NextAttemptAt: &next,
		Status: store.DeliveryPending, StatusIfEndpointDeleted: store.DeliveryFailed}
}

// GiveUp records a failed attempt after which the delivery fails.
func GiveUp(at time.Time, httpStatus int, reason string) store.DeliveryAttempt {
	return store.DeliveryAttempt{At: at, HTTPStatus: httpStatus, Error: reason,
		Status: store.DeliveryFailed, StatusIfEndpointDeleted: store.DeliveryFailed}
}

// DeleteEndpoint deletes an endpoint at now; its pending deliveries fail
// with ErrorEndpointDeleted. It reports false when no endpoint that is not
// deleted has this ID.
func DeleteEndpoint(ctx context.Context, st store.WebhookStore, id string, now time.Time) (bool, error) {
	return st.DeleteWebhookEndpoint(ctx, id, store.EndpointDeletion{At: now.UTC(),
		PendingStatus: store.DeliveryFailed, PendingError: ErrorEndpointDeleted})
}

// Delivery is a webhook delivery as the API and the CLI show it.
type Delivery struct {
	ID            string     `json:"id"`
	EndpointID    string     `json:"endpoint_id"`
	URL           string     `json:"url,omitempty"`
	EventID       string     `json:"event_id" doc:"Also the webhook-id header, the same on every attempt."`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status" enum:"pending,succeeded,failed"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty" doc:"The last attempt's HTTP status and reason, such as \"HTTP 500 Internal Server Error\", or why no answer came; never the answer's body."`
	CreatedAt     time.Time  `json:"created_at"`
}

// DeliveryOf renders a delivery as the API and the CLI show it.
func DeliveryOf(d *store.Delivery) Delivery {
	out := Delivery{ID: d.ID, EndpointID: d.EndpointID, URL: d.URL, EventID: d.EventID, Status: d.Status, Attempts: d.Attempts,
		LastAttemptAt: d.LastAttemptAt, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt}
	if d.Event != nil {
		out.EventType = d.Event.Type
	}
	if d.Status == store.DeliveryPending {
		next := d.NextAttemptAt
		out.NextAttemptAt = &next
	}
	return out
}
