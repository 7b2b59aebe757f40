package postgres

import "github.com/creditkit/creditkit/internal/pgtest"

// SharedCluster hands the package's throwaway cluster to the external tests
// (conformance_test.go), which cannot share TestMain's variable otherwise.
func SharedCluster() *pgtest.Cluster { return cluster }
