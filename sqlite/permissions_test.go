package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
)

// A new database, which holds the token signing key and webhook secrets,
// is readable by its owner only, and so are its -wal and -shm files.
func TestNewDatabaseIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write makes sure the WAL and its index exist.
	if err := s.CreateAPIKey(t.Context(), &store.APIKey{ID: "key_1", Name: "n", Scope: store.ScopeRead, Hash: "h", Prefix: "p", CreatedAt: storetest.Epoch}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
}
