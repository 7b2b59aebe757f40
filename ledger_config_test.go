package creditkit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
)

// forEachConfigStore runs fn on a ledger over a fresh SQLite database and a
// fresh PostgreSQL database, each loaded with the YAML config src and the
// clock clock (nil is the system clock).
func forEachConfigStore(t *testing.T, src string, clock Clock, fn func(t *testing.T, l *Ledger)) {
	t.Helper()
	stores := []struct {
		name string
		open func(t *testing.T) (store.Store, error)
	}{
		{"sqlite", func(t *testing.T) (store.Store, error) {
			return sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cfg.db"), nil)
		}},
		{"postgres", func(t *testing.T) (store.Store, error) {
			return postgres.Open(context.Background(), pgtest.NewDatabaseURL(t, cluster), nil)
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s, err := st.open(t)
			if err != nil {
				t.Fatalf("open %s: %v", st.name, err)
			}
			t.Cleanup(func() { s.Close() })
			cfg, err := ParseConfig("creditkit.yaml", []byte(src))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			cfg.Clock = clock
			l, err := New(s, cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { l.Close() })
			fn(t, l)
		})
	}
}
