package postgres_test

import (
	"testing"

	"github.com/creditkit/creditkit/storetest"
)

func TestAuditStore(t *testing.T) {
	storetest.RunAudit(t, openStore)
}
