package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Customers: create one with its details, list them by ID prefix, read
// one with its balances.

type customerBody struct {
	ID       string            `json:"id" minLength:"1" maxLength:"255" doc:"The customer's ID in your system."`
	Name     string            `json:"name,omitempty" maxLength:"255" doc:"A display name."`
	Email    string            `json:"email,omitempty" maxLength:"254" doc:"A plain address such as ada@example.com."`
	Metadata map[string]string `json:"metadata,omitempty" doc:"Up to 50 keys of your own."`
	Plan     string            `json:"plan,omitempty" maxLength:"64" doc:"Subscribe the new customer to this plan at once (instead of the default plan)."`
}

func (s *Server) customerRoutes() {
	l := s.ledger
	actor := func(ctx context.Context) string { return principalOf(ctx).actor() }

	register(s, route{id: "create-customer", method: http.MethodPost, path: "/v1/customers", summary: "Create a customer", tag: "Customers", scope: store.ScopeWrite, status: http.StatusCreated},
		func(ctx context.Context, in *struct {
			IdempotencyHeader
			Body customerBody
		}) (*body[*creditkit.Customer], error) {
			b := in.Body
			cu, err := l.CreateCustomer(ctx, b.ID, &creditkit.CustomerOpts{Name: b.Name, Email: b.Email, Metadata: b.Metadata,
				Plan: b.Plan, IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Customer]{cu}, err
		})

	register(s, route{id: "list-customers", method: http.MethodGet, path: "/v1/customers", summary: "List customers by ID", tag: "Customers", scope: store.ScopeRead},
		func(ctx context.Context, in *struct {
			PageParams
			Prefix string `query:"prefix" maxLength:"255" doc:"Only customers whose ID starts with it."`
		}) (*body[page[*creditkit.Customer]], error) {
			limit := min(in.Limit, maxPage)
			f := creditkit.CustomerFilter{Prefix: in.Prefix, Limit: limit, After: in.Cursor}
			cs, err := l.Customers(ctx, &f)
			if err != nil {
				return nil, err
			}
			return pageAfter(cs, limit, func(c *creditkit.Customer) string { return c.ID }, func(after string) ([]*creditkit.Customer, error) {
				f.After, f.Limit = after, 1
				return l.Customers(ctx, &f)
			})
		})

	register(s, route{id: "get-customer", method: http.MethodGet, path: "/v1/customers/{customer}", summary: "Get a customer with its balance in every currency", tag: "Customers", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
		}) (*body[*creditkit.Customer], error) {
			cu, err := l.GetCustomer(ctx, in.Customer)
			return &body[*creditkit.Customer]{cu}, err
		})
}

// CreateCustomer creates a customer, as Ledger.CreateCustomer. opts.Actor
// is ignored (the server records the caller).
func (c *Client) CreateCustomer(ctx context.Context, id string, opts *creditkit.CustomerOpts) (*creditkit.Customer, error) {
	if opts == nil {
		opts = &creditkit.CustomerOpts{}
	}
	b := customerBody{ID: id, Name: opts.Name, Email: opts.Email, Metadata: opts.Metadata, Plan: opts.Plan}
	return fetch[creditkit.Customer](ctx, c, call{method: http.MethodPost, path: "/v1/customers", body: b, idem: opts.IdempotencyKey, customer: id, write: true})
}

// GetCustomer returns a customer with its balances, as Ledger.GetCustomer.
func (c *Client) GetCustomer(ctx context.Context, id string) (*creditkit.Customer, error) {
	cu, err := seg("customer", id)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Customer](ctx, c, call{method: http.MethodGet, path: "/v1/customers/" + cu})
}

// Customers lists customers by ID, one page at a time, as
// Ledger.Customers.
func (c *Client) Customers(ctx context.Context, f *creditkit.CustomerFilter) ([]*creditkit.Customer, error) {
	q := url.Values{}
	if f != nil {
		setNonEmpty(q, "prefix", f.Prefix)
		setNonEmpty(q, "cursor", f.After)
		if f.Limit != 0 {
			q.Set("limit", strconv.Itoa(f.Limit))
		}
	}
	var p clientPage[*creditkit.Customer]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/customers", query: q}, &p); err != nil {
		return nil, err
	}
	return p.Data, nil
}
