package creditkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
)

// Ledger is the credits ledger: every grant, spend, hold, transfer and
// expiry goes through it. It is safe for concurrent use, including by several
// processes sharing one database.
type Ledger struct {
	store  store.Store
	cfg    *Config
	clock  Clock
	ids    IDGenerator
	logger *slog.Logger
	closer func() error
	// batcher runs group commit; nil when batching is off.
	batcher *committer
	// cache keeps written wallets in memory on stores that can tell when
	// another writer committed (store.ChangeDetector); nil otherwise.
	cache *walletCache
	// cacheMu spans a write transaction and its save to the cache.
	cacheMu sync.Mutex

	// usageWindow bounds the OccurredAt a charge may give; see SetUsageWindow.
	usageWindow usageWindowSetting

	subsMu sync.RWMutex
	subs   map[int]Subscriber
	nextID int
}

// Open opens the ledger on a database URL and applies migrations:
// "sqlite:path/to/file.db" (created if missing, WAL mode) or
// "postgres://user@host/db". A nil cfg means DefaultConfig().
func Open(ctx context.Context, url string, cfg *Config) (*Ledger, error) {
	var (
		s   store.Store
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		s, err = sqlite.Open(ctx, path, nil)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err = postgres.Open(ctx, url, nil)
	default:
		return nil, errorf(CodeInvalidRequest, "database URL %q is not supported: use sqlite:path/to/file.db or postgres://user@host/db", redactURL(url))
	}
	if err != nil {
		// The stores' errors already name the database (without a password).
		return nil, fmt.Errorf("open database: %w", err)
	}
	l, err := New(s, cfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	l.closer = s.Close
	return l, nil
}

// redactURL hides a password in a database URL.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.Index(creds, ":"); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":xxxxx" + u[at:]
	}
	return u
}

// New returns a ledger on a store the caller built. Close does not close
// that store. A nil cfg means DefaultConfig().
func New(s store.Store, cfg *Config) (*Ledger, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = systemClock{}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	l := &Ledger{store: s, cfg: cfg, clock: clock, logger: logger, subs: map[int]Subscriber{}}
	if _, ok := s.(store.ChangeDetector); ok {
		l.cache = newWalletCache(100_000)
	}
	if cfg.UsageWindow != (UsageWindow{}) {
		l.SetUsageWindow(cfg.UsageWindow)
	}
	if !cfg.Writes.NoBatching {
		l.batcher = newCommitter(l, cfg.Writes)
	}
	return l, nil
}

// Close stops the write path, after the batches in flight commit, and
// closes the database if Open opened it. Writes still queued fail with
// ErrClosed; nothing acknowledged is lost.
func (l *Ledger) Close() error {
	if l.batcher != nil {
		l.batcher.stop()
	}
	if l.closer != nil {
		return l.closer()
	}
	return nil
}

// Config returns the ledger's configuration. Do not modify it.
func (l *Ledger) Config() *Config { return l.cfg }

// Store returns the store under the ledger.
func (l *Ledger) Store() store.Store { return l.store }

// Now returns the ledger clock's current time, in UTC, to the microsecond
// the stores keep, so a fresh result and a later read agree.
func (l *Ledger) Now() time.Time { return l.clock.Now().UTC().Truncate(time.Microsecond) }

// Subscribe registers fn to receive every event after its transaction
// commits. It returns a function that unsubscribes.
func (l *Ledger) Subscribe(fn Subscriber) (unsubscribe func()) {
	l.subsMu.Lock()
	defer l.subsMu.Unlock()
	id := l.nextID
	l.nextID++
	l.subs[id] = fn
	return func() {
		l.subsMu.Lock()
		defer l.subsMu.Unlock()
		delete(l.subs, id)
	}
}

func (l *Ledger) publish(events []Event) {
	if len(events) == 0 {
		return
	}
	l.subsMu.RLock()
	subs := make([]Subscriber, 0, len(l.subs))
	for _, s := range l.subs {
		subs = append(subs, s)
	}
	l.subsMu.RUnlock()
	for _, e := range events {
		for _, s := range subs {
			l.notify(s, e)
		}
	}
}

// notify calls one subscriber; a subscriber that panics is logged and
// skipped, since the write it hears about has already committed.
func (l *Ledger) notify(s Subscriber, e Event) {
	defer func() {
		if r := recover(); r != nil {
			l.logger.Error("event subscriber panicked; the event stays in the outbox", "event", e.ID, "type", e.Type, "panic", fmt.Sprint(r))
		}
	}()
	s(e)
}

// writeReq is one mutation on the write path. Every public write builds one
// and hands it to exec, which is the only code that opens write transactions.
type writeReq struct {
	// kind names the operation, for fingerprints and errors.
	kind string
	// route picks the request's lane: the customer, or the hold or grant
	// ID for requests that find their wallet by reading.
	route string
	// idemKey is the caller's idempotency key, if any.
	idemKey string
	// fingerprint identifies the request's content, to tell a replay from a
	// different request reusing the key.
	fingerprint string
	// wallets returns the wallets the request touches. It may read (Void and
	// Capture must find the grant's or hold's wallet first).
	wallets func(ctx context.Context, tx store.ReadTx) ([]WalletKey, error)
	// apply performs the request against the loaded wallets. It must check
	// everything before it changes anything, so that a failed request leaves
	// the write state as it found it.
	apply func(ctx context.Context, w *writeState) (any, error)
	// decode rebuilds the stored result of a replay.
	decode func(data []byte) (any, error)
	// choosesPlan marks a request that subscribes its customer to a plan
	// of its choice (StartSubscription, CreateCustomer with a plan): a
	// wallet it creates does not join the default plan first.
	choosesPlan bool
}

// fingerprint hashes the canonical JSON of a request description.
func fingerprint(kind string, v any) string {
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(append([]byte(kind+"\x00"), data...))
	return hex.EncodeToString(sum[:])
}

// decodeAs returns a decode function for results of type T.
func decodeAs[T any]() func([]byte) (any, error) {
	return func(data []byte) (any, error) {
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("decode stored idempotent result: %w", err)
		}
		return v, nil
	}
}

// staticWallets returns a wallets func for requests that know their wallets.
func staticWallets(keys ...WalletKey) func(context.Context, store.ReadTx) ([]WalletKey, error) {
	return func(context.Context, store.ReadTx) ([]WalletKey, error) { return keys, nil }
}

// sortWalletKeys returns keys sorted and without duplicates, the order in which
// wallets are locked so that transactions never deadlock.
func sortWalletKeys(keys []WalletKey) []WalletKey {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b WalletKey) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	return slices.Compact(out)
}
