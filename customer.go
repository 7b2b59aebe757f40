package creditkit

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/creditkit/creditkit/store"
)

// Customer is whoever owns credits: a user, a team, an org, known by the
// app's own ID. A customer comes to be in one of two ways: CreateCustomer
// (with a name, email and metadata), or the first write that names it (a
// grant, a spend, a hold, a transfer to it, its balance alerts...), which
// creates it bare, in the same transaction. Reads of a customer never seen
// answer customer_not_found, so a typo in an ID never reads as an empty
// wallet.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Metadata is the caller's own key-value pairs.
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	// Balances is the customer's balance in every configured currency. Only
	// GetCustomer fills it in.
	Balances []*Balance `json:"balances,omitempty"`
	// Subscription is the customer's subscription in the default currency,
	// if any: GetCustomer fills it in, and CreateCustomer with a plan.
	Subscription *Subscription `json:"subscription,omitempty"`
}

// CustomerOpts are the details of a new customer. Nil means a bare customer.
type CustomerOpts struct {
	// Name is a display name, up to 255 characters.
	Name string
	// Email is a plain address such as ada@example.com.
	Email string
	// Metadata holds up to 50 keys of the caller's own.
	Metadata map[string]string
	// Plan subscribes the new customer to a plan in the same write
	// (instead of the default plan). Empty: the default plan, if any,
	// from the customer's first write in its currency.
	Plan string
	// IdempotencyKey makes the create safe to retry: a replay returns the
	// first result.
	IdempotencyKey string
	// Actor names who creates the customer, for the audit log. (Customers
	// have no entry of their own, so it is not stored yet.)
	Actor string
}

// CustomerFilter selects customers, by ID ascending, a page at a time.
type CustomerFilter struct {
	// Prefix keeps only the IDs that start with it.
	Prefix string
	// Limit is the page size: 100 by default, at most 1000.
	Limit int
	// After is the ID of the last customer of the previous page.
	After string
}

// maxNameLength bounds a customer's name, in characters.
const maxNameLength = 255

// CreateCustomer creates a customer. It is idempotent: creating a customer
// that exists with the same name, email and metadata returns it as it is;
// with different ones it fails with customer_exists (an existing customer
// is never changed by a create, including one a write created bare).
func (l *Ledger) CreateCustomer(ctx context.Context, id string, opts *CustomerOpts) (*Customer, error) {
	if opts == nil {
		opts = &CustomerOpts{}
	}
	if err := checkCustomer(id, opts); err != nil {
		return nil, err
	}
	meta := orEmpty(maps.Clone(opts.Metadata))
	fields := []any{id, opts.Name, opts.Email, meta}
	wallets := staticWallets()
	var (
		plan *Plan
		key  WalletKey
	)
	if opts.Plan != "" {
		p, err := l.subscriptionPlan(opts.Plan)
		if err != nil {
			return nil, err
		}
		plan, key = p, walletKey(id, p.Currency)
		wallets = staticWallets(key)
		fields = append(fields, map[string]string{"plan": p.Name})
	}
	req := &writeReq{
		kind:        "create_customer",
		choosesPlan: plan != nil,
		route:       id,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("create_customer", fields),
		wallets:     wallets,
		decode:      decodeAs[Customer](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			row, err := w.customer(ctx, id)
			if err != nil {
				return nil, err
			}
			if row != nil {
				c, err := customerFromRow(row)
				if err != nil {
					return nil, err
				}
				if diff := c.differences(opts.Name, opts.Email, meta); diff != "" {
					return nil, errorf(CodeCustomerExists, "customer %q exists already with a different %s: use another id, or send the same details to get it back", id, diff)
				}
				return c, nil
			}
			data, err := json.Marshal(meta)
			if err != nil {
				return nil, fmt.Errorf("encode customer metadata: %w", err)
			}
			row = &store.Customer{ID: id, Name: opts.Name, Email: opts.Email, Metadata: data, CreatedAt: w.now}
			if plan != nil {
				// Subscribe first: a refusal leaves the state untouched.
				sub, err := w.subscribe(ctx, key, plan, &SubscribeOpts{Actor: opts.Actor})
				if err != nil {
					return nil, err
				}
				c, err := customerFromRow(row)
				if err != nil {
					return nil, err
				}
				c.Subscription = sub
				w.muts++
				w.newCustomers[id] = row
				w.changes.NewCustomers = append(w.changes.NewCustomers, row)
				return c, nil
			}
			w.muts++
			w.newCustomers[id] = row
			w.changes.NewCustomers = append(w.changes.NewCustomers, row)
			return customerFromRow(row)
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Customer), nil
}

// GetCustomer returns a customer with its balance in every configured
// currency, or customer_not_found.
func (l *Ledger) GetCustomer(ctx context.Context, id string) (*Customer, error) {
	if err := checkID("customer", id); err != nil {
		return nil, err
	}
	var c *Customer
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		row, err := tx.Customer(ctx, id)
		if err != nil {
			return err
		}
		if row == nil {
			return customerNotFound(id)
		}
		if c, err = customerFromRow(row); err != nil {
			return err
		}
		sub, err := tx.Subscription(ctx, id, l.cfg.DefaultCurrency().Name)
		if err != nil {
			return err
		}
		if sub != nil {
			c.Subscription = subscriptionFromRow(sub)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.Balances = make([]*Balance, 0, len(l.cfg.currencies()))
	for _, cur := range l.cfg.currencies() {
		b, err := l.balance(ctx, id, &BalanceOpts{Currency: cur.Name}, false)
		if err != nil {
			return nil, err
		}
		c.Balances = append(c.Balances, b)
	}
	return c, nil
}

// Customers lists customers by ID, a page at a time: pass the last
// customer's ID as f.After to get the next page.
func (l *Ledger) Customers(ctx context.Context, f *CustomerFilter) ([]*Customer, error) {
	if f == nil {
		f = &CustomerFilter{}
	}
	if len(f.Prefix) > maxIDLength || !utf8.ValidString(f.Prefix) {
		return nil, errorf(CodeInvalidRequest, "prefix must be valid UTF-8 of at most %d bytes", maxIDLength)
	}
	if len(f.After) > maxIDLength || !utf8.ValidString(f.After) {
		return nil, errorf(CodeInvalidRequest, "cursor must be a customer id: pass the id of the last customer of the previous page")
	}
	out := []*Customer{}
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		rows, err := tx.Customers(ctx, store.CustomerQuery{Prefix: f.Prefix, After: f.After, Limit: pageLimit(f.Limit)})
		if err != nil {
			return err
		}
		for _, r := range rows {
			c, err := customerFromRow(r)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkCustomer validates a new customer's ID and details.
func checkCustomer(id string, opts *CustomerOpts) error {
	if err := checkID("customer", id); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(opts.Name); n > maxNameLength || !utf8.ValidString(opts.Name) {
		return errorf(CodeInvalidRequest, "name must be valid UTF-8 of at most %d characters, got %d", maxNameLength, n)
	}
	if err := checkText("name", opts.Name); err != nil {
		return err
	}
	if err := checkText("email", opts.Email); err != nil {
		return err
	}
	if opts.Email != "" {
		addr, err := mail.ParseAddress(opts.Email)
		if err != nil || addr.Address != opts.Email || len(opts.Email) > 254 {
			return errorf(CodeInvalidRequest, "email %q is not a plain address: give one such as ada@example.com", opts.Email)
		}
	}
	if err := checkMetadata(opts.Metadata); err != nil {
		return err
	}
	return checkIdemKey(opts.IdempotencyKey)
}

// differences names the details of c that differ from the given ones, or
// returns "" when they are the same.
func (c *Customer) differences(name, email string, meta map[string]string) string {
	var diff []string
	if c.Name != name {
		diff = append(diff, "name")
	}
	if c.Email != email {
		diff = append(diff, "email")
	}
	if !maps.Equal(c.Metadata, meta) {
		diff = append(diff, "metadata")
	}
	return strings.Join(diff, " and ")
}

// customer returns the customer row of id as this write sees it: created
// earlier in the write, or stored; nil when there is none.
func (w *writeState) customer(ctx context.Context, id string) (*store.Customer, error) {
	if row, ok := w.newCustomers[id]; ok {
		return row, nil
	}
	return w.tx.Customer(ctx, id)
}

// seeCustomers creates, bare, the customers of the wallets this write
// created (a wallet is new exactly when its customer may be): the store
// leaves the ones that exist as they are. It runs once per write, in
// finish.
func (w *writeState) seeCustomers() {
	seen := map[string]bool{}
	for _, k := range w.order {
		ws := w.wallets[k]
		if !ws.created || seen[k.Customer] {
			continue
		}
		seen[k.Customer] = true
		if _, ok := w.newCustomers[k.Customer]; ok {
			continue
		}
		w.changes.SeenCustomers = append(w.changes.SeenCustomers, &store.Customer{ID: k.Customer, Metadata: []byte("{}"), CreatedAt: w.now})
	}
	// A wallet this write created in the default plan's currency has no
	// subscription yet: its customer joins the default plan (subscription.go).
	for _, k := range w.order {
		if ws := w.wallets[k]; ws.created {
			w.subscribeDefault(ws)
		}
	}
}

// requireCustomer fails with customer_not_found when no customer id is
// stored. Reads call it only when they found nothing, to tell an empty
// wallet from an unknown customer at the cost of one more read.
func requireCustomer(ctx context.Context, tx store.ReadTx, id string) error {
	row, err := tx.Customer(ctx, id)
	if err != nil {
		return err
	}
	if row == nil {
		return customerNotFound(id)
	}
	return nil
}

func customerNotFound(id string) error {
	return errorf(CodeCustomerNotFound, "customer %q not found: no write has named it and it was not created; check the id", id)
}

func customerFromRow(r *store.Customer) (*Customer, error) {
	c := &Customer{ID: r.ID, Name: r.Name, Email: r.Email, CreatedAt: r.CreatedAt}
	if err := unmarshalObject(r.Metadata, &c.Metadata); err != nil {
		return nil, fmt.Errorf("customer %s metadata: %w", r.ID, err)
	}
	return c, nil
}
