// Package sqlite is the creditkit store on SQLite, through the pure-Go
// modernc.org/sqlite driver (no cgo). The database runs in WAL mode with
// synchronous=FULL, so a commit is durable when Update returns. All writes go
// through one connection that opens its transactions with BEGIN IMMEDIATE:
// writers queue instead of failing, in this process and across processes
// sharing the file.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/creditkit/creditkit/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure a Store. Nil means defaults.
type Options struct {
	// BusyTimeout is how long a write waits for another process holding the
	// database. Defaults to 10 seconds.
	BusyTimeout time.Duration
	// ReadConns is the number of read connections. Defaults to 4.
	ReadConns int
	// Logger receives diagnostics. Defaults to slog.Default().
	Logger *slog.Logger
}

// Store is a store.Store on one SQLite file.
type Store struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	logger *slog.Logger
	// wconn is the one write connection; writeMu makes its transactions
	// one at a time. Statements on it are prepared once (stmts), so the
	// write path never parses SQL again.
	wconn   *sql.Conn
	writeMu sync.Mutex
	stmts   map[string]*sql.Stmt
	// readers is a pool of read connections, each with its statements
	// prepared once.
	readers chan *readConn
	// dataVersion is PRAGMA data_version as the last write saw it.
	dataVersion int64
	haveVersion bool
	// lastWriter is the writer (a ledger) of the last write transaction
	// that asked UnchangedSinceLastWrite.
	lastWriter any
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// migrations. The parent directory must exist. A new database file is
// created readable by its owner only (0600), since it holds the customer
// token signing key and webhook secrets; SQLite gives its -wal and -shm
// files the same mode.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	readConns := opts.ReadConns
	if readConns <= 0 {
		readConns = 4
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path: give a file such as sqlite:creditkit.db")
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("sqlite: cannot create database %s: directory %s does not exist", path, dir)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	dsn := func(txlock string) string {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
		q.Add("_pragma", "foreign_keys(1)")
		if txlock != "" {
			q.Set("_txlock", txlock)
		}
		// Escape what a file: URI would read as syntax, so a path with
		// "#" or "?" in it opens that very file.
		escaped := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
		return "file:" + escaped + "?" + q.Encode()
	}
	writer, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	reader, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(readConns)
	reader.SetMaxIdleConns(readConns)
	wconn, err := writer.Conn(ctx)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, (&Store{path: path}).translate("connect", err)
	}
	s := &Store{path: path, writer: writer, reader: reader, logger: logger, wconn: wconn, stmts: map[string]*sql.Stmt{},
		readers: make(chan *readConn, readConns)}
	for range readConns {
		c, err := reader.Conn(ctx)
		if err != nil {
			s.Close()
			return nil, s.translate("connect", err)
		}
		s.readers <- &readConn{conn: c, stmts: map[string]*sql.Stmt{}}
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	var errs []error
	for {
		select {
		case rc := <-s.readers:
			for _, st := range rc.stmts {
				st.Close()
			}
			errs = append(errs, rc.conn.Close())
			continue
		default:
		}
		break
	}
	return errors.Join(append(errs, s.wconn.Close(), s.writer.Close(), s.reader.Close())...)
}

// readConn is one read connection and its prepared statements.
type readConn struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// Migrate applies the embedded migrations that have not run yet, in order.
// Migrations are forward-only and numbered like PostgreSQL's.
func (s *Store) Migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: list migrations: %w", err)
	}
	sort.Strings(names)
	return s.Update(ctx, func(ctx context.Context, wtx store.WriteTx) error {
		tx := wtx.(*txn).q
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			return s.translate("create schema_migrations", err)
		}
		for _, name := range names {
			version, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
			if err != nil {
				return fmt.Errorf("sqlite: migration %s: name must start with a number: %w", name, err)
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return s.translate("read schema_migrations", err)
			}
			if n > 0 {
				continue
			}
			body, err := migrationFS.ReadFile(name)
			if err != nil {
				return fmt.Errorf("sqlite: read migration %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return s.translate("apply migration "+name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixMicro()); err != nil {
				return s.translate("record migration "+name, err)
			}
			s.logger.Debug("applied migration", "store", "sqlite", "migration", name)
		}
		return nil
	})
}

// Update runs fn in a write transaction (BEGIN IMMEDIATE) on the write
// connection and commits it. The transaction is driven with plain BEGIN and
// COMMIT statements so that the connection's prepared statements run inside
// it as they are, never prepared again.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.WriteTx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.translate("begin write transaction", err)
	}
	rollback := func() {
		// Rollback must run even when ctx is done.
		if _, err := s.wconn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			s.logger.Warn("rollback failed", "store", "sqlite", "err", err)
		}
	}
	if err := fn(ctx, &txn{q: s.wconn, s: s}); err != nil {
		rollback()
		return err
	}
	if _, err := s.wconn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		rollback()
		return s.translate("commit", err)
	}
	return nil
}

// View runs fn in a read transaction on one of the read connections, which
// sees one snapshot of the database (WAL), driven with plain BEGIN and
// COMMIT so the connection's prepared statements run inside it.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx store.ReadTx) error) error {
	var rc *readConn
	select {
	case rc = <-s.readers:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.readers <- rc }()
	if _, err := rc.conn.ExecContext(ctx, "BEGIN"); err != nil {
		return s.translate("begin read transaction", err)
	}
	defer func() {
		if _, err := rc.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
			s.logger.Warn("end read transaction", "store", "sqlite", "err", err)
		}
	}()
	return fn(ctx, &txn{q: rc.conn, s: s, rc: rc})
}

// translate turns a driver error into a store error. It is the one place
// that knows SQLite's error codes.
func (s *Store) translate(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3lib.SQLITE_BUSY, sqlite3lib.SQLITE_LOCKED:
			return fmt.Errorf("sqlite %s: %s: %w (%w)", s.path, what, store.ErrBusy, err)
		case sqlite3lib.SQLITE_NOTADB:
			return fmt.Errorf("sqlite: %s is not a SQLite database: %w", s.path, err)
		}
	}
	return fmt.Errorf("sqlite %s: %s: %w", s.path, what, err)
}

// txn is a read or write transaction.
type txn struct {
	q  querier
	s  *Store
	rc *readConn // set on a read connection, whose statements it caches
}

// querier is what runs SQL: a read transaction, or the write connection
// inside its BEGIN ... COMMIT.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// stmt returns query prepared once for the life of its connection: the
// write connection (writeMu is held) or this read connection (held by this
// transaction alone).
func (t *txn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	cache := t.s.stmts
	if t.rc != nil {
		cache = t.rc.stmts
	}
	st, ok := cache[query]
	if !ok {
		var err error
		if st, err = t.q.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		cache[query] = st
	}
	return st, nil
}

var _ store.WriteTx = (*txn)(nil)

func micros(t time.Time) int64 { return t.UnixMicro() }

func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// placeholders returns "(?,?),(?,?)" style groups: n groups of width marks.
func placeholders(n, width int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(group+",", n), ",")
}

// WriteLanes is 1: SQLite has a single writer, so one batch commits at a time.
func (s *Store) WriteLanes() int { return 1 }

// UnchangedSinceLastWrite compares SQLite's data_version, which changes
// when another connection (in this process or another) commits, with the
// value seen by the previous write transaction, and writer with the writer
// of that transaction: data_version does not change for commits on the
// same connection, so two ledgers over this one store must tell each
// other apart. Write transactions are serialized (one writer connection),
// so the fields need no lock of their own.
func (s *Store) UnchangedSinceLastWrite(ctx context.Context, wtx store.WriteTx, writer any) (bool, error) {
	var v int64
	if err := wtx.(*txn).q.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return false, s.translate("read data_version", err)
	}
	unchanged := s.haveVersion && v == s.dataVersion && s.lastWriter == writer
	s.dataVersion, s.haveVersion, s.lastWriter = v, true, writer
	return unchanged, nil
}

// createPrivate creates the database file at path with mode 0600 when it
// does not exist yet, so that SQLite opens it instead of creating it with
// the process umask's mode (0644 by default). An existing file is left
// as it is.
func createPrivate(path string) error {
	if path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case errors.Is(err, fs.ErrExist):
		return nil
	default:
		return fmt.Errorf("sqlite: create database %s: %w", path, err)
	}
}
