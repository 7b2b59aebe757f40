package store

import (
	"context"
	"time"
)

// WebhookStore keeps webhook endpoints and their deliveries. Its methods
// run queries; what a delivery's status becomes, which endpoints an event
// goes to, and what happens to the deliveries of a deleted endpoint are
// decided by package webhook and handed in.
//
// A lookup that finds nothing returns (nil, nil). Limits must be positive.
// Whoever makes a delivery pending either sees its endpoint's deletion or
// is waited for by it, so the deletion's outcome (EndpointDeletion) reaches
// every delivery pending at that time. Events recorded before the server
// tables existed count as dispatched.
type WebhookStore interface {
	// CreateWebhookEndpoint stores a new endpoint.
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// WebhookEndpoint returns an endpoint that is not deleted.
	WebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error)
	// WebhookEndpoints lists endpoints that are not deleted, by ID, after
	// the ID cursor (exclusive; "" from the start), at most limit.
	WebhookEndpoints(ctx context.Context, after string, limit int) ([]*WebhookEndpoint, error)
	// DeleteWebhookEndpoint marks an endpoint deleted at d.At and gives its
	// pending deliveries d.PendingStatus and d.PendingError. It reports
	// false when no endpoint that is not deleted has this ID.
	DeleteWebhookEndpoint(ctx context.Context, id string, d EndpointDeletion) (bool, error)

	// DispatchEvents takes up to limit outbox events that were never
	// dispatched, oldest first, and in one transaction hands them (Seq, ID
	// and Type) and the endpoints that are not deleted (ID and EventTypes)
	// to fanout, inserts the deliveries it returns, and marks those events
	// dispatched at now. It returns how many events it dispatched.
	// Concurrent callers never dispatch one event twice.
	DispatchEvents(ctx context.Context, now time.Time, limit int, fanout Fanout) (int, error)
	// ClaimDeliveries takes up to limit pending deliveries due at now
	// (NextAttemptAt <= now), oldest due first, and moves their
	// NextAttemptAt to now+lease, so that a worker that dies holding them
	// only delays them. Deliveries to the endpoints named in skipEndpoints
	// are left as they are (the caller has as many requests in flight to
	// them as it allows). The returned deliveries carry their endpoint's
	// URL and secret and their event. Concurrent callers never get the
	// same delivery while its lease runs.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, skipEndpoints ...string) ([]*Delivery, error)
	// FinishDelivery records one attempt of a claimed delivery: attempts
	// grows by one, the last attempt's time, HTTP status and error are set,
	// NextAttemptAt is set when a.NextAttemptAt is not nil, and the status
	// becomes a.Status, or a.StatusIfEndpointDeleted when the delivery's
	// endpoint is deleted by then.
	FinishDelivery(ctx context.Context, id string, a DeliveryAttempt) error
	// Deliveries lists deliveries newest first (by ID, descending).
	Deliveries(ctx context.Context, q DeliveryQuery) ([]*Delivery, error)
	// Delivery returns one delivery, with its event but without its
	// endpoint's secret.
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// ReplayDelivery makes a delivery pending again, due at now, whatever
	// its status. It returns the delivery, or nil when there is none or its
	// endpoint is deleted.
	ReplayDelivery(ctx context.Context, id string, now time.Time) (*Delivery, error)
}

// Fanout turns events to dispatch into deliveries, given the endpoints that
// are not deleted. Each returned delivery needs ID, EndpointID, EventID,
// Status, NextAttemptAt and CreatedAt; no two may share an endpoint and an
// event.
type Fanout func(events []*Event, endpoints []*WebhookEndpoint) []*Delivery

// WebhookEndpoint is a webhook endpoint row.
type WebhookEndpoint struct {
	ID          string
	URL         string
	Description string
	Secret      string   // "whsec_" + base64, per Standard Webhooks
	EventTypes  []string // empty: every event
	CreatedAt   time.Time
	DeletedAt   *time.Time
}

// EndpointDeletion is what deleting an endpoint writes: when, and what its
// pending deliveries become.
type EndpointDeletion struct {
	At            time.Time
	PendingStatus string
	PendingError  string
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Delivery is one event to deliver to one endpoint, with the outcome of its
// last attempt.
type Delivery struct {
	ID            string
	EndpointID    string
	EventID       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastAttemptAt *time.Time
	LastStatus    int // HTTP status of the last attempt; 0 when none was received
	LastError     string
	CreatedAt     time.Time

	// Filled by ClaimDeliveries (URL and Secret) and by Delivery and
	// Deliveries (URL only).
	URL    string
	Secret string
	// Event is the delivered outbox event (ClaimDeliveries, Delivery,
	// Deliveries).
	Event *Event
}

// DeliveryAttempt is the outcome of one attempt to deliver.
type DeliveryAttempt struct {
	At         time.Time
	HTTPStatus int    // 0 when no answer was received
	Error      string // empty on success
	// Status is the delivery's status after the attempt, and
	// StatusIfEndpointDeleted its status should its endpoint be deleted by
	// the time the attempt is recorded.
	Status                  string
	StatusIfEndpointDeleted string
	// NextAttemptAt is when to try again; nil leaves the column as it is.
	NextAttemptAt *time.Time
}

// DeliveryQuery selects deliveries. Zero fields do not filter.
type DeliveryQuery struct {
	Status     string
	EndpointID string
	EventID    string
	Before     string // ID cursor, exclusive
	Limit      int
}
