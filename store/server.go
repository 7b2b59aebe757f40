package store

import (
	"context"
	"strings"
	"time"
)

// ServerStore is what the HTTP server keeps beside the ledger: API keys,
// shared secrets, webhook endpoints and their deliveries, and the notices of
// grants about to expire. Both stores implement it. Every method is its own
// transaction and is safe to call from several processes at once: claims
// never hand one item to two callers.
//
// A lookup that finds nothing returns (nil, nil). Limits must be positive.
// A deleted endpoint never keeps a pending delivery: deleting fails them,
// and FinishDelivery on a delivery whose endpoint is gone records it as
// failed whatever the attempt asked. Events recorded before the server
// tables existed count as dispatched.
type ServerStore interface {
	// CreateAPIKey stores a new key.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the key with this hash, revoked or not.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// APIKeys lists every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey marks a key revoked at t. It reports false when no
	// unrevoked key has this ID.
	RevokeAPIKey(ctx context.Context, id string, t time.Time) (bool, error)

	// Secret returns the secret stored under name, first storing generated
	// when there is none, so that every process sharing the database agrees
	// on one value.
	Secret(ctx context.Context, name string, generated []byte) ([]byte, error)

	// CreateWebhookEndpoint stores a new endpoint.
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// WebhookEndpoint returns an endpoint that is not deleted.
	WebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error)
	// WebhookEndpoints lists endpoints that are not deleted, by ID, after
	// the ID cursor (exclusive; "" from the start), at most limit.
	WebhookEndpoints(ctx context.Context, after string, limit int) ([]*WebhookEndpoint, error)
	// DeleteWebhookEndpoint marks an endpoint deleted at t and fails its
	// pending deliveries with the error "endpoint deleted". It reports false
	// when no endpoint that is not deleted has this ID.
	DeleteWebhookEndpoint(ctx context.Context, id string, t time.Time) (bool, error)

	// DispatchEvents takes up to limit outbox events that were never
	// dispatched, oldest first, and in one transaction creates a pending
	// delivery (ID from newID, due at now) for every endpoint that is not
	// deleted and whose EventTypes match the event (MatchEventType), then
	// marks those events dispatched. It returns how many events it
	// dispatched. Concurrent callers never dispatch one event twice.
	DispatchEvents(ctx context.Context, now time.Time, limit int, newID func() string) (int, error)
	// ClaimDeliveries takes up to limit pending deliveries due at now
	// (NextAttemptAt <= now), oldest due first, and moves their
	// NextAttemptAt to now+lease, so that a worker that dies holding them
	// only delays them. The returned deliveries carry their endpoint's URL
	// and secret and their event. Concurrent callers never get the same
	// delivery while its lease runs.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)
	// FinishDelivery records one attempt of a claimed delivery: attempts
	// grows by one, the last attempt's time, status and error are set, and
	// the status becomes succeeded, pending again (due at a.NextAttemptAt)
	// or failed (a.NextAttemptAt nil).
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

	// NotifyExpiring finds up to limit grants with credits left (remaining
	// > 0, not voided, not expired) whose ExpiresAt is after now and at or
	// before until, and that were never notified. For each it records the
	// notice and inserts the outbox event mk returns, in one transaction.
	// A grant is notified at most once, even by concurrent callers. It
	// returns how many grants it notified.
	NotifyExpiring(ctx context.Context, now, until time.Time, limit int, mk func(g *Grant) *Event) (int, error)
}

// API key scopes, from least to most allowed.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
	ScopeAdmin = "admin"
)

// APIKey is an API key row. The secret is never stored, only its hash.
type APIKey struct {
	ID        string
	Name      string
	Scope     string // ScopeRead, ScopeWrite or ScopeAdmin
	Hash      string // hex SHA-256 of the secret
	Prefix    string // the secret's first characters, to recognize it
	CreatedAt time.Time
	RevokedAt *time.Time
}

// WebhookEndpoint is a webhook endpoint row.
type WebhookEndpoint struct {
	ID          string
	URL         string
	Description string
	Secret      string   // "whsec_" + base64, per Standard Webhooks
	EventTypes  []string // empty: every event; see MatchEventType
	CreatedAt   time.Time
	DeletedAt   *time.Time
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
	At        time.Time
	Succeeded bool
	Status    int    // HTTP status, 0 when none was received
	Error     string // empty on success
	// NextAttemptAt is when to try again after a failure; nil gives up and
	// marks the delivery failed.
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

// MatchEventType reports whether an endpoint subscribed to filter wants an
// event of type typ: an empty filter wants every event; otherwise an item
// matches exactly, "*" matches everything, and "credits.grant.*" matches
// every type that starts with "credits.grant.".
func MatchEventType(filter []string, typ string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		switch {
		case f == "*", f == typ:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(f, "*")):
			return true
		}
	}
	return false
}
