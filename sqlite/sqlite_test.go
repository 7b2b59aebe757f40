package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
	"github.com/creditkit/creditkit/webhook"
)

func TestMain(m *testing.M) {
	storetest.RunChildIfAsked()
	os.Exit(m.Run())
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

func TestTwoProcessesNeverOverdraw(t *testing.T) {
	t.Parallel()
	storetest.MultiProcessSpends(t, "sqlite:"+filepath.Join(t.TempDir(), "shared.db"))
}

// The ledger is append-only at the database level too: even raw SQL cannot
// change or delete an entry.
func TestEntriesAreAppendOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "append.db")
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Entries: []*store.Entry{{ID: "ent_1", Customer: "a", Currency: "credits", Category: "x", Amount: 5, BalanceAfter: 5, Metadata: []byte("{}"), Allocations: []byte("[]")}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`UPDATE entries SET amount = 500`, `DELETE FROM entries`} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	var amount int64
	if err := db.QueryRow(`SELECT amount FROM entries WHERE id = 'ent_1'`).Scan(&amount); err != nil || amount != 5 {
		t.Fatalf("entry after refused writes: amount %d, err %v", amount, err)
	}
}

func TestOpenRejectsWhatIsNotADatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("this is not sqlite\n", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), junk, nil)
	if err == nil || !strings.Contains(err.Error(), "not a SQLite database") {
		t.Fatalf("open junk file: err = %v, want 'not a SQLite database'", err)
	}
	_, err = sqlite.Open(context.Background(), filepath.Join(dir, "missing-dir", "x.db"), nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("open in missing dir: err = %v", err)
	}
	if errors.Is(err, store.ErrRetry) {
		t.Fatal("a bad path is not retryable")
	}
}

// A path with URI syntax characters opens that very file.
func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run#1?x=%41")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at %s: %v", path, err)
	}
}

// Two ledgers on one file (two connections, as two processes would have)
// take turns on one wallet. Each keeps the wallets it wrote in memory; each
// must notice the other's commits and never write over them.
func TestWalletCacheSeesOtherWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() *creditkit.Ledger {
		s, err := sqlite.Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		l, err := creditkit.New(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := open(), open()
	if _, err := a.Grant(ctx, "amy", 100, nil); err != nil {
		t.Fatal(err)
	}
	want := creditkit.Amount(100)
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		e, err := l.Debit(ctx, "amy", 7, nil)
		if err != nil {
			t.Fatal(err)
		}
		want -= 7
		if e.BalanceAfter != want {
			t.Fatalf("debit %d: balance_after %d, want %d (a ledger wrote over the other's commit)", i, e.BalanceAfter, want)
		}
	}
	for _, l := range []*creditkit.Ledger{a, b} {
		bal, err := l.Balance(ctx, "amy", nil)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Available != want {
			t.Fatalf("balance %d, want %d", bal.Available, want)
		}
	}
}

func TestServerStore(t *testing.T) {
	storetest.RunServer(t, openStore)
}

// A database made before the server's tables existed gets them when opened,
// and the events it already held count as dispatched: no endpoint existed
// to deliver them to.
func TestMigrateAddsServerTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	init, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		string(init),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)`,
		`INSERT INTO events (id, type, customer, currency, data, at) VALUES ('evt_old', 'credits.granted', 'amy', 'credits', '{}', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("make an old database: %v", err)
		}
	}
	db.Close()

	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateWebhookEndpoint(ctx, &store.WebhookEndpoint{ID: "we_1", URL: "https://example.com", Secret: "whsec_x"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DispatchEvents(ctx, storetest.Epoch, 10, webhook.Fanout(storetest.Epoch, func() string { return "dlv_1" }))
	if err != nil || n != 0 {
		t.Fatalf("dispatched %d events (err %v) from before the migration, want 0", n, err)
	}
}
