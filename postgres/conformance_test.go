package postgres_test

import (
	"testing"

	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/postgres"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
)

// init runs before TestMain: when MultiProcessSpends re-executes this test
// binary as a spending child, it spends and exits here.
func init() { storetest.RunChildIfAsked() }

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.NewDatabaseURL(t, postgres.SharedCluster()), nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

func TestTwoProcessesNeverOverdraw(t *testing.T) {
	t.Parallel()
	storetest.MultiProcessSpends(t, pgtest.NewDatabaseURL(t, postgres.SharedCluster()))
}

func TestServerStore(t *testing.T) {
	storetest.RunServer(t, openStore)
}
