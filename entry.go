package creditkit

import "time"

// Ledger entry categories written by the library. Grants use their reason as
// the category (default CategoryManualAdjustment).
const (
	CategoryManualAdjustment = "manual_adjustment"
	CategoryOperationCharge  = "operation_charge"
	CategoryDebit            = "debit"
	CategoryTransferOut      = "transfer_out"
	CategoryTransferIn       = "transfer_in"
	CategoryExpiration       = "expiration"
	CategoryVoid             = "void"
)

// Allocation is the part of an entry drawn from, or added to, one grant.
type Allocation struct {
	GrantID string `json:"grant_id"`
	Amount  Amount `json:"amount"`
}

// Entry is one append-only line of the ledger. Entries are never updated or
// deleted; corrections are new entries.
type Entry struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Currency string `json:"currency"`
	Category string `json:"category"`
	// Amount is signed: positive adds credits to the wallet, negative removes.
	Amount Amount `json:"amount"`
	// BalanceAfter is the wallet's ledger balance (available plus held
	// credits) right after this entry.
	BalanceAfter Amount `json:"balance_after"`
	// Metadata holds what the entry is about. For operation charges it has
	// "operation", "cost", "params", "executed_at" and the caller's metadata
	// under "metadata".
	Metadata    map[string]any `json:"metadata"`
	Allocations []Allocation   `json:"allocations"`
	// Actor is who asked for the movement (an API key name, "cli", "scheduler").
	Actor          string `json:"actor,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// At is when the movement took effect: the spend time, the moment a
	// grant became effective, or the instant a grant expired.
	At time.Time `json:"at"`
	// RecordedAt is when the entry was written.
	RecordedAt time.Time `json:"recorded_at"`
	// Seq orders the entries; it is assigned by the store.
	Seq int64 `json:"-"`
}

// HistoryFilter narrows History. The zero value lists every entry, oldest first.
type HistoryFilter struct {
	// Currency limits the list to one currency; empty means all.
	Currency string
	// Category limits the list to one category; empty means all.
	Category string
	// Operation limits the list to charges for one operation.
	Operation string
	// Since and Until bound At: Since <= At < Until. Zero means unbounded.
	Since, Until time.Time
	// Limit caps the number of entries. Defaults to 100; at most 1000.
	Limit int
	// After is a cursor: the ID of the last entry of the previous page.
	After string
	// Newest lists the newest entries first.
	Newest bool
}
