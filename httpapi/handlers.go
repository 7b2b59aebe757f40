package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// route describes one endpoint: its OpenAPI operation, the scope it needs,
// and whether a customer token may call it.
type route struct {
	id, method, path, summary, tag string
	scope                          string
	customer                       bool
	status                         int
	// errors lists the error statuses the operation returns beyond those
	// its shape implies (see documentErrors), such as 402.
	errors []int
}

// register adds one endpoint to the API.
func register[I, O any](s *Server, r route, h func(ctx context.Context, in *I) (*O, error)) {
	op := huma.Operation{
		OperationID:   r.id,
		Method:        r.method,
		Path:          r.path,
		Summary:       r.summary,
		Tags:          []string{r.tag},
		DefaultStatus: r.status,
		MaxBodyBytes:  s.maxBody,
		Metadata:      map[string]any{"scope": r.scope, "customer": r.customer},
		Security:      []map[string][]string{{"bearer": {}}},
	}
	if r.customer {
		op.Description = "Needs a " + r.scope + " API key, or a customer token for this customer."
	} else {
		op.Description = "Needs a " + r.scope + " API key."
	}
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return out, nil
	})
	if registered := operationOf(s.api.OpenAPI().Paths[r.path], r.method); registered != nil {
		for _, p := range registered.Parameters {
			optionalEnum(p.Schema)
		}
		s.documentErrors(registered, r.errors)
	}
}

// operationOf returns the operation of a path item for a method, or nil.
func operationOf(item *huma.PathItem, method string) *huma.Operation {
	if item == nil {
		return nil
	}
	switch method {
	case http.MethodGet:
		return item.Get
	case http.MethodPost:
		return item.Post
	case http.MethodPut:
		return item.Put
	case http.MethodPatch:
		return item.Patch
	case http.MethodDelete:
		return item.Delete
	}
	return nil
}

// optionalEnum drops the empty value from an optional parameter's enum (an
// absent parameter is never checked against it), so that the document and
// the error message list only the values a caller may send.
func optionalEnum(sc *huma.Schema) {
	if sc == nil || !slices.Contains(sc.Enum, any("")) {
		return
	}
	sc.Enum = slices.DeleteFunc(sc.Enum, func(v any) bool { return v == "" })
	sc.PrecomputeMessages()
}

// Inputs shared by several endpoints. They are exported only because the
// request decoder reads embedded fields of exported types.
type (
	// CustomerParam is the {customer} path parameter.
	CustomerParam struct {
		Customer string `path:"customer" maxLength:"255" doc:"The customer's ID in your system."`
	}
	// IdempotencyHeader is the Idempotency-Key header of a write.
	IdempotencyHeader struct {
		IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes the write safe to retry: a replay returns the first response; the same key with another body is 409."`
	}
	// PageParams are the paging parameters of a list.
	PageParams struct {
		Limit  int    `query:"limit" doc:"Page size: default 100, at most 1000."`
		Cursor string `query:"cursor" maxLength:"255" doc:"next_cursor of the previous page."`
	}
)

// body wraps a response body.
type body[T any] struct {
	Body T
}

// page is a page of a list: next_cursor is empty on the last page.
type page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page."`
}

// pageOf builds a page; a full page has a next cursor. Prefer pageAfter,
// which leaves the cursor off a full last page.
func pageOf[T any](items []T, limit int, cursor func(T) string) *body[page[T]] {
	if limit <= 0 {
		limit = 100
	}
	p := page[T]{Data: items}
	if p.Data == nil {
		p.Data = []T{}
	}
	if len(items) > 0 && len(items) >= limit {
		p.NextCursor = cursor(items[len(items)-1])
	}
	return &body[page[T]]{Body: p}
}

// pageAfter builds a page of items, fetched with limit. A full page asks
// next for one item after its last one, so that only a page with more
// items after it carries a next_cursor.
func pageAfter[T any](items []T, limit int, cursor func(T) string, next func(after string) ([]T, error)) (*body[page[T]], error) {
	p := pageOf(items, limit, cursor)
	if p.Body.NextCursor == "" {
		return p, nil
	}
	more, err := next(p.Body.NextCursor)
	if err != nil {
		return nil, err
	}
	if len(more) == 0 {
		p.Body.NextCursor = ""
	}
	return p, nil
}

// parseTime reads an optional RFC 3339 timestamp from a query parameter.
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &creditkit.Error{Code: creditkit.CodeInvalidRequest,
			Message: fmt.Sprintf("%s: expected an RFC 3339 time such as 2026-01-31T12:00:00Z, got %q", name, v)}
	}
	return t, nil
}

// parseRange reads the optional since and until query parameters.
func parseRange(since, until string) (time.Time, time.Time, error) {
	s, err := parseTime("since", since)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	u, err := parseTime("until", until)
	return s, u, err
}

// parseDur reads an optional duration such as "30d" or "10m".
func parseDur(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := creditkit.ParseDuration(v)
	if err != nil {
		return 0, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf("%s: %v", name, err)}
	}
	return d, nil
}

func invalid(format string, args ...any) error {
	return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

// Request bodies.
type (
	grantBody struct {
		Amount      creditkit.Amount     `json:"amount" doc:"Credits to give, in the currency's smallest unit."`
		Currency    string               `json:"currency,omitempty" doc:"Defaults to the first configured currency."`
		Reason      string               `json:"reason,omitempty" doc:"Ledger category, such as signup_bonus or subscription. Defaults to manual_adjustment."`
		Source      string               `json:"source,omitempty" enum:"bonus,trial,promotional,subscription,pack,purchase,transfer,rollover,adjustment" doc:"Where the credits come from; inferred from reason by default."`
		Priority    *int                 `json:"priority,omitempty" doc:"Burn-down priority; lower burns first."`
		EffectiveAt *time.Time           `json:"effective_at,omitempty" doc:"Schedule the credits for later."`
		ExpiresAt   *time.Time           `json:"expires_at,omitempty"`
		ExpiresIn   string               `json:"expires_in,omitempty" doc:"Expiry relative to effective_at, such as 30d, 12h, 1mo (a calendar month) or P1Y (ISO 8601)."`
		CostBasis   *creditkit.CostBasis `json:"cost_basis,omitempty"`
		Description string               `json:"description,omitempty" maxLength:"500" doc:"Free text for the grant's ledger entry."`
		Metadata    map[string]string    `json:"metadata,omitempty"`
	}
	spendBody struct {
		Operation string            `json:"operation,omitempty" doc:"A priced operation from the config. Give operation or amount."`
		Params    creditkit.Params  `json:"params,omitempty" doc:"The operation's inputs, such as {\"mb\": 5.2}."`
		Amount    *creditkit.Amount `json:"amount,omitempty" doc:"A raw amount to debit instead of pricing an operation."`
		Currency  string            `json:"currency,omitempty" doc:"Currency of a raw amount."`
		Reason    string            `json:"reason,omitempty" doc:"Ledger category of a raw debit; defaults to debit."`
		// Description is free text for the entry.
		Description string            `json:"description,omitempty" maxLength:"500" doc:"Free text for the ledger entry."`
		Metadata    map[string]string `json:"metadata,omitempty"`
	}
	checkBody struct {
		Operation string           `json:"operation"`
		Params    creditkit.Params `json:"params,omitempty"`
	}
	holdBody struct {
		Operation string            `json:"operation,omitempty"`
		Params    creditkit.Params  `json:"params,omitempty"`
		Amount    *creditkit.Amount `json:"amount,omitempty" doc:"Hold a raw amount instead of pricing an operation."`
		Currency  string            `json:"currency,omitempty"`
		TTL       string            `json:"ttl,omitempty" doc:"How long the hold lives, such as 10m (the default) or 2h; at most 7d."`
		Metadata  map[string]string `json:"metadata,omitempty"`
	}
	captureBody struct {
		Amount   *creditkit.Amount `json:"amount,omitempty" doc:"Charge part of the hold; omit to charge all of it."`
		Metadata map[string]string `json:"metadata,omitempty"`
		Reason   string            `json:"reason,omitempty" maxLength:"500" doc:"Why, for the audit log (an admin key's capture is recorded)."`
	}
	releaseBody struct {
		Metadata map[string]string `json:"metadata,omitempty"`
		Reason   string            `json:"reason,omitempty" maxLength:"500" doc:"Why, for the audit log (an admin key's release is recorded)."`
	}
	voidBody struct {
		Amount *creditkit.Amount `json:"amount,omitempty" doc:"Void only this many of the credits that remain; all of them by default."`
		Reason string            `json:"reason,omitempty"`
	}
	transferBody struct {
		From      string           `json:"from"`
		To        string           `json:"to"`
		Amount    creditkit.Amount `json:"amount"`
		Currency  string           `json:"currency,omitempty"`
		Evergreen bool             `json:"evergreen,omitempty" doc:"The received credits never expire."`
		// Description is free text for both entries.
		Description string            `json:"description,omitempty" maxLength:"500" doc:"Free text for both ledger entries."`
		Metadata    map[string]string `json:"metadata,omitempty"`
	}
	eventBody struct {
		Customer       string            `json:"customer"`
		Operation      string            `json:"operation"`
		Params         creditkit.Params  `json:"params,omitempty"`
		IdempotencyKey string            `json:"idempotency_key" minLength:"1" maxLength:"255"`
		Timestamp      *time.Time        `json:"timestamp,omitempty" doc:"When the usage happened, recorded as the entry's occurred_at, by which usage is summed; at most 5 minutes ahead and 35 days back by default. Defaults to now."`
		Description    string            `json:"description,omitempty" maxLength:"500" doc:"Free text for the entry."`
		Metadata       map[string]string `json:"metadata,omitempty" doc:"Recorded as the entry's metadata, as given."`
	}
	tokenBody struct {
		TTL string `json:"ttl,omitempty" doc:"Token lifetime, such as 15m (the default); at most 24h."`
	}
	endpointBody struct {
		URL         string   `json:"url" format:"uri" maxLength:"2000"`
		Description string   `json:"description,omitempty" maxLength:"500"`
		EventTypes  []string `json:"event_types,omitempty" doc:"Event types to receive, such as credits.spent or credits.grant.*; all when empty."`
	}
)

// Response bodies.
type (
	estimateOut struct {
		Operation string           `json:"operation"`
		Currency  string           `json:"currency"`
		Cost      creditkit.Amount `json:"cost"`
	}
	eventResult struct {
		Index          int              `json:"index"`
		IdempotencyKey string           `json:"idempotency_key"`
		Status         string           `json:"status" enum:"ok,error"`
		Entry          *creditkit.Entry `json:"entry,omitempty"`
		Error          *Problem         `json:"error,omitempty"`
	}
	eventsOut struct {
		Results   []eventResult `json:"results"`
		Succeeded int           `json:"succeeded"`
		Failed    int           `json:"failed"`
	}
	tokenOut struct {
		Token     string    `json:"token"`
		Customer  string    `json:"customer"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	// WebhookEndpoint is a registered webhook receiver. Secret is shown
	// when it is created.
	endpointOut struct {
		ID          string    `json:"id"`
		URL         string    `json:"url"`
		Description string    `json:"description,omitempty"`
		EventTypes  []string  `json:"event_types"`
		Secret      string    `json:"secret,omitempty" doc:"The signing secret (whsec_...), shown only when the endpoint is created."`
		CreatedAt   time.Time `json:"created_at"`
	}
	currencyOut struct {
		Name     string `json:"name"`
		Decimals int    `json:"decimals"`
	}
	operationOut struct {
		Name     string `json:"name"`
		Currency string `json:"currency"`
		Formula  string `json:"formula"`
	}
	catalogOut struct {
		Currencies []currencyOut  `json:"currencies"`
		Operations []operationOut `json:"operations"`
	}
)

// maxPage is the largest page of a list.
const maxPage = 1000

// routes registers every endpoint.
func (s *Server) routes() {
	l := s.ledger
	actor := func(ctx context.Context) string { return principalOf(ctx).actor() }

	register(s, route{id: "get-balance", method: http.MethodGet, path: "/v1/customers/{customer}/balance", summary: "Get a customer's balance", tag: "Balances", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			Currency string `query:"currency"`
			At       string `query:"at" doc:"A past or future instant (RFC 3339); now by default."`
		}) (*body[*creditkit.Balance], error) {
			at, err := parseTime("at", in.At)
			if err != nil {
				return nil, err
			}
			b, err := l.Balance(ctx, in.Customer, &creditkit.BalanceOpts{Currency: in.Currency, At: at})
			return &body[*creditkit.Balance]{b}, err
		})

	register(s, route{id: "create-grant", method: http.MethodPost, path: "/v1/customers/{customer}/grants", summary: "Give a customer credits", tag: "Grants", scope: store.ScopeWrite, status: http.StatusCreated},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body grantBody
		}) (*body[*creditkit.Grant], error) {
			b := in.Body
			opts := &creditkit.GrantOpts{Reason: b.Reason, Source: creditkit.Source(b.Source), Currency: b.Currency, Priority: b.Priority,
				CostBasis: b.CostBasis, Metadata: b.Metadata, Description: b.Description, IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)}
			if b.EffectiveAt != nil {
				opts.EffectiveAt = *b.EffectiveAt
			}
			if b.ExpiresAt != nil {
				opts.ExpiresAt = *b.ExpiresAt
			}
			if b.ExpiresIn != "" {
				span, err := creditkit.ParseSpan(b.ExpiresIn)
				if err != nil {
					return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "expires_in: " + err.Error()}
				}
				if span.IsNegative() {
					return nil, invalid("expires_in must be positive, got %q", b.ExpiresIn)
				}
				opts.SetExpiresIn(span)
			}
			g, err := l.Grant(ctx, in.Customer, b.Amount, opts)
			return &body[*creditkit.Grant]{g}, err
		})

	register(s, route{id: "list-grants", method: http.MethodGet, path: "/v1/customers/{customer}/grants", summary: "List a customer's grants, oldest first", tag: "Grants", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			PageParams
			Status   string `query:"status" enum:"scheduled,active,depleted,expired,voided"`
			Currency string `query:"currency"`
		}) (*body[page[*creditkit.Grant]], error) {
			limit := min(in.Limit, maxPage)
			f := creditkit.GrantFilter{Currency: in.Currency, Status: creditkit.GrantStatus(in.Status), Limit: limit, After: in.Cursor}
			gs, err := l.Grants(ctx, in.Customer, &f)
			if err != nil {
				return nil, err
			}
			return pageAfter(gs, limit, func(g *creditkit.Grant) string { return g.ID }, func(after string) ([]*creditkit.Grant, error) {
				f.After, f.Limit = after, 1
				return l.Grants(ctx, in.Customer, &f)
			})
		})

	register(s, route{id: "get-grant", method: http.MethodGet, path: "/v1/grants/{grant}", summary: "Get a grant", tag: "Grants", scope: store.ScopeRead},
		func(ctx context.Context, in *struct {
			Grant string `path:"grant"`
		}) (*body[*creditkit.Grant], error) {
			g, err := l.GetGrant(ctx, in.Grant)
			return &body[*creditkit.Grant]{g}, err
		})

	register(s, route{id: "void-grant", method: http.MethodPost, path: "/v1/grants/{grant}/void", summary: "Remove what is left of a grant", tag: "Grants", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			Grant string `path:"grant"`
			IdempotencyHeader
			Body *voidBody `required:"false"`
		}) (*body[*creditkit.Entry], error) {
			opts := &creditkit.VoidOpts{IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)}
			if in.Body != nil {
				opts.Reason, opts.Amount = in.Body.Reason, in.Body.Amount
			}
			e, err := l.Void(ctx, in.Grant, opts)
			return &body[*creditkit.Entry]{e}, err
		})

	register(s, route{id: "spend", method: http.MethodPost, path: "/v1/customers/{customer}/spend", summary: "Charge a customer for an operation, or debit a raw amount", tag: "Spending", scope: store.ScopeWrite, errors: []int{http.StatusPaymentRequired}},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body spendBody
		}) (*body[*creditkit.Entry], error) {
			e, err := s.spend(ctx, in.Customer, &in.Body, in.IdempotencyKey, actor(ctx))
			return &body[*creditkit.Entry]{e}, err
		})

	register(s, route{id: "check", method: http.MethodPost, path: "/v1/customers/{customer}/check", summary: "Can a customer afford an operation, or an amount, now?", tag: "Spending", scope: store.ScopeRead},
		func(ctx context.Context, in *struct {
			CustomerParam
			Body checkRequestBody
		}) (*body[*creditkit.Check], error) {
			c, err := s.check(ctx, in.Customer, &in.Body)
			return &body[*creditkit.Check]{c}, err
		})

	register(s, route{id: "estimate", method: http.MethodPost, path: "/v1/estimate", summary: "Price an operation", tag: "Spending", scope: store.ScopeRead},
		func(ctx context.Context, in *struct {
			Body checkBody
		}) (*body[estimateOut], error) {
			cost, err := l.Estimate(ctx, in.Body.Operation, in.Body.Params)
			if err != nil {
				return nil, err
			}
			op, _ := l.Config().Operation(in.Body.Operation)
			return &body[estimateOut]{estimateOut{Operation: in.Body.Operation, Currency: op.Currency, Cost: cost}}, nil
		})

	register(s, route{id: "create-hold", method: http.MethodPost, path: "/v1/customers/{customer}/holds", summary: "Reserve credits for an operation in flight", tag: "Holds", scope: store.ScopeWrite, status: http.StatusCreated, errors: []int{http.StatusPaymentRequired}},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body holdBody
		}) (*body[*creditkit.Hold], error) {
			b := in.Body
			if b.Operation == "" && b.Amount == nil {
				return nil, invalid("give operation (priced from the config) or amount (raw credits)")
			}
			ttl, err := parseDur("ttl", b.TTL)
			if err != nil {
				return nil, err
			}
			if b.TTL != "" {
				if err := creditkit.CheckHoldTTL(ttl); err != nil {
					return nil, err
				}
			}
			h, err := l.Hold(ctx, in.Customer, b.Operation, b.Params, &creditkit.HoldOpts{Amount: b.Amount, Currency: b.Currency, TTL: ttl,
				Metadata: b.Metadata, IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Hold]{h}, err
		})

	register(s, route{id: "get-hold", method: http.MethodGet, path: "/v1/holds/{hold}", summary: "Get a hold", tag: "Holds", scope: store.ScopeRead},
		func(ctx context.Context, in *struct {
			Hold string `path:"hold"`
		}) (*body[*creditkit.Hold], error) {
			h, err := l.GetHold(ctx, in.Hold)
			return &body[*creditkit.Hold]{h}, err
		})

	register(s, route{id: "capture-hold", method: http.MethodPost, path: "/v1/holds/{hold}/capture", summary: "Charge a hold, fully or partly", tag: "Holds", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			Hold string `path:"hold"`
			IdempotencyHeader
			Body *captureBody `required:"false"`
		}) (*body[*creditkit.Entry], error) {
			b := in.Body
			if b == nil {
				b = &captureBody{}
			}
			if err := checkAuditReason(b.Reason); err != nil {
				return nil, err
			}
			e, err := l.Capture(ctx, in.Hold, b.Amount, &creditkit.CaptureOpts{Metadata: b.Metadata, IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Entry]{e}, err
		})

	register(s, route{id: "release-hold", method: http.MethodPost, path: "/v1/holds/{hold}/release", summary: "Cancel a hold and return its credits", tag: "Holds", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			Hold string `path:"hold"`
			IdempotencyHeader
			Body *releaseBody `required:"false"`
		}) (*body[*creditkit.Hold], error) {
			opts := &creditkit.CaptureOpts{IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)}
			if in.Body != nil {
				if err := checkAuditReason(in.Body.Reason); err != nil {
					return nil, err
				}
				opts.Metadata = in.Body.Metadata
			}
			h, err := l.Release(ctx, in.Hold, opts)
			return &body[*creditkit.Hold]{h}, err
		})

	register(s, route{id: "transfer", method: http.MethodPost, path: "/v1/transfers", summary: "Move credits between customers", tag: "Transfers", scope: store.ScopeWrite, errors: []int{http.StatusPaymentRequired}},
		func(ctx context.Context, in *struct {
			IdempotencyHeader
			Body transferBody
		}) (*body[*creditkit.TransferResult], error) {
			b := in.Body
			r, err := l.Transfer(ctx, b.From, b.To, b.Amount, &creditkit.TransferOpts{Currency: b.Currency, Evergreen: b.Evergreen,
				Metadata: b.Metadata, Description: b.Description, IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.TransferResult]{r}, err
		})

	register(s, route{id: "list-ledger", method: http.MethodGet, path: "/v1/customers/{customer}/ledger", summary: "List a customer's ledger entries", tag: "Ledger", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			PageParams
			Type      string `query:"type" enum:"grant,charge,expiration,void,transfer,reversal,adjustment,repayment,overage_settlement,refund," doc:"Only entries of this type: grant, charge, expiration, void, transfer, reversal, adjustment, repayment, overage_settlement or refund."`
			Category  string `query:"category"`
			Currency  string `query:"currency"`
			Operation string `query:"operation"`
			Since     string `query:"since" doc:"RFC 3339; entries at or after."`
			Until     string `query:"until" doc:"RFC 3339; entries before."`
			Order     string `query:"order" enum:"asc,desc" doc:"asc (oldest first, the default) or desc."`
		}) (*body[page[*creditkit.Entry]], error) {
			since, until, err := parseRange(in.Since, in.Until)
			if err != nil {
				return nil, err
			}
			limit := min(in.Limit, maxPage)
			f := creditkit.HistoryFilter{Currency: in.Currency, Type: creditkit.EntryType(in.Type), Category: in.Category, Operation: in.Operation,
				Since: since, Until: until, Limit: limit, After: in.Cursor, Newest: in.Order == "desc"}
			es, err := l.History(ctx, in.Customer, &f)
			if err != nil {
				return nil, err
			}
			return pageAfter(es, limit, func(e *creditkit.Entry) string { return e.ID }, func(after string) ([]*creditkit.Entry, error) {
				f.After, f.Limit = after, 1
				return l.History(ctx, in.Customer, &f)
			})
		})

	register(s, route{id: "get-usage", method: http.MethodGet, path: "/v1/customers/{customer}/usage", summary: "Sum a customer's usage by period and operation", tag: "Ledger", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			By       string `query:"by" enum:"operation" doc:"operation splits usage by operation; raw charges, which have none, are split by their reason."`
			Interval string `query:"interval" enum:"hour,day,month" doc:"Split usage into UTC periods."`
			Currency string `query:"currency"`
			Since    string `query:"since"`
			Until    string `query:"until"`
		}) (*body[page[creditkit.UsageRow]], error) {
			since, until, err := parseRange(in.Since, in.Until)
			if err != nil {
				return nil, err
			}
			rows, err := l.Usage(ctx, in.Customer, &creditkit.UsageQuery{Currency: in.Currency, Since: since, Until: until, Interval: in.Interval, ByOperation: in.By == "operation"})
			if err != nil {
				return nil, err
			}
			if rows == nil {
				rows = []creditkit.UsageRow{}
			}
			return &body[page[creditkit.UsageRow]]{page[creditkit.UsageRow]{Data: rows}}, nil
		})

	register(s, route{id: "ingest-events", method: http.MethodPost, path: "/v1/events", summary: "Charge a batch of usage events, each on its own", tag: "Spending", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			Body []eventBody `maxItems:"1000" minItems:"1"`
		}) (*body[eventsOut], error) {
			return &body[eventsOut]{s.ingest(ctx, in.Body, actor(ctx))}, nil
		})

	register(s, route{id: "list-operations", method: http.MethodGet, path: "/v1/operations", summary: "The priced catalog: currencies and operations", tag: "Catalog", scope: store.ScopeRead},
		func(ctx context.Context, _ *struct{}) (*body[catalogOut], error) {
			return &body[catalogOut]{catalog(l.Config())}, nil
		})

	register(s, route{id: "create-customer-token", method: http.MethodPost, path: "/v1/customers/{customer}/tokens", summary: "Mint a short-lived token that reads one customer's data", tag: "Security", scope: store.ScopeWrite, status: http.StatusCreated},
		func(ctx context.Context, in *struct {
			CustomerParam
			Body *tokenBody `required:"false"`
		}) (*body[tokenOut], error) {
			ttl := DefaultTokenTTL
			if in.Body != nil && in.Body.TTL != "" {
				d, err := parseDur("ttl", in.Body.TTL)
				if err != nil {
					return nil, err
				}
				if d <= 0 || d > MaxTokenTTL {
					return nil, invalid("ttl must be more than 0 and at most 24h, got %s", in.Body.TTL)
				}
				ttl = d
			}
			if strings.TrimSpace(in.Customer) == "" {
				return nil, invalid("customer must not be empty")
			}
			exp := l.Now().Add(ttl).Truncate(time.Second)
			tok := signToken(s.tokenKey, tokenClaims{Customer: in.Customer, Expires: exp.Unix()})
			return &body[tokenOut]{tokenOut{Token: tok, Customer: in.Customer, ExpiresAt: exp.UTC()}}, nil
		})

	register(s, route{id: "run-due", method: http.MethodPost, path: "/v1/admin/run-due", summary: "Expire due grants and lapsed holds now", tag: "Admin", scope: store.ScopeAdmin},
		func(ctx context.Context, _ *struct{}) (*body[creditkit.DueResult], error) {
			r, err := l.RunDue(ctx)
			return &body[creditkit.DueResult]{r}, err
		})

	s.webhookRoutes()
	s.correctionRoutes()
	s.reportRoutes()
	s.customerRoutes()
	s.subscriptionRoutes()
	s.checkoutRoutes()
	s.debtRoutes()
	s.auditRoutes()
	s.purchaseRoutes()
	s.topUpRoutes()
}

// spend charges an operation or debits a raw amount.
func (s *Server) spend(ctx context.Context, customer string, b *spendBody, idem, actor string) (*creditkit.Entry, error) {
	switch {
	case b.Amount != nil && b.Operation != "":
		return nil, invalid("give operation (priced from the config) or amount (raw credits), not both")
	case b.Amount != nil:
		if len(b.Params) > 0 {
			return nil, invalid("params go with an operation; a raw amount takes none")
		}
		return s.ledger.Debit(ctx, customer, *b.Amount, &creditkit.DebitOpts{Reason: b.Reason, Currency: b.Currency,
			Metadata: b.Metadata, Description: b.Description, IdempotencyKey: idem, Actor: actor})
	case b.Operation == "":
		return nil, invalid("give operation (priced from the config) or amount (raw credits)")
	case b.Currency != "" || b.Reason != "":
		return nil, invalid("currency and reason go with a raw amount; an operation has its own")
	}
	return s.ledger.Spend(ctx, customer, b.Operation, b.Params, &creditkit.SpendOpts{Metadata: b.Metadata, Description: b.Description,
		IdempotencyKey: idem, Actor: actor})
}

// ingestWorkers bounds how many events of one batch are in flight at once;
// they share commits on the ledger's write path.
const ingestWorkers = 64

// ingest charges each event on its own, concurrently, and reports each
// outcome in order.
func (s *Server) ingest(ctx context.Context, events []eventBody, actor string) eventsOut {
	out := eventsOut{Results: make([]eventResult, len(events))}
	sem := make(chan struct{}, ingestWorkers)
	var wg sync.WaitGroup
	for i := range events {
		ev := &events[i]
		out.Results[i] = eventResult{Index: i, IdempotencyKey: ev.IdempotencyKey}
		sem <- struct{}{}
		wg.Add(1)
		go func(r *eventResult) {
			defer func() { <-sem; wg.Done() }()
			opts := &creditkit.SpendOpts{Metadata: ev.Metadata, Description: ev.Description, IdempotencyKey: ev.IdempotencyKey, Actor: actor}
			if ev.Timestamp != nil {
				opts.OccurredAt = *ev.Timestamp
			}
			e, err := s.ledger.Spend(ctx, ev.Customer, ev.Operation, ev.Params, opts)
			if err != nil {
				r.Status, r.Error = "error", s.fail(ctx, err).(*Problem)
				return
			}
			r.Status, r.Entry = "ok", e
		}(&out.Results[i])
	}
	wg.Wait()
	for _, r := range out.Results {
		if r.Status == "ok" {
			out.Succeeded++
		} else {
			out.Failed++
		}
	}
	return out
}

// catalog lists the config's currencies and operations, by name.
func catalog(cfg *creditkit.Config) catalogOut {
	var c catalogOut
	for _, cur := range cfg.Currencies {
		c.Currencies = append(c.Currencies, currencyOut{Name: cur.Name, Decimals: cur.Decimals})
	}
	if len(c.Currencies) == 0 {
		d := cfg.DefaultCurrency()
		c.Currencies = []currencyOut{{Name: d.Name, Decimals: d.Decimals}}
	}
	c.Operations = []operationOut{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Operations)) {
		op := cfg.Operations[name]
		c.Operations = append(c.Operations, operationOut{Name: name, Currency: op.Currency, Formula: op.Formula})
	}
	return c
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	ct := "application/json"
	if _, ok := v.(*Problem); ok {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = jsonEncode(w, v)
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func notFound(format string, args ...any) error {
	return &creditkit.Error{Code: creditkit.CodeNotFound, Message: fmt.Sprintf(format, args...) + " not found"}
}
