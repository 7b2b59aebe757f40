package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/internal/testnet"
	"github.com/creditkit/creditkit/store"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

// t0 is a time with microseconds, the precision the store keeps.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

// setup opens a store on a fresh database.
func setup(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.NewDatabaseURL(t, cluster), &Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// apply writes c in its own transaction.
func apply(t *testing.T, s *Store, c *store.Changes) {
	t.Helper()
	if err := s.Update(t.Context(), func(ctx context.Context, tx store.WriteTx) error { return tx.Apply(ctx, c) }); err != nil {
		t.Fatal(err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s *Store, fn func(ctx context.Context, tx store.ReadTx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// exec runs raw SQL outside the store's transactions.
func exec(t *testing.T, s *Store, sql string, args ...any) error {
	t.Helper()
	_, err := s.pool.Exec(t.Context(), sql, args...)
	return err
}

func ptr[T any](v T) *T { return &v }

func key(customer, currency string) store.WalletKey {
	return store.WalletKey{Customer: customer, Currency: currency}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.NewDatabaseURL(t, cluster)

	// Three processes start at once on an empty database: one migrates, the
	// others wait for it and find nothing to do.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	stores := make([]*Store, 3)
	for i := range 3 {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, url, &Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}

	s := stores[0]
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := s.pool.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migrations) || versions[0] != 1 {
		t.Errorf("schema_migrations holds %v, want each of the %d migrations once, from 1", versions, len(migrations))
	}
	var appliedAt int64
	if err := s.pool.QueryRow(ctx, "SELECT applied_at FROM schema_migrations WHERE version = 1").Scan(&appliedAt); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(time.UnixMicro(appliedAt)); d < 0 || d > time.Hour {
		t.Errorf("applied_at = %d is not microseconds since the epoch of now", appliedAt)
	}
}

// TestSchema checks the schema against SQLite's: every table and column of
// sqlite/migrations exists, with the same nullability.
func TestSchema(t *testing.T) {
	t.Parallel()
	s := setup(t)
	files, err := filepath.Glob("../sqlite/migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Skipf("no SQLite schema to compare with: %v", err)
	}
	var sqliteSchema strings.Builder
	for _, f := range files { // Glob sorts: in migration order
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sqliteSchema.Write(data)
	}
	want := parseColumns(t, sqliteSchema.String())

	got := map[string]bool{}
	rows, _ := s.pool.Query(t.Context(), `SELECT table_name || '.' || column_name, is_nullable = 'YES' FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'`)
	var name string
	var nullable bool
	if _, err := pgx.ForEachRow(rows, []any{&name, &nullable}, func() error { got[name] = nullable; return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns (name: nullable) differ from SQLite's\n got: %v\nwant: %v", got, want)
	}
}

// parseColumns reads "table.column: nullable" from CREATE TABLE statements
// and ALTER TABLE ... ADD COLUMN.
func parseColumns(t *testing.T, schema string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	nullable := func(def string) bool {
		return !strings.Contains(def, "NOT NULL") && !strings.Contains(def, "PRIMARY KEY")
	}
	var table string
	for line := range strings.Lines(schema) {
		line, _, _ = strings.Cut(line, "--")
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "CREATE TABLE "):
			table = f[2]
		case strings.HasPrefix(line, "ALTER TABLE ") && len(f) > 5 && f[3] == "ADD" && f[4] == "COLUMN":
			out[f[2]+"."+f[5]] = nullable(line)
		case table != "" && strings.HasPrefix(line, ")"):
			table = ""
		case table != "" && !slices.Contains([]string{"PRIMARY", "UNIQUE", "CONSTRAINT", "CHECK", "FOREIGN"}, f[0]):
			out[table+"."+f[0]] = nullable(line)
		}
	}
	if len(out) < 10 {
		t.Fatalf("could not read the SQLite schema's columns: %v", out)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)

	wallets := []*store.Wallet{
		{Customer: "alice", Currency: "credits", LedgerBalance: 1500, LowNotified: true, CreatedAt: t0},
		{Customer: "bob", Currency: "credits", LedgerBalance: -7, LowNotified: false, CreatedAt: t0},
	}
	grants := []*store.Grant{
		{ID: "g1", Customer: "alice", Currency: "credits", Amount: 1000, Remaining: 400, Reason: "welcome", Source: "bonus",
			Priority: 10, CreatedAt: t0, EffectiveAt: t1, ExpiresAt: &t2, VoidedAt: &t3, ExpiredAt: &t1,
			CostBasis: []byte(`{"per_credit":"0.01","currency":"USD"}`), Metadata: []byte(`{"campaign":"spring","n":"1"}`)},
		{ID: "g2", Customer: "alice", Currency: "credits", Amount: 5, Remaining: 5, Reason: "", Source: "pack",
			Priority: -3, CreatedAt: t0, EffectiveAt: t0, Metadata: []byte(`{}`)},
	}
	entries := []*store.Entry{
		{ID: "e1", Customer: "alice", Currency: "credits", Type: "grant", Category: "grant", Description: "welcome", Amount: 1000,
			BalanceAfter: 1000, AvailableAfter: ptr(int64(1000)), Details: []byte(`{"grant_id":"g1"}`), Metadata: []byte(`{"job":"j1"}`),
			Allocations: []byte(`[{"grant_id":"g1","amount":1000}]`), Actor: "admin", IdempotencyKey: "k1", At: t0, OccurredAt: t0, RecordedAt: t1},
		{ID: "e2", Customer: "alice", Currency: "credits", Type: "charge", Category: "spend", Amount: -600, BalanceAfter: 400,
			Operation: "send_email", Details: []byte(`{}`), Metadata: []byte(`{}`), Allocations: []byte(`[]`), At: t1, OccurredAt: t0, RecordedAt: t1},
	}
	holds := []*store.Hold{
		{ID: "h1", Customer: "alice", Currency: "credits", Operation: "generate_video", Params: []byte(`{"seconds":12}`),
			Amount: 220, Captured: 100, Status: "captured", CreatedAt: t0, ExpiresAt: t2, ResolvedAt: &t1,
			Allocations: []byte(`[{"grant_id":"g1","amount":220}]`), Metadata: []byte(`{"job":"j1"}`), EntryID: "e2"},
		{ID: "h2", Customer: "alice", Currency: "credits", Amount: 1, Status: "active", CreatedAt: t0, ExpiresAt: t2,
			Allocations: []byte(`[]`)},
	}
	idems := []*store.Idempotency{{Key: "k1", Fingerprint: "sha256:abc", Result: []byte(`{"entry_id":"e1","balance":1000}`), CreatedAt: t0}}
	events := []*store.Event{
		{ID: "ev1", Type: "grant.created", Customer: "alice", Currency: "credits", Data: []byte(`{"grant_id":"g1"}`), At: t0},
		{ID: "ev2", Type: "balance.low", Customer: "alice", Currency: "credits", Data: []byte(`{"balance":400}`), At: t1},
	}

	if err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		if _, err := tx.LockWallets(ctx, []store.WalletKey{key("alice", "credits"), key("bob", "credits")}, t0); err != nil {
			return err
		}
		return tx.Apply(ctx, &store.Changes{Wallets: wallets, NewGrants: grants, Entries: entries, NewHolds: holds,
			Idempotencies: idems, Events: events})
	}); err != nil {
		t.Fatal(err)
	}

	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		for _, want := range wallets {
			got, err := tx.Wallet(ctx, key(want.Customer, want.Currency))
			check(t, "wallet", got, want, err)
		}
		for _, want := range grants {
			got, err := tx.Grant(ctx, want.ID)
			check(t, "grant", got, want, err)
		}
		for i, want := range entries {
			got, err := tx.Entry(ctx, want.ID)
			if got != nil && got.Seq <= 0 {
				t.Errorf("entry %s has no seq", want.ID)
			}
			w := *want
			if got != nil {
				w.Seq = got.Seq
				if i > 0 {
					if prev, _ := tx.Entry(ctx, entries[i-1].ID); prev == nil || prev.Seq >= got.Seq {
						t.Errorf("entry seqs do not follow the order of the list")
					}
				}
			}
			check(t, "entry", got, &w, err)
		}
		for _, want := range holds {
			got, err := tx.Hold(ctx, want.ID)
			check(t, "hold", got, want, err)
		}
		got, err := tx.Idempotency(ctx, "k1")
		check(t, "idempotency", got, idems[0], err)

		evs, err := tx.Events(ctx, 0, 0)
		if err != nil || len(evs) != 2 || evs[0].Seq >= evs[1].Seq {
			t.Fatalf("Events = %v, %v; want 2 events in seq order", evs, err)
		}
		for i, want := range events {
			w := *want
			w.Seq = evs[i].Seq
			check(t, "event", evs[i], &w, nil)
		}
		return nil
	})

	// JSON is stored as JSON values, not as strings or bytes holding JSON.
	var kinds string
	if err := s.pool.QueryRow(ctx, `SELECT jsonb_typeof(metadata) || jsonb_typeof(cost_basis) FROM grants WHERE id = 'g1'`).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	if kinds != "objectobject" {
		t.Errorf("grant JSON columns hold %s, want object and object", kinds)
	}
	// Times are microseconds since the epoch.
	var at int64
	if err := s.pool.QueryRow(ctx, `SELECT at FROM entries WHERE id = 'e1'`).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if at != t0.UnixMicro() {
		t.Errorf("at = %d, want %d", at, t0.UnixMicro())
	}
}

// TestNilJSON checks what empty JSON becomes: the column's default where it
// has one, NULL (nil) where it is nullable.
func TestNilJSON(t *testing.T) {
	t.Parallel()
	s := setup(t)
	apply(t, s, &store.Changes{
		NewGrants: []*store.Grant{{ID: "g", Customer: "c", Currency: "x", Amount: 1, Remaining: 1, CreatedAt: t0, EffectiveAt: t0}},
		Entries:   []*store.Entry{{ID: "e", Customer: "c", Currency: "x", Category: "grant", Amount: 1, BalanceAfter: 1, At: t0, RecordedAt: t0}},
		NewHolds:  []*store.Hold{{ID: "h", Customer: "c", Currency: "x", Amount: 1, Status: "active", CreatedAt: t0, ExpiresAt: t0}},
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		g, err := tx.Grant(ctx, "g")
		if err != nil || g.CostBasis != nil || string(g.Metadata) != "{}" {
			t.Errorf("grant cost basis %q, metadata %q, %v; want nil and {}", g.CostBasis, g.Metadata, err)
		}
		e, err := tx.Entry(ctx, "e")
		if err != nil || string(e.Metadata) != "{}" || string(e.Allocations) != "[]" {
			t.Errorf("entry metadata %q, allocations %q, %v; want {} and []", e.Metadata, e.Allocations, err)
		}
		h, err := tx.Hold(ctx, "h")
		if err != nil || h.Params != nil || h.Metadata != nil || string(h.Allocations) != "[]" {
			t.Errorf("hold params %q, metadata %q, allocations %q, %v; want nil, nil, []", h.Params, h.Metadata, h.Allocations, err)
		}
		return nil
	})
}

// check compares a row read back with the one written, field by field; JSON
// fields compare as JSON values (jsonb normalizes spacing and key order).
func check[T any](t *testing.T, what string, got, want *T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("read %s: %v", what, err)
		return
	}
	if got == nil {
		t.Errorf("read %s: missing", what)
		return
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gb, ok := g.([]byte); ok {
			if !sameJSON(gb, w.([]byte)) {
				t.Errorf("%s %s = %s, want %s", what, name, gb, w)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s %s = %v, want %v", what, name, show(g), show(w))
		}
	}
}

func show(v any) any {
	if p, ok := v.(*time.Time); ok && p != nil {
		return "&" + p.String()
	}
	return v
}

func sameJSON(a, b []byte) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func TestReads(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

	grant := func(id, customer, currency string, remaining int64, expires *time.Time) *store.Grant {
		return &store.Grant{ID: id, Customer: customer, Currency: currency, Amount: 10, Remaining: remaining, Source: "bonus",
			CreatedAt: t0, EffectiveAt: t0, ExpiresAt: expires, Metadata: []byte(`{}`)}
	}
	voided, expired := grant("g-voided", "a", "x", 5, nil), grant("g-expired", "a", "x", 5, ptr(at(1)))
	voided.VoidedAt, expired.ExpiredAt = ptr(at(1)), ptr(at(1))
	hold := func(id, customer, status string, created, expires int, resolved *time.Time) *store.Hold {
		return &store.Hold{ID: id, Customer: customer, Currency: "x", Amount: 5, Status: status, CreatedAt: at(created),
			ExpiresAt: at(expires), ResolvedAt: resolved, Allocations: []byte(`[]`)}
	}
	entry := func(id, currency, category, op string, amount int64, h int) *store.Entry {
		return &store.Entry{ID: id, Customer: "a", Currency: currency, Category: category, Operation: op, Amount: amount,
			At: at(h), RecordedAt: at(h)}
	}
	apply(t, s, &store.Changes{
		NewGrants: []*store.Grant{
			grant("g1", "a", "x", 5, ptr(at(3))), grant("g2", "a", "x", 0, ptr(at(1))), voided, expired,
			grant("g3", "a", "y", 10, nil), grant("g4", "b", "x", 1, ptr(at(2))), grant("g5", "c", "x", 1, ptr(at(1))),
		},
		NewHolds: []*store.Hold{
			hold("h1", "a", "active", 0, 5, nil), hold("h2", "a", "released", 1, 5, ptr(at(2))),
			hold("h3", "a", "active", 4, 6, nil), hold("h4", "b", "active", 0, 1, nil),
		},
		Entries: []*store.Entry{
			entry("e1", "x", "grant", "", 100, 0), entry("e2", "x", "spend", "send_email", -10, 1),
			entry("e3", "y", "grant", "", 50, 2), entry("e4", "x", "spend", "process_image", -20, 3),
			entry("e5", "x", "spend", "send_email", -1, 4),
		},
		Events: []*store.Event{
			{ID: "v1", Type: "t", Customer: "a", Currency: "x", Data: []byte(`{}`), At: t0},
			{ID: "v2", Type: "t", Customer: "a", Currency: "x", Data: []byte(`{}`), At: t0},
			{ID: "v3", Type: "t", Customer: "a", Currency: "x", Data: []byte(`{}`), At: t0},
		},
	})
	if err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		_, err := tx.LockWallets(ctx, []store.WalletKey{key("a", "x"), key("a", "y"), key("b", "x"), key("B", "x"), key("c", "x")}, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	ids := func(rows any) string {
		var out []string
		v := reflect.ValueOf(rows)
		for i := range v.Len() {
			out = append(out, fmt.Sprint(v.Index(i).Elem().FieldByName("ID").Interface()))
		}
		return strings.Join(out, ",")
	}
	expect := func(what, got, want string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		} else if got != want {
			t.Errorf("%s = [%s], want [%s]", what, got, want)
		}
	}

	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		g, err := tx.LiveGrants(ctx, []store.WalletKey{key("a", "x"), key("b", "x"), key("a", "x"), key("z", "x")})
		expect("LiveGrants", ids(g), "g1,g4", err)
		g, err = tx.LiveGrants(ctx, nil)
		expect("LiveGrants(nil)", ids(g), "", err)

		h, err := tx.ActiveHolds(ctx, []store.WalletKey{key("a", "x"), key("b", "x")})
		expect("ActiveHolds", ids(h), "h1,h3,h4", err)

		g, err = tx.Grants(ctx, store.GrantQuery{Customer: "a"})
		expect("Grants", ids(g), "g-expired,g-voided,g1,g2,g3", err)
		g, err = tx.Grants(ctx, store.GrantQuery{Customer: "a", Currency: "x", After: "g-voided", Limit: 1})
		expect("Grants after, limit", ids(g), "g1", err)

		h, err = tx.HoldsAt(ctx, key("a", "x"), at(1))
		expect("HoldsAt(1)", ids(h), "h1,h2", err) // h2 resolves at 2: still reserved at 1
		h, err = tx.HoldsAt(ctx, key("a", "x"), at(2))
		expect("HoldsAt(2)", ids(h), "h1", err)
		h, err = tx.HoldsAt(ctx, key("a", "x"), at(5))
		expect("HoldsAt(5)", ids(h), "h3", err) // h1 expires at 5: no longer reserved

		e, err := tx.Entries(ctx, store.EntryQuery{Customer: "a"})
		expect("Entries", ids(e), "e1,e2,e3,e4,e5", err)
		e, err = tx.Entries(ctx, store.EntryQuery{Customer: "a", Desc: true, Limit: 2})
		expect("Entries desc", ids(e), "e5,e4", err)
		if len(e) == 2 {
			e, err = tx.Entries(ctx, store.EntryQuery{Customer: "a", Desc: true, AfterSeq: e[1].Seq})
			expect("Entries desc after", ids(e), "e3,e2,e1", err)
		}
		e, err = tx.Entries(ctx, store.EntryQuery{Customer: "a", Currency: "x", Category: "spend", Operation: "send_email"})
		expect("Entries filtered", ids(e), "e2,e5", err)
		e, err = tx.Entries(ctx, store.EntryQuery{Customer: "a", Since: at(1), Until: at(4)})
		expect("Entries since, until", ids(e), "e2,e3,e4", err)
		first, _ := tx.Entry(ctx, "e2")
		e, err = tx.Entries(ctx, store.EntryQuery{Customer: "a", AfterSeq: first.Seq, Limit: 2})
		expect("Entries after", ids(e), "e3,e4", err)

		for _, c := range []struct {
			h    int
			want int64
		}{{-1, 0}, {0, 100}, {1, 90}, {3, 70}, {10, 69}} {
			sum, err := tx.SumEntries(ctx, key("a", "x"), at(c.h))
			if err != nil || sum != c.want {
				t.Errorf("SumEntries(%d) = %d, %v; want %d", c.h, sum, err, c.want)
			}
		}

		g, err = tx.DueGrants(ctx, at(2), 0)
		expect("DueGrants", ids(g), "g5,g4", err) // by expiry; g2 is empty, g-expired has its expiration
		g, err = tx.DueGrants(ctx, at(2), 1)
		expect("DueGrants limit", ids(g), "g5", err)
		h, err = tx.DueHolds(ctx, at(5), 10)
		expect("DueHolds", ids(h), "h4,h1", err)

		evs, err := tx.Events(ctx, 0, 2)
		if err != nil || len(evs) != 2 || evs[0].ID != "v1" {
			t.Fatalf("Events(0, 2) = %v, %v", evs, err)
		}
		evs, err = tx.Events(ctx, evs[1].Seq, 10)
		if err != nil || len(evs) != 1 || evs[0].ID != "v3" {
			t.Errorf("Events(after second) = %v, %v; want v3", evs, err)
		}

		var walletKeys []string
		for after := (store.WalletKey{}); ; {
			ws, err := tx.Wallets(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) == 0 {
				break
			}
			for _, w := range ws {
				walletKeys = append(walletKeys, w.Customer+"/"+w.Currency)
			}
			after = key(ws[len(ws)-1].Customer, ws[len(ws)-1].Currency)
		}
		// Byte order, as in store.WalletKey.Less: upper case first.
		if got := strings.Join(walletKeys, ","); got != "B/x,a/x,a/y,b/x,c/x" {
			t.Errorf("Wallets pages = %s, want B/x,a/x,a/y,b/x,c/x", got)
		}

		// Missing rows are nil, not errors.
		w, err1 := tx.Wallet(ctx, key("nobody", "x"))
		gr, err2 := tx.Grant(ctx, "nope")
		ho, err3 := tx.Hold(ctx, "nope")
		en, err4 := tx.Entry(ctx, "nope")
		id, err5 := tx.Idempotency(ctx, "nope")
		if w != nil || gr != nil || ho != nil || en != nil || id != nil || errors.Join(err1, err2, err3, err4, err5) != nil {
			t.Errorf("missing rows: %v %v %v %v %v, %v", w, gr, ho, en, id, errors.Join(err1, err2, err3, err4, err5))
		}
		return nil
	})
}

// TestIndexes checks that the hot reads can use their partial indexes: with
// sequential scans priced out, the plan names the index.
func TestIndexes(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	// The arguments are SQL literals for EXPLAIN EXECUTE.
	tests := []struct {
		index, sql, args string
	}{
		{"grants_live", liveGrantsQuery, `'{c1,c2}', '{credits}'`},
		{"grants_live", oneWalletGrantsQuery, `'c1', 'credits'`},
		{"holds_active", activeHoldsQuery, `'{c1,c2}', '{credits}'`},
		{"holds_active", oneWalletHoldsQuery, `'c1', 'credits'`},
		{"grants_due", dueGrantsQuery, `5, 10`},
		{"holds_due", dueHoldsQuery, `5, 10`},
		{"entries_wallet_at", sumEntriesQuery, `'c1', 'credits', 5`},
		{"events_undispatched", undispatchedQuery, `10`},
		{"webhook_deliveries_due", claimQuery, `5, 10, 10, '{we_1}'`},
		{"grants_due", expiringQuery, `5, 10, 10`},
	}
	// undispatchedQuery reads its partial index from the start, without a
	// condition on its column.
	wholeIndex := map[string]bool{undispatchedQuery: true}
	// Plans are chosen on statistics: give the tables a realistic shape
	// (1,000 customers with a live grant and an active hold each, and as
	// many spent grants and resolved holds) and analyze them.
	for _, q := range []string{
		`INSERT INTO grants (id, customer, currency, amount, remaining, reason, source, priority, created_at, effective_at, metadata)
		 SELECT 'g' || i, 'c' || (i % 1000), 'credits', 10, CASE WHEN i < 1000 THEN 10 ELSE 0 END, 'x', 'bonus', 10, 0, 0, '{}'
		 FROM generate_series(0, 1999) AS i`,
		`INSERT INTO holds (id, customer, currency, amount, status, created_at, expires_at, allocations)
		 SELECT 'h' || i, 'c' || (i % 1000), 'credits', 1, CASE WHEN i < 1000 THEN 'active' ELSE 'released' END, 0, 1000 + i, '[]'
		 FROM generate_series(0, 1999) AS i`,
		// 2,000 events, the last 10 not dispatched, and as many deliveries,
		// the last 10 pending.
		`INSERT INTO events (id, type, customer, currency, data, at, dispatched_at)
		 SELECT 'e' || i, 'credits.spent', 'c' || (i % 1000), 'credits', '{}', i, CASE WHEN i < 1990 THEN i END
		 FROM generate_series(0, 1999) AS i`,
		`INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES ('we', 'https://example.com', 'whsec_x', 0)`,
		`INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, next_attempt_at, created_at)
		 SELECT 'd' || i, 'we', 'e' || i, CASE WHEN i < 1990 THEN 'succeeded' ELSE 'pending' END, i, i
		 FROM generate_series(0, 1999) AS i`,
		`ANALYZE grants`, `ANALYZE holds`, `ANALYZE events`, `ANALYZE webhook_deliveries`,
	} {
		if err := exec(t, s, q); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// pgx caches prepared statements, and after a few runs PostgreSQL plans
	// them generically, without the parameters' values: that plan serves
	// production traffic, so that is the one checked. It must probe the
	// index with the wallet, not read the whole index.
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "RESET plan_cache_mode")
	for i, tt := range tests {
		name := fmt.Sprintf("plan_check_%d", i)
		if _, err := conn.Exec(ctx, "PREPARE "+name+" AS "+tt.sql); err != nil {
			t.Fatal(err)
		}
		rows, _ := conn.Query(ctx, "EXPLAIN EXECUTE "+name+"("+tt.args+")", pgx.QueryExecModeSimpleProtocol)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, " "+tt.index+" ") || !wholeIndex[tt.sql] && !strings.Contains(plan, "Index Cond") {
			t.Errorf("the generic plan of %s does not probe %s:\n%s", tt.sql, tt.index, plan)
		}
	}
}

func TestLockWallets(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()

	// Rows come back in the order asked, created with now when missing.
	var got []*store.Wallet
	if err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		var err error
		got, err = tx.LockWallets(ctx, []store.WalletKey{key("b", "x"), key("a", "y"), key("a", "x")}, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Customer != "b" || got[1].Currency != "y" || got[2].Currency != "x" || !got[0].CreatedAt.Equal(t0) {
		t.Fatalf("LockWallets = %+v, want b/x, a/y, a/x created at %v", got, t0)
	}
	// An existing wallet keeps its creation time.
	if err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		ws, err := tx.LockWallets(ctx, []store.WalletKey{key("a", "x")}, t0.Add(time.Hour))
		if err == nil && !ws[0].CreatedAt.Equal(t0) {
			t.Errorf("created_at moved to %v", ws[0].CreatedAt)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var empty []*store.Wallet
	if err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) (err error) {
		empty, err = tx.LockWallets(ctx, nil, t0)
		return err
	}); err != nil || len(empty) != 0 {
		t.Errorf("LockWallets(nil) = %v, %v", empty, err)
	}
}

// TestLockWalletsSerializes has two writers increment one wallet's balance
// by read-modify-write, 200 times each: no increment may be lost.
func TestLockWalletsSerializes(t *testing.T) {
	t.Parallel()
	s := setup(t)
	const perWriter = 200
	k := key("shared", "credits")
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for range perWriter {
				err := s.Update(t.Context(), func(ctx context.Context, tx store.WriteTx) error {
					ws, err := tx.LockWallets(ctx, []store.WalletKey{k}, t0)
					if err != nil {
						return err
					}
					w := *ws[0]
					w.LedgerBalance++
					return tx.Apply(ctx, &store.Changes{Wallets: []*store.Wallet{&w}})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		w, err := tx.Wallet(ctx, k)
		if err != nil || w.LedgerBalance != 2*perWriter {
			t.Errorf("balance = %v, %v; want %d", w, err, 2*perWriter)
		}
		return nil
	})
}

func TestAppendOnly(t *testing.T) {
	t.Parallel()
	s := setup(t)
	apply(t, s, &store.Changes{Entries: []*store.Entry{{ID: "e1", Customer: "a", Currency: "x", Category: "grant", Amount: 5,
		BalanceAfter: 5, At: t0, RecordedAt: t0}}})
	for _, sql := range []string{
		"UPDATE entries SET amount = 6",
		"DELETE FROM entries",
		"TRUNCATE entries",
	} {
		err := exec(t, s, sql)
		if err == nil || !strings.Contains(err.Error(), "ledger entries are append-only") {
			t.Errorf("%s: err = %v, want ledger entries are append-only", sql, err)
		}
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		if e, err := tx.Entry(ctx, "e1"); err != nil || e.Amount != 5 {
			t.Errorf("entry after the attempts: %+v, %v", e, err)
		}
		return nil
	})
}

func TestApply(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	k := key("a", "x")
	if err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		_, err := tx.LockWallets(ctx, []store.WalletKey{k}, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, &store.Changes{
		NewGrants: []*store.Grant{{ID: "g", Customer: "a", Currency: "x", Amount: 10, Remaining: 10, CreatedAt: t0, EffectiveAt: t0}},
		NewHolds:  []*store.Hold{{ID: "h", Customer: "a", Currency: "x", Amount: 5, Status: "active", CreatedAt: t0, ExpiresAt: t0}},
	})

	t.Run("empty", func(t *testing.T) {
		apply(t, s, &store.Changes{})
		apply(t, s, nil)
	})

	// Several requests batched in one transaction may save the same row
	// twice: the last version wins.
	t.Run("last version wins", func(t *testing.T) {
		apply(t, s, &store.Changes{
			Wallets:      []*store.Wallet{{Customer: "a", Currency: "x", LedgerBalance: 1}, {Customer: "a", Currency: "x", LedgerBalance: 2, LowNotified: true}},
			GrantUpdates: []*store.GrantUpdate{{ID: "g", Remaining: 7}, {ID: "g", Remaining: 3, VoidedAt: &t0}},
			HoldUpdates: []*store.HoldUpdate{{ID: "h", Status: "captured", Captured: 1, ResolvedAt: &t0, EntryID: "e1"},
				{ID: "h", Status: "released", Captured: 0, ResolvedAt: &t0}},
		})
		view(t, s, func(ctx context.Context, tx store.ReadTx) error {
			w, _ := tx.Wallet(ctx, k)
			g, _ := tx.Grant(ctx, "g")
			h, _ := tx.Hold(ctx, "h")
			if w.LedgerBalance != 2 || !w.LowNotified || !w.CreatedAt.Equal(t0) {
				t.Errorf("wallet = %+v", w)
			}
			if g.Remaining != 3 || g.VoidedAt == nil || !g.VoidedAt.Equal(t0) || g.ExpiredAt != nil {
				t.Errorf("grant = %+v", g)
			}
			if h.Status != "released" || h.Captured != 0 || h.EntryID != "" || h.ResolvedAt == nil {
				t.Errorf("hold = %+v", h)
			}
			return nil
		})
		// Clearing a time sets it back to NULL.
		apply(t, s, &store.Changes{GrantUpdates: []*store.GrantUpdate{{ID: "g", Remaining: 3}}})
		view(t, s, func(ctx context.Context, tx store.ReadTx) error {
			if g, _ := tx.Grant(ctx, "g"); g.VoidedAt != nil {
				t.Errorf("voided_at = %v, want nil", g.VoidedAt)
			}
			return nil
		})
	})

	// Arrays, not one parameter per value: no limit of 65535 parameters.
	t.Run("many rows", func(t *testing.T) {
		const n = 5000
		c := &store.Changes{}
		for i := range n {
			c.Entries = append(c.Entries, &store.Entry{ID: fmt.Sprintf("many-%05d", i), Customer: "many", Currency: "x",
				Category: "grant", Amount: 1, BalanceAfter: int64(i + 1), At: t0, RecordedAt: t0})
		}
		apply(t, s, c)
		view(t, s, func(ctx context.Context, tx store.ReadTx) error {
			es, err := tx.Entries(ctx, store.EntryQuery{Customer: "many"})
			if err != nil || len(es) != n {
				t.Fatalf("read %d entries, %v; want %d", len(es), err, n)
			}
			for i, e := range es {
				if e.BalanceAfter != int64(i+1) {
					t.Fatalf("entry %d by seq is %s: seq does not follow the list", i, e.ID)
				}
			}
			return nil
		})
	})

	t.Run("missing rows", func(t *testing.T) {
		for name, c := range map[string]*store.Changes{
			"wallet": {Wallets: []*store.Wallet{{Customer: "nobody", Currency: "x"}}},
			"grant":  {GrantUpdates: []*store.GrantUpdate{{ID: "nope"}}},
			"hold":   {HoldUpdates: []*store.HoldUpdate{{ID: "nope", Status: "released"}}},
		} {
			err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error { return tx.Apply(ctx, c) })
			if err == nil || !strings.Contains(err.Error(), "do not exist") {
				t.Errorf("update of a missing %s: err = %v", name, err)
			}
		}
	})

	t.Run("constraint", func(t *testing.T) {
		err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
			return tx.Apply(ctx, &store.Changes{GrantUpdates: []*store.GrantUpdate{{ID: "g", Remaining: 11}}})
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" || errors.Is(err, store.ErrRetry) {
			t.Errorf("remaining above amount: err = %v, want a check violation that is not a retry", err)
		}
	})
}

func TestUpdateRollsBack(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	errDomain := errors.New("insufficient credits")
	err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		if _, err := tx.LockWallets(ctx, []store.WalletKey{key("a", "x")}, t0); err != nil {
			return err
		}
		return errDomain
	})
	if err != errDomain {
		t.Errorf("Update = %v, want fn's error as it is", err)
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) error {
		if w, err := tx.Wallet(ctx, key("a", "x")); w != nil || err != nil {
			t.Errorf("the failed transaction left %+v, %v", w, err)
		}
		return nil
	})
}

// TestViewSnapshot checks that a View sees one snapshot, and cannot write.
func TestViewSnapshot(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	grant := func(id string) *store.Changes {
		return &store.Changes{NewGrants: []*store.Grant{{ID: id, Customer: "a", Currency: "x", Amount: 1, Remaining: 1, CreatedAt: t0, EffectiveAt: t0}}}
	}
	apply(t, s, grant("g1"))
	err := s.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		before, err := tx.Grants(ctx, store.GrantQuery{Customer: "a"})
		if err != nil {
			return err
		}
		apply(t, s, grant("g2"))
		after, err := tx.Grants(ctx, store.GrantQuery{Customer: "a"})
		if err != nil {
			return err
		}
		if len(before) != 1 || len(after) != 1 {
			t.Errorf("a View saw %d then %d grants, want 1 both times", len(before), len(after))
		}
		_, err = tx.(*readTx).tx.Exec(ctx, "DELETE FROM grants")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write in a View: err = %v, want a read-only transaction error", err)
	}
}

// TestIdempotencyRace: a key inserted by a concurrent transaction is a
// retry, not a failure.
func TestIdempotencyRace(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	record := &store.Changes{Idempotencies: []*store.Idempotency{{Key: "k", Fingerprint: "f", Result: []byte(`{}`), CreatedAt: t0}}}

	// The second transaction checks for the key before the first commits,
	// then inserts it after.
	checked, committed := make(chan struct{}), make(chan struct{})
	var err2 error
	var wg sync.WaitGroup
	wg.Go(func() {
		err2 = s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
			rec, err := tx.Idempotency(ctx, "k")
			if err != nil || rec != nil {
				return fmt.Errorf("found %v, %v before the other commit", rec, err)
			}
			close(checked)
			<-committed
			return tx.Apply(ctx, record)
		})
	})
	<-checked
	apply(t, s, record)
	close(committed)
	wg.Wait()
	if !errors.Is(err2, store.ErrRetry) {
		t.Fatalf("err = %v, want store.ErrRetry", err2)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err2, &pgErr) || pgErr.ConstraintName != idempotencyPKey {
		t.Errorf("the driver error is not reachable: %v", err2)
	}

	// Another unique violation is a bug, not a race.
	apply(t, s, &store.Changes{Events: []*store.Event{{ID: "v", Type: "t", Data: []byte(`{}`), At: t0}}})
	err := s.Update(ctx, func(ctx context.Context, tx store.WriteTx) error {
		return tx.Apply(ctx, &store.Changes{Events: []*store.Event{{ID: "v", Type: "t", Data: []byte(`{}`), At: t0}}})
	})
	if err == nil || errors.Is(err, store.ErrRetry) {
		t.Errorf("duplicate event id: err = %v, want an error that is not a retry", err)
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	retry := []error{
		&pgconn.PgError{Code: "40001"},
		&pgconn.PgError{Code: "40P01"},
		fmt.Errorf("batch: %w", &pgconn.PgError{Code: "23505", ConstraintName: idempotencyPKey}),
	}
	for _, err := range retry {
		if got := translate("op", err); !errors.Is(got, store.ErrRetry) || !strings.HasPrefix(got.Error(), "postgres: op: ") {
			t.Errorf("translate(%v) = %v, want a retry", err, got)
		}
	}
	if got := translate("op", &pgconn.PgError{Code: "55P03"}); !errors.Is(got, store.ErrBusy) {
		t.Errorf("lock timeout: %v, want store.ErrBusy", got)
	}
	other := &pgconn.PgError{Code: "23505", ConstraintName: "entries_id_key"}
	if got := translate("op", other); errors.Is(got, store.ErrRetry) || !errors.Is(got, other) {
		t.Errorf("translate(%v) = %v, want a wrapped error that is not a retry", other, got)
	}
	if got := translate("op", context.Canceled); got != context.Canceled {
		t.Errorf("translate(context.Canceled) = %v, want it unchanged", got)
	}
	if translate("op", nil) != nil {
		t.Error("translate(nil) != nil")
	}
}

func TestOpenFails(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers.
	silent := testnet.SilentListener(t)
	// A server that speaks another protocol: it answers at once, with text.
	web, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { web.Close() })
	go func() {
		for {
			conn, err := web.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"))
			conn.Close()
		}
	}()

	tests := []struct {
		name, url, want string
		within          time.Duration
	}{
		{"unreachable", "postgres://app:s3cret@127.0.0.1:1/ledger?sslmode=disable", "127.0.0.1:1", 6 * time.Second},
		{"silent", "postgres://app:s3cret@" + silent + "/ledger?sslmode=disable&connect_timeout=1", silent, 3 * time.Second},
		{"silent, default timeout", "postgres://app:s3cret@" + silent + "/ledger", "timeout", DefaultConnectTimeout + 2*time.Second},
		{"not postgres", "postgres://app:s3cret@" + web.Addr().String() + "/ledger", "is a PostgreSQL server listening there", 6 * time.Second},
		{"bad url", "postgres://app:s3cret@127.0.0.1:1/ledger?sslmode=bogus", "invalid database URL", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			s, err := Open(t.Context(), tt.url, nil)
			took := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Logf("after %v: %s", took.Round(time.Millisecond), msg)
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "s3cret") || !strings.Contains(msg, "xxxxx") {
				t.Errorf("error %q should contain %q and the redacted URL", msg, tt.want)
			}
			if took > tt.within {
				t.Errorf("Open took %v, want under %v", took, tt.within)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable":     "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db?password=pw&sslmode=require": "postgres://u@h/db?password=xxxxx&sslmode=require",
		"host=h user=u password=pw dbname=db":           "host=h user=u password=xxxxx dbname=db",
		"host=h password='p w' dbname=db":               "host=h password=xxxxx dbname=db",
		"postgres://u:p%zz@h/db":                        "postgres://xxxxx@h/db",
	} {
		if got := redact(in); got != want || strings.Contains(got, "pw") {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	if limitArg(0) != nil || limitArg(-1) != nil || limitArg(3) != int64(3) {
		t.Error("limitArg: 0 or less must mean no limit")
	}
	type item struct{ k, v string }
	got := lastByKey([]item{{"a", "1"}, {"b", "1"}, {"a", "2"}}, func(i item) string { return i.k })
	if !reflect.DeepEqual(got, []item{{"b", "1"}, {"a", "2"}}) {
		t.Errorf("lastByKey = %v", got)
	}
}
