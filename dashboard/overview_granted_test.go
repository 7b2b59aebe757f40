package dashboard_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// TestOverviewGrantedIsGross checks the overview's Granted tile counts a
// pack when it is bought and keeps counting it when it is refunded: the
// revenue report's sold is net of refunds, and the tile adds the refunds'
// credits back.
func TestOverviewGrantedIsGross(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	ctx := context.Background()
	c := e.client()
	c.signIn(e.admin)
	granted := func() int64 {
		t.Helper()
		p := c.get("/dashboard/")
		m := regexp.MustCompile(`id="stat-granted">([^<]*)<`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no Granted tile in the overview")
		}
		n, err := strconv.ParseInt(strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(m[1]), 10, 64)
		if err != nil {
			t.Fatalf("Granted tile %q: %v", m[1], err)
		}
		return n
	}
	before := granted()
	e.clock.Advance(time.Second)
	if _, err := e.l.Purchase(ctx, "alice", creditkit.PurchaseOpts{Pack: "starter", Provider: "manual", ExternalID: "granted-1"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if got := granted(); got != before+1000 {
		t.Fatalf("Granted after a 1000-credit pack = %d, want %d", got, before+1000)
	}
	if _, err := e.l.Refund(ctx, creditkit.RefundOpts{Provider: "manual", ExternalID: "granted-1", RefundedTotal: 4900}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if got := granted(); got != before+1000 {
		t.Fatalf("Granted after the pack was refunded = %d, want %d (granted is gross: a refund takes nothing off it)", got, before+1000)
	}
}
