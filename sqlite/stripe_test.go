package sqlite_test

import (
	"testing"

	"github.com/creditkit/creditkit/storetest"
)

func TestProviderStore(t *testing.T) {
	storetest.RunProvider(t, openStore)
}
