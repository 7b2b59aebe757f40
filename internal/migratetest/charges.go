package migratetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

// ChargeEntries are entries of two customers in two currencies around hour
// boundaries (before 1970 too, and on the boundaries themselves): charges,
// a charge with a positive amount, grants and reversals, for the stores'
// tests of SumCharges (charge_totals, migration 0012) to write, before or
// after that migration, and CheckChargeSums to sum.
func ChargeEntries() []*store.Entry {
	r := rand.New(rand.NewPCG(12, 12))
	hour := int64(time.Hour / time.Microsecond)
	var out []*store.Entry
	for i := range 600 {
		e := &store.Entry{
			ID:       fmt.Sprintf("ent_%d", i),
			Customer: []string{"alice", "bob"}[r.IntN(2)],
			Currency: []string{"credits", "tokens"}[r.IntN(2)],
			Type:     "charge", Category: "operation_charge",
			Amount:      -1 - r.Int64N(50),
			Details:     []byte("{}"),
			Metadata:    []byte("{}"),
			Allocations: []byte("[]"),
		}
		switch r.IntN(10) {
		case 0:
			e.Type, e.Category, e.Amount = "grant", "manual_adjustment", 1+r.Int64N(50)
		case 1:
			e.Type, e.Category = "reversal", "reversal"
			e.Amount = -e.Amount
		case 2:
			e.Amount = 1 + r.Int64N(5) // a charge that gives back: not summed
		}
		// Hours -3 .. 4 around the epoch and around 2027-01-10, some right
		// on a boundary or a microsecond either side.
		base := int64(0)
		if r.IntN(2) == 0 {
			base = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC).UnixMicro()
		}
		us := base + (r.Int64N(8)-3)*hour
		switch r.IntN(4) {
		case 0:
		case 1:
			us--
		case 2:
			us++
		default:
			us += r.Int64N(hour)
		}
		e.OccurredAt = time.UnixMicro(us).UTC()
		e.At = e.OccurredAt
		e.RecordedAt = e.OccurredAt
		out = append(out, e)
	}
	return out
}

// CheckChargeSums checks that the store's SumCharges of every wallet of
// entries (written to s) answers, for every time since on and around the
// hour boundaries the entries are near, the negated sum of the wallet's
// charges with a negative amount that occurred at or after since.
func CheckChargeSums(t *testing.T, s store.Store, entries []*store.Entry) {
	t.Helper()
	hour := int64(time.Hour / time.Microsecond)
	var sinces []int64
	for _, base := range []int64{0, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC).UnixMicro()} {
		for h := int64(-4); h <= 5; h++ {
			b := base + h*hour
			sinces = append(sinces, b-1, b, b+1, b+hour/2)
		}
	}
	sinces = append(sinces, time.Time{}.UnixMicro())
	err := s.View(context.Background(), func(ctx context.Context, tx store.ReadTx) error {
		cs, ok := tx.(store.ChargeSummer)
		if !ok {
			return fmt.Errorf("the store's read transaction %T is no store.ChargeSummer", tx)
		}
		for _, customer := range []string{"alice", "bob", "nobody"} {
			for _, currency := range []string{"credits", "tokens"} {
				key := store.WalletKey{Customer: customer, Currency: currency}
				for _, since := range sinces {
					var want int64
					for _, e := range entries {
						if e.Customer == customer && e.Currency == currency && e.Type == "charge" && e.Amount < 0 && e.OccurredAt.UnixMicro() >= since {
							want -= e.Amount
						}
					}
					got, err := cs.SumCharges(ctx, key, time.UnixMicro(since).UTC())
					if err != nil {
						return err
					}
					if got != want {
						t.Errorf("SumCharges(%s/%s, since %s) = %d, want %d", customer, currency, time.UnixMicro(since).UTC().Format(time.RFC3339Nano), got, want)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
