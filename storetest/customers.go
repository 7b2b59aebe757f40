package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// testCustomers covers customers: explicit creation (idempotent, a
// conflict on different details), implicit creation by any write, in the
// same transaction, reads of a customer never seen (customer_not_found,
// except Check), and listing by prefix a page at a time.
func testCustomers(t *testing.T, b *Bundle) {
	l, c := b.Ledger, ctx(t)

	// Reads of a customer never seen.
	for name, read := range map[string]func() error{
		"balance":  func() error { _, err := l.Balance(c, "ghost", nil); return err },
		"balances": func() error { _, err := l.Balances(c, "ghost"); return err },
		"past balance": func() error {
			_, err := l.Balance(c, "ghost", &creditkit.BalanceOpts{At: b.Clock.Now().Add(-time.Hour)})
			return err
		},
		"grants":         func() error { _, err := l.Grants(c, "ghost", nil); return err },
		"history":        func() error { _, err := l.History(c, "ghost", nil); return err },
		"usage":          func() error { _, err := l.Usage(c, "ghost", nil); return err },
		"balance alerts": func() error { _, err := l.GetBalanceAlerts(c, "ghost", ""); return err },
		"get customer":   func() error { _, err := l.GetCustomer(c, "ghost"); return err },
	} {
		err := read()
		if got := creditkit.ErrorCodeOf(err); got != creditkit.CodeCustomerNotFound {
			t.Errorf("%s of a customer never seen: %v (code %q), want customer_not_found", name, err, got)
		}
		if !errors.Is(err, creditkit.ErrCustomerNotFound) {
			t.Errorf("%s: %v does not match ErrCustomerNotFound", name, err)
		}
	}
	// Check answers with the new customer's empty wallet, and creates nothing.
	chk := must(l.Check(c, "ghost", "send_email", nil))
	if chk.Allowed || chk.Available != 0 {
		t.Fatalf("check of a new customer = %+v, want not allowed with 0 available", chk)
	}
	if ok := must(l.CanAfford(c, "ghost", "send_email", nil)); ok {
		t.Fatal("a new customer can afford an operation")
	}
	_, err := l.GetCustomer(c, "ghost")
	wantCode(t, err, creditkit.CodeCustomerNotFound)

	// Explicit creation, idempotent.
	created := b.Clock.Now()
	opts := &creditkit.CustomerOpts{Name: "Ada Lovelace", Email: "ada@example.com", Metadata: map[string]string{"team": "engines"}}
	cu := must(l.CreateCustomer(c, "cus-ada", opts))
	if cu.ID != "cus-ada" || cu.Name != "Ada Lovelace" || cu.Email != "ada@example.com" || cu.Metadata["team"] != "engines" || !cu.CreatedAt.Equal(created) {
		t.Fatalf("created %+v", cu)
	}
	b.Clock.Advance(time.Minute)
	again := must(l.CreateCustomer(c, "cus-ada", opts))
	if !again.CreatedAt.Equal(created) || again.Name != cu.Name {
		t.Fatalf("create again = %+v, want the first customer back", again)
	}
	_, err = l.CreateCustomer(c, "cus-ada", &creditkit.CustomerOpts{Name: "Ada King"})
	wantCode(t, err, creditkit.CodeCustomerExists)
	if !errors.Is(err, creditkit.ErrCustomerExists) {
		t.Fatalf("%v does not match ErrCustomerExists", err)
	}
	// An idempotency key replays, and refuses another request.
	first := must(l.CreateCustomer(c, "cus-bob", &creditkit.CustomerOpts{Name: "Bob", IdempotencyKey: "cus-1"}))
	replay := must(l.CreateCustomer(c, "cus-bob", &creditkit.CustomerOpts{Name: "Bob", IdempotencyKey: "cus-1"}))
	if replay.ID != first.ID || !replay.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("replay = %+v, first = %+v", replay, first)
	}
	_, err = l.CreateCustomer(c, "cus-bobby", &creditkit.CustomerOpts{Name: "Bob", IdempotencyKey: "cus-1"})
	wantCode(t, err, creditkit.CodeIdempotencyConflict)
	// Bad input creates nothing.
	for _, bad := range []struct {
		id   string
		opts *creditkit.CustomerOpts
	}{
		{"", nil},
		{"has space", nil},
		{"cus-bad", &creditkit.CustomerOpts{Email: "not an email"}},
		{"cus-bad", &creditkit.CustomerOpts{Email: "Ada <ada@example.com>"}},
		{"cus-bad", &creditkit.CustomerOpts{Name: string(make([]rune, 256))}},
		{"cus-bad", &creditkit.CustomerOpts{Metadata: map[string]string{"": "x"}}},
	} {
		_, err := l.CreateCustomer(c, bad.id, bad.opts)
		wantCode(t, err, creditkit.CodeInvalidRequest)
	}
	_, err = l.GetCustomer(c, "cus-bad")
	wantCode(t, err, creditkit.CodeCustomerNotFound)

	// A created customer without a wallet reads as empty, not unknown.
	if bal := must(l.Balance(c, "cus-ada", nil)); bal.Available != 0 || bal.Held != 0 {
		t.Fatalf("balance of a new customer = %+v", bal)
	}
	if h := must(l.History(c, "cus-ada", nil)); len(h) != 0 {
		t.Fatalf("history of a new customer = %v", h)
	}
	if gs := must(l.Grants(c, "cus-ada", nil)); len(gs) != 0 {
		t.Fatalf("grants of a new customer = %v", gs)
	}
	got := must(l.GetCustomer(c, "cus-ada"))
	if len(got.Balances) == 0 || got.Balances[0].Available != 0 || got.Name != "Ada Lovelace" {
		t.Fatalf("get customer = %+v", got)
	}

	// Any write creates the customers it names, bare, when it creates
	// their wallet: a grant, a debit that fails for want of credits, a
	// hold, a transfer's recipient, balance alerts.
	seenAt := b.Clock.Now()
	must(l.Grant(c, "imp-grant", 10, nil))
	_, err = l.Debit(c, "imp-debit", 5, nil)
	wantCode(t, err, creditkit.CodeInsufficientCredits)
	must(l.Hold(c, "imp-grant", "send_email", nil, nil))
	must(l.Transfer(c, "imp-grant", "imp-to", 3, nil))
	must(l.SetBalanceAlerts(c, "imp-alerts", []creditkit.Threshold{{Amount: 5}}, nil))
	for _, id := range []string{"imp-grant", "imp-debit", "imp-to", "imp-alerts"} {
		cu := must(l.GetCustomer(c, id))
		if cu.Name != "" || cu.Email != "" || len(cu.Metadata) != 0 || !cu.CreatedAt.Equal(seenAt) {
			t.Errorf("implicit customer %s = %+v, want bare, created at %s", id, cu, seenAt)
		}
	}
	if bal := must(l.Balance(c, "imp-debit", nil)); bal.Available != 0 {
		t.Fatalf("imp-debit balance = %+v", bal)
	}
	// Bad input that never reaches the write path creates nobody.
	_, err = l.Grant(c, "imp-never", -1, nil)
	wantCode(t, err, creditkit.CodeInvalidAmount)
	_, err = l.GetCustomer(c, "imp-never")
	wantCode(t, err, creditkit.CodeCustomerNotFound)
	// A create after the fact returns the bare customer, and refuses details.
	if cu := must(l.CreateCustomer(c, "imp-grant", nil)); !cu.CreatedAt.Equal(seenAt) {
		t.Fatalf("create of an implicit customer = %+v", cu)
	}
	_, err = l.CreateCustomer(c, "imp-grant", &creditkit.CustomerOpts{Name: "Late"})
	wantCode(t, err, creditkit.CodeCustomerExists)
	// A created customer's first grant keeps its details.
	must(l.Grant(c, "cus-ada", 7, nil))
	if cu := must(l.GetCustomer(c, "cus-ada")); cu.Name != "Ada Lovelace" || cu.Balances[0].Available != 7 {
		t.Fatalf("customer after a grant = %+v", cu)
	}

	// Listing: by ID, by prefix, a page at a time.
	all := must(l.Customers(c, nil))
	var ids []string
	for _, cu := range all {
		ids = append(ids, cu.ID)
	}
	want := []string{"cus-ada", "cus-bob", "imp-alerts", "imp-debit", "imp-grant", "imp-to"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("customers = %v, want %v", ids, want)
	}
	page1 := must(l.Customers(c, &creditkit.CustomerFilter{Prefix: "imp-", Limit: 3}))
	page2 := must(l.Customers(c, &creditkit.CustomerFilter{Prefix: "imp-", Limit: 3, After: page1[len(page1)-1].ID}))
	if len(page1) != 3 || page1[0].ID != "imp-alerts" || len(page2) != 1 || page2[0].ID != "imp-to" {
		t.Fatalf("pages = %v, %v", page1, page2)
	}
	if cs := must(l.Customers(c, &creditkit.CustomerFilter{Prefix: "nope"})); len(cs) != 0 {
		t.Fatalf("prefix nope = %v", cs)
	}
	// Prefixes compare by bytes, whatever the runes: é (U+00E9) sorts
	// after z, and a prefix of the largest rune has no upper bound.
	for _, id := range []string{"zé1", "zé2", "zf", "z\U0010FFFF", "z\U0010FFFFa"} {
		must(l.CreateCustomer(c, id, nil))
	}
	for prefix, want := range map[string]int{"zé": 2, "z": 5, "z\U0010FFFF": 2, "zf": 1} {
		if cs := must(l.Customers(c, &creditkit.CustomerFilter{Prefix: prefix})); len(cs) != want {
			t.Errorf("prefix %q: %d customers, want %d", prefix, len(cs), want)
		}
	}

	// A create racing with the first write of the same customer: whichever
	// commits first wins, and the other sees it.
	for i := range 5 {
		id := fmt.Sprintf("race-%d", i)
		var wg sync.WaitGroup
		var createErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, createErr = l.CreateCustomer(c, id, &creditkit.CustomerOpts{Name: "Racer"})
		}()
		go func() {
			defer wg.Done()
			_, _ = l.Grant(c, id, 1, nil)
		}()
		wg.Wait()
		cu := must(l.GetCustomer(c, id))
		switch code := creditkit.ErrorCodeOf(createErr); code {
		case "":
			if cu.Name != "Racer" {
				t.Fatalf("%s: create succeeded but the customer is %+v", id, cu)
			}
		case creditkit.CodeCustomerExists:
			if cu.Name != "" {
				t.Fatalf("%s: create refused but the customer is %+v", id, cu)
			}
		default:
			t.Fatalf("%s: create failed: %v", id, createErr)
		}
	}
}
