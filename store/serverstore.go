package store

import (
	"context"
	"time"
)

// ServerStore is what the HTTP server keeps beside the ledger: API keys and
// shared secrets (KeyStore), webhook endpoints and their deliveries
// (WebhookStore), and the notices of grants about to expire. Both stores
// implement it. Its methods are named queries: the rules that decide what
// to write live in the packages that call them (auth, webhook and the
// root package). Every method is its own transaction and is safe to call
// from several processes at once: claims never hand one item to two
// callers.
type ServerStore interface {
	KeyStore
	WebhookStore
	ExpiryNoticeStore
}

// ExpiryNoticeStore records notices of grants about to expire.
type ExpiryNoticeStore interface {
	// NotifyExpiring finds up to limit grants with credits left (remaining
	// > 0, not voided, not expired) whose ExpiresAt is after now and at or
	// before until, and that were never notified. For each it records the
	// notice and inserts the outbox event mk returns, in one transaction.
	// A grant is notified at most once, even by concurrent callers. It
	// returns how many grants it notified.
	NotifyExpiring(ctx context.Context, now, until time.Time, limit int, mk func(g *Grant) *Event) (int, error)
}
