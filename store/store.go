// Package store is the contract between the creditkit domain and its storage
// adapters. The domain decides; a store only reads and writes the rows named
// here, inside the transaction the domain opens. Every mutation reaches a
// store as one Changes value applied by WriteTx.Apply, which is the one write
// path of the ledger.
//
// Rows use plain Go values: times are UTC time.Time (stores persist them as
// microseconds since the Unix epoch), JSON columns arrive already encoded.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrRetry is returned (wrapped) by a store when a transaction lost a race it
// can win by running again: a serialization failure, a deadlock, or a unique
// violation on an idempotency key inserted concurrently. The domain reruns
// the whole transaction.
var ErrRetry = errors.New("store: transaction conflict, retry")

// ErrBusy is returned (wrapped) when the database is locked by another
// process for longer than the store's busy timeout.
var ErrBusy = errors.New("store: database busy")

// Store is a creditkit storage adapter.
type Store interface {
	// Update runs fn in one read-write transaction and commits it when fn
	// returns nil. The commit is durable when Update returns.
	Update(ctx context.Context, fn func(ctx context.Context, tx WriteTx) error) error
	// View runs fn in a read-only transaction that sees one snapshot.
	View(ctx context.Context, fn func(ctx context.Context, tx ReadTx) error) error
	// Close releases the store's connections.
	Close() error
}

// ReadTx reads rows.
type ReadTx interface {
	// Wallet returns a wallet row, or nil when none is stored.
	Wallet(ctx context.Context, key WalletKey) (*Wallet, error)
	// Wallets lists stored wallets ordered by customer then currency, after
	// the given key (exclusive; zero means from the start).
	Wallets(ctx context.Context, after WalletKey, limit int) ([]*Wallet, error)
	// LiveGrants returns the grants of the wallets that still hold credits
	// (remaining > 0, not voided, no expiration written), whatever their
	// dates. It must use an index, not a scan of the wallet's history.
	LiveGrants(ctx context.Context, keys []WalletKey) ([]*Grant, error)
	// ActiveHolds returns the holds of the wallets with status "active",
	// whatever their expiry.
	ActiveHolds(ctx context.Context, keys []WalletKey) ([]*Hold, error)
	// Grant returns one grant, or nil.
	Grant(ctx context.Context, id string) (*Grant, error)
	// Grants lists a customer's grants by ID ascending.
	Grants(ctx context.Context, q GrantQuery) ([]*Grant, error)
	// Hold returns one hold, or nil.
	Hold(ctx context.Context, id string) (*Hold, error)
	// HoldsAt returns the wallet's holds that reserved credits at instant t:
	// created at or before t, expiring after t, and unresolved at t.
	HoldsAt(ctx context.Context, key WalletKey, t time.Time) ([]*Hold, error)
	// Entries lists a customer's entries by Seq.
	Entries(ctx context.Context, q EntryQuery) ([]*Entry, error)
	// Entry returns one entry, or nil.
	Entry(ctx context.Context, id string) (*Entry, error)
	// SumEntries returns the sum of the wallet's entries with At <= t.
	SumEntries(ctx context.Context, key WalletKey, t time.Time) (int64, error)
	// Idempotency returns the record stored under key, or nil.
	Idempotency(ctx context.Context, key string) (*Idempotency, error)
	// Idempotencies returns the records stored under any of keys, in any
	// order, in one query: a batch checks all its keys at once.
	Idempotencies(ctx context.Context, keys []string) ([]*Idempotency, error)
	// DueGrants returns up to limit grants whose expiry is at or before now
	// with credits left and no expiration written (and not voided).
	DueGrants(ctx context.Context, now time.Time, limit int) ([]*Grant, error)
	// DueHolds returns up to limit active holds expiring at or before now.
	DueHolds(ctx context.Context, now time.Time, limit int) ([]*Hold, error)
	// Events lists outbox events with Seq > after, by Seq.
	Events(ctx context.Context, after int64, limit int) ([]*Event, error)
	CustomerReader
	SubscriptionReader
}

// WriteTx reads and writes rows in a read-write transaction.
type WriteTx interface {
	ReadTx
	// LockWallets creates any missing wallet rows and locks all of them for
	// the rest of the transaction, in the order given (the domain sorts the
	// keys, so that two transactions never wait on each other in a cycle).
	// It returns the rows in the same order.
	LockWallets(ctx context.Context, keys []WalletKey, now time.Time) ([]*Wallet, error)
	// Apply writes a set of changes.
	Apply(ctx context.Context, c *Changes) error
}

// WalletKey names a wallet.
type WalletKey struct {
	Customer string
	Currency string
}

// Less orders wallet keys by customer, then currency.
func (k WalletKey) Less(o WalletKey) bool {
	if k.Customer != o.Customer {
		return k.Customer < o.Customer
	}
	return k.Currency < o.Currency
}

// Wallet is a wallet row.
type Wallet struct {
	Customer      string
	Currency      string
	LedgerBalance int64
	LowNotified   bool
	// Alerts is the wallet's balance-alert state as JSON (its own
	// low-balance thresholds, which of them are crossed, the last refill),
	// or nil. The domain reads and writes it; the store only keeps it.
	Alerts []byte
	// OverageLimit is how far into debt the wallet may go (0: it never
	// goes negative), and Debt what it owes now (0 <= Debt). The domain
	// keeps Debt <= OverageLimit when it draws debt; a limit lowered below
	// the debt only stops further draws.
	OverageLimit int64
	Debt         int64
	CreatedAt    time.Time
	// Created is set by LockWallets on a row this transaction created.
	Created bool
}

// Grant is a grant row.
type Grant struct {
	ID          string
	Customer    string
	Currency    string
	Amount      int64
	Remaining   int64
	Reason      string
	Source      string
	Priority    int
	CreatedAt   time.Time
	EffectiveAt time.Time
	ExpiresAt   *time.Time
	VoidedAt    *time.Time
	ExpiredAt   *time.Time
	CostBasis   []byte // JSON or nil
	Metadata    []byte // JSON object
}

// GrantUpdate changes the mutable columns of a grant.
type GrantUpdate struct {
	ID        string
	Remaining int64
	VoidedAt  *time.Time
	ExpiredAt *time.Time
	// ExpiresAt is the grant's expiry after the update (nil: never), which
	// an expiry change moves.
	ExpiresAt *time.Time
}

// GrantQuery selects a customer's grants.
type GrantQuery struct {
	Customer string
	Currency string // empty: all
	After    string // ID cursor, exclusive
	Limit    int
}

// Entry is a ledger entry row.
type Entry struct {
	Seq            int64 // assigned by the store on insert
	ID             string
	Customer       string
	Currency       string
	Type           string // one of the domain's closed set of entry types
	Category       string
	Description    string
	Amount         int64
	BalanceAfter   int64
	AvailableAfter *int64 // nil on entries written before migration 0003
	Operation      string // for operation charges, to filter by operation
	Details        []byte // JSON object: the library's own fields
	Metadata       []byte // JSON object: the caller's metadata
	Allocations    []byte // JSON array
	Actor          string
	IdempotencyKey string
	At             time.Time
	OccurredAt     time.Time // when the usage happened (the domain sets At when not given)
	RecordedAt     time.Time
}

// EntryQuery selects a customer's entries.
type EntryQuery struct {
	Customer  string
	Currency  string    // empty: all
	Type      string    // empty: all
	Category  string    // empty: all
	Operation string    // empty: all
	Since     time.Time // At >= Since when non-zero
	Until     time.Time // At < Until when non-zero
	// ByOccurredAt makes Since and Until bound OccurredAt instead of At.
	ByOccurredAt bool
	AfterSeq     int64 // cursor, exclusive; 0: from the start
	Desc         bool  // newest first (then AfterSeq means Seq < AfterSeq)
	Limit        int
}

// Hold is a hold row.
type Hold struct {
	ID          string
	Customer    string
	Currency    string
	Operation   string
	Params      []byte // JSON object or nil
	Amount      int64
	Captured    int64
	Status      string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	ResolvedAt  *time.Time
	Allocations []byte // JSON array
	Metadata    []byte // JSON object or nil
	EntryID     string
}

// HoldUpdate changes the mutable columns of a hold.
type HoldUpdate struct {
	ID         string
	Status     string
	Captured   int64
	ResolvedAt *time.Time
	EntryID    string
}

// Idempotency is a stored idempotency record: the fingerprint of the first
// request made with a key and the result it got.
type Idempotency struct {
	Key         string
	Fingerprint string
	Result      []byte // JSON
	CreatedAt   time.Time
}

// Event is an outbox row.
type Event struct {
	Seq      int64 // assigned by the store on insert
	ID       string
	Type     string
	Customer string
	Currency string
	Data     []byte // JSON object
	At       time.Time
}

// Changes is everything one write transaction (or one batch of them) writes.
// Stores apply each list with as few statements as they can.
type Changes struct {
	Wallets       []*Wallet // full rows to save (they exist: LockWallets made them)
	NewGrants     []*Grant
	GrantUpdates  []*GrantUpdate
	Entries       []*Entry
	NewHolds      []*Hold
	HoldUpdates   []*HoldUpdate
	Idempotencies []*Idempotency
	Events        []*Event
	// NewCustomers are customers to create; one that exists already is a
	// lost race (ErrRetry).
	NewCustomers []*Customer
	// SeenCustomers are customers first seen by a write, created unless
	// they exist.
	SeenCustomers []*Customer
	// Subscriptions are subscription rows to save whole (inserted, or
	// replacing the row of the same customer and currency); a list that
	// names one twice saves the last.
	Subscriptions []*Subscription
	// Purchases are purchase rows to save whole (inserted, or replacing
	// the row of the same ID); a list that names one twice saves the last.
	// A new row whose (Provider, ExternalID) exists under another ID is a
	// lost race (ErrRetry).
	Purchases []*Purchase
}

// Empty reports whether c writes nothing.
func (c *Changes) Empty() bool {
	return len(c.Wallets) == 0 && len(c.NewGrants) == 0 && len(c.GrantUpdates) == 0 &&
		len(c.Entries) == 0 && len(c.NewHolds) == 0 && len(c.HoldUpdates) == 0 &&
		len(c.Idempotencies) == 0 && len(c.Events) == 0 && len(c.NewCustomers) == 0 && len(c.SeenCustomers) == 0 &&
		len(c.Subscriptions) == 0 && len(c.Purchases) == 0
}

// WriteLaner is implemented by stores that know how many write
// transactions should run at once: 1 for a single-writer database such as
// SQLite, more where row locks let batches on different wallets commit in
// parallel.
type WriteLaner interface {
	WriteLanes() int
}

// ChangeDetector is implemented by stores whose write transactions exclude
// every other writer (SQLite's BEGIN IMMEDIATE) and that can tell whether
// anyone else wrote in between. The ledger then keeps the wallets it wrote
// in memory and skips reloading them, which is exact as long as nobody else
// wrote.
type ChangeDetector interface {
	// UnchangedSinceLastWrite reports, inside a write transaction, whether
	// nobody else wrote since writer's previous write transaction: no other
	// connection committed, and no other writer (another ledger over this
	// very store, whose writes share its connection) called it in between.
	// The first call of a writer reports false. writer is compared with ==.
	UnchangedSinceLastWrite(ctx context.Context, tx WriteTx, writer any) (bool, error)
}

// WalletStateReader is implemented by stores that can read the wallet
// rows, live grants and active holds of wallets in one consistent snapshot
// more cheaply than a View running Wallet, LiveGrants and ActiveHolds
// (PostgreSQL: one pipelined round trip instead of five). Balance reads use
// it when present. Wallets that do not exist have no row in the result.
type WalletStateReader interface {
	WalletState(ctx context.Context, keys []WalletKey) ([]*Wallet, []*Grant, []*Hold, error)
}
