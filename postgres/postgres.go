// Package postgres is a creditkit store on PostgreSQL (11 or later), through
// pgx. Several processes may share one database: wallet rows are locked with
// SELECT ... FOR UPDATE, migrations take an advisory lock.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/creditkit/creditkit/store"
)

// Defaults.
const (
	// DefaultMaxConns is the default of Options.MaxConns.
	DefaultMaxConns = 16
	// DefaultConnectTimeout bounds each connection attempt, unless the URL
	// sets connect_timeout.
	DefaultConnectTimeout = 5 * time.Second
	// minServerVersion is the oldest PostgreSQL major version the schema
	// runs on (CREATE TRIGGER ... EXECUTE FUNCTION).
	minServerVersion = 11
	// rollbackTimeout bounds a rollback after the caller's context ended.
	rollbackTimeout = 5 * time.Second
)

// Options configures a Store. The zero value, or nil, means defaults.
type Options struct {
	// MaxConns is the most connections the store keeps open. Defaults to
	// 16.
	MaxConns int
	// Logger receives the store's logs (migrations applied). Defaults to a
	// logger that discards everything.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with zero fields set to their defaults.
func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxConns <= 0 {
		out.MaxConns = DefaultMaxConns
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

// Store is a creditkit store on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	url    string // with any password redacted, for messages
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database at url (a postgres:// URL or a
// key=value connection string), checks that it answers, and applies the
// migrations it lacks. An unreachable server fails within the connect
// timeout (5 seconds unless the URL sets connect_timeout) with an error
// naming the URL, password redacted.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	safe := redact(url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL, password redacted.
		return nil, fmt.Errorf("postgres: invalid database URL: %w", err)
	}
	cfg.MaxConns = int32(min(o.MaxConns, 1<<30))
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "creditkit"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", safe, err)
	}
	s := &Store{pool: pool, logger: o.Logger, url: safe}
	// The pool connects lazily; connect now, so that a wrong URL fails here.
	// The connect timeout covers every attempt (each address, TLS then
	// plain text); the margin is for the version check.
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout+time.Second)
	err = s.checkServer(pingCtx)
	cancel()
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// checkServer connects once and checks the server's version.
func (s *Store) checkServer(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: cannot connect to %s (is a PostgreSQL server listening there, and does it accept these credentials?): %w", s.url, err)
	}
	defer conn.Release()
	// server_version reads like "15.8 (Debian 15.8-1.pgdg120+1)" or "9.6.24".
	version := conn.Conn().PgConn().ParameterStatus("server_version")
	major := 0
	for _, r := range version {
		if r < '0' || r > '9' || major > 1e6 {
			break
		}
		major = major*10 + int(r-'0')
	}
	if major < minServerVersion {
		return fmt.Errorf("postgres: %s runs PostgreSQL %q; creditkit needs %d or later", s.url, version, minServerVersion)
	}
	return nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Update runs fn in a READ COMMITTED transaction and commits it when fn
// returns nil. Wallet rows are serialized by LockWallets. The commit is
// durable when Update returns, with the server's default synchronous_commit
// (on). A lost race comes back wrapping store.ErrRetry; fn's own errors come
// back as they are.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.WriteTx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return translate("begin", err)
	}
	defer rollback(ctx, tx)
	if err := fn(ctx, &writeTx{readTx{tx}}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return translateCommit(err)
	}
	return nil
}

// translateCommit translates an error of COMMIT. An ERROR the server sent
// (a serialization failure, say) means the transaction was rolled back; any
// other failure (the connection broke, the server ended the session with a
// FATAL, the context ended while COMMIT was in flight) leaves the outcome
// unknown: the server may have committed before the answer was lost.
func translateCommit(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Severity == "ERROR" {
		return translate("commit", err)
	}
	return fmt.Errorf("postgres: commit: %w: %w", store.ErrOutcomeUnknown, err)
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: every read sees
// the same snapshot.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx store.ReadTx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return translate("begin", err)
	}
	defer rollback(ctx, tx)
	if err := fn(ctx, &readTx{tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return translate("commit", err)
	}
	return nil
}

// rollback ends tx if it is still open, even when ctx is done (a committed
// transaction makes it a no-op).
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// SQLSTATE codes the store translates.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUniqueViolation      = "23505"
	codeLockNotAvailable     = "55P03"
	// A NUL character (\u0000 in JSON) and bytes that are not UTF-8:
	// text PostgreSQL cannot store.
	codeUntranslatableCharacter  = "22P05"
	codeCharacterNotInRepertoire = "22021"
)

// idempotencyPKey is the name of the idempotency table's primary key.
const idempotencyPKey = "idempotency_pkey"

// translate is the one place where driver errors become store errors. op
// says what failed. Lost races wrap store.ErrRetry, a lock_timeout wraps
// store.ErrBusy, text PostgreSQL cannot store (a NUL, bytes that are not
// UTF-8) wraps store.ErrNotText, context errors pass through unchanged,
// and every other error is wrapped with op. The driver error stays reachable with
// errors.As.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeSerializationFailure, pgErr.Code == codeDeadlockDetected,
			pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == idempotencyPKey:
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrRetry, err)
		case pgErr.Code == codeLockNotAvailable:
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrBusy, err)
		case pgErr.Code == codeUntranslatableCharacter, pgErr.Code == codeCharacterNotInRepertoire:
			return fmt.Errorf("%w (postgres: %s: %w)", store.ErrNotText, op, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// kvPassword matches a password in a key=value connection string.
var kvPassword = regexp.MustCompile(`(password\s*=\s*)('(\\.|[^'])*'|\S*)`)

// redact hides the password in a connection URL or key=value string, for
// error messages and logs.
func redact(raw string) string {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return kvPassword.ReplaceAllString(raw, "${1}xxxxx")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Hide the whole user info of a URL we cannot parse.
		scheme, rest, _ := strings.Cut(raw, "://")
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			rest = "xxxxx" + rest[at:]
		}
		return scheme + "://" + rest
	}
	q := u.Query()
	for _, key := range []string{"password", "sslpassword"} {
		if q.Has(key) {
			q.Set(key, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// WriteLanes is 4: batches on different wallets commit in parallel, each on
// its own connection, leaving the rest of the pool to readers.
func (s *Store) WriteLanes() int { return 4 }
