package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Subscriptions: a customer's plan, with refills at every period end (see
// docs/plans.md). One subscription per customer and credit currency.

type subscriptionBody struct {
	Plan  string `json:"plan" minLength:"1" maxLength:"255" doc:"The plan, as named in the config."`
	Trial string `json:"trial,omitempty" maxLength:"64" doc:"Start with a trial this long, such as 14d or 1mo: when the customer has no live subscription, or moves off a plan without a price (the default free plan, say); otherwise the request fails."`
	// Reason is recorded in the audit log only.
	Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why, for the audit log."`
}

// subscriptionQuery picks the subscription of a customer who has several.
type subscriptionQuery struct {
	Currency string `query:"currency" maxLength:"64" doc:"The credit currency of the subscription; defaults to the customer's only one."`
}

func (s *Server) subscriptionRoutes() {
	l := s.ledger
	actor := func(ctx context.Context) string { return principalOf(ctx).actor() }
	const path = "/v1/customers/{customer}/subscription"

	register(s, route{id: "get-subscription", method: http.MethodGet, path: path, summary: "Get a customer's subscription", tag: "Subscriptions", scope: store.ScopeRead, customer: true},
		func(ctx context.Context, in *struct {
			CustomerParam
			subscriptionQuery
		}) (*body[*creditkit.Subscription], error) {
			sub, err := l.GetSubscription(ctx, in.Customer, &creditkit.SubscriptionOpts{Currency: in.Currency})
			return &body[*creditkit.Subscription]{sub}, err
		})

	register(s, route{id: "put-subscription", method: http.MethodPut, path: path, summary: "Subscribe a customer to a plan, or change its plan (an upgrade applies at once, a downgrade at the period end)", tag: "Subscriptions", scope: store.ScopeWrite},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			Body subscriptionBody
		}) (*body[*creditkit.Subscription], error) {
			if err := checkAuditReason(in.Body.Reason); err != nil {
				return nil, err
			}
			trial, err := creditkit.ParseTrial(in.Body.Trial)
			if err != nil {
				return nil, err
			}
			cur := ""
			if p, ok := l.Config().Plans[in.Body.Plan]; ok && p != nil {
				cur = p.Currency
			}
			existing, err := l.GetSubscription(ctx, in.Customer, &creditkit.SubscriptionOpts{Currency: cur})
			if err != nil && creditkit.ErrorCodeOf(err) != creditkit.CodeNotFound && creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
				return nil, err
			}
			start := func() (*creditkit.Subscription, error) {
				return l.StartSubscription(ctx, in.Customer, in.Body.Plan, &creditkit.SubscribeOpts{Trial: trial,
					IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			}
			// A trial asked of a live subscription (one on the default
			// free plan, say) goes to ChangePlan, which starts it or
			// refuses it; the current plan renews a scheduled cancellation
			// or drops a scheduled downgrade.
			change := func() (*creditkit.Subscription, error) {
				return l.ChangePlan(ctx, in.Customer, in.Body.Plan, &creditkit.SubscriptionOpts{Currency: cur, Trial: trial,
					IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			}
			// A PUT of the plan it is on already, with nothing scheduled (a
			// retry, say), goes to StartSubscription, which answers it as
			// it is (or replays).
			first, second := change, start
			if existing == nil || existing.Status == creditkit.SubscriptionCanceled ||
				(existing.Plan == in.Body.Plan && existing.ScheduledPlan == "" && existing.CancelAt == nil) {
				first, second = start, change
			}
			sub, err := first()
			if in.IdempotencyKey != "" && creditkit.ErrorCodeOf(err) == creditkit.CodeIdempotencyConflict {
				// A retry of a PUT that the other call answered (a
				// retried plan change finds the customer on the plan
				// now): replay it there.
				if s2, err2 := second(); err2 == nil || creditkit.ErrorCodeOf(err2) != creditkit.CodeIdempotencyConflict {
					sub, err = s2, err2
				}
			}
			return &body[*creditkit.Subscription]{sub}, err
		})

	register(s, route{id: "cancel-subscription", method: http.MethodDelete, path: path, summary: "Cancel a customer's subscription, now or at the period end", tag: "Subscriptions", scope: store.ScopeWrite, errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *struct {
			CustomerParam
			IdempotencyHeader
			subscriptionQuery
			AtPeriodEnd bool `query:"at_period_end" doc:"Cancel when the current period ends instead of now."`
		}) (*body[*creditkit.Subscription], error) {
			sub, err := l.Cancel(ctx, in.Customer, &creditkit.CancelOpts{AtPeriodEnd: in.AtPeriodEnd, Currency: in.Currency,
				IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
			return &body[*creditkit.Subscription]{sub}, err
		})

	for _, op := range []struct {
		id, verb, summary string
		fn                func(context.Context, string, *creditkit.SubscriptionOpts) (*creditkit.Subscription, error)
	}{
		{"pause-subscription", "pause", "Pause a subscription: no refills until it resumes", l.Pause},
		{"resume-subscription", "resume", "Resume a paused subscription: a new period starts now with the full allowance", l.Resume},
	} {
		register(s, route{id: op.id, method: http.MethodPost, path: path + "/" + op.verb, summary: op.summary, tag: "Subscriptions", scope: store.ScopeWrite, errors: []int{http.StatusNotFound}},
			func(ctx context.Context, in *struct {
				CustomerParam
				IdempotencyHeader
				subscriptionQuery
			}) (*body[*creditkit.Subscription], error) {
				sub, err := op.fn(ctx, in.Customer, &creditkit.SubscriptionOpts{Currency: in.Currency, IdempotencyKey: in.IdempotencyKey, Actor: actor(ctx)})
				return &body[*creditkit.Subscription]{sub}, err
			})
	}
}

// subscriptionCall builds a call to a customer's subscription endpoint.
func subscriptionCall(method, customer, verb, currency string) (call, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return call{}, err
	}
	r := call{method: method, path: "/v1/customers/" + cu + "/subscription" + verb, customer: customer, query: url.Values{}}
	if currency != "" {
		r.query.Set("currency", currency)
	}
	return r, nil
}

// GetSubscription returns a customer's subscription, as
// Ledger.GetSubscription.
func (c *Client) GetSubscription(ctx context.Context, customer string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error) {
	if opts == nil {
		opts = &creditkit.SubscriptionOpts{}
	}
	r, err := subscriptionCall(http.MethodGet, customer, "", opts.Currency)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Subscription](ctx, c, r)
}

// StartSubscription subscribes a customer to a plan, as
// Ledger.StartSubscription (PUT; opts.At is not sent: the server starts it
// now). opts.Actor is ignored (the server records the caller).
func (c *Client) StartSubscription(ctx context.Context, customer, plan string, opts *creditkit.SubscribeOpts) (*creditkit.Subscription, error) {
	if opts == nil {
		opts = &creditkit.SubscribeOpts{}
	}
	r, err := subscriptionCall(http.MethodPut, customer, "", "")
	if err != nil {
		return nil, err
	}
	b := subscriptionBody{Plan: plan}
	if !opts.Trial.IsZero() {
		b.Trial = opts.Trial.String()
	}
	r.body, r.idem, r.write = b, opts.IdempotencyKey, true
	return fetch[creditkit.Subscription](ctx, c, r)
}

// ChangePlan moves a customer's subscription to another plan, as
// Ledger.ChangePlan (PUT).
func (c *Client) ChangePlan(ctx context.Context, customer, plan string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error) {
	if opts == nil {
		opts = &creditkit.SubscriptionOpts{}
	}
	r, err := subscriptionCall(http.MethodPut, customer, "", "")
	if err != nil {
		return nil, err
	}
	b := subscriptionBody{Plan: plan}
	if !opts.Trial.IsZero() {
		b.Trial = opts.Trial.String()
	}
	r.body, r.idem, r.write = b, opts.IdempotencyKey, true
	return fetch[creditkit.Subscription](ctx, c, r)
}

// Cancel cancels a customer's subscription, as Ledger.Cancel.
func (c *Client) Cancel(ctx context.Context, customer string, opts *creditkit.CancelOpts) (*creditkit.Subscription, error) {
	if opts == nil {
		opts = &creditkit.CancelOpts{}
	}
	r, err := subscriptionCall(http.MethodDelete, customer, "", opts.Currency)
	if err != nil {
		return nil, err
	}
	if opts.AtPeriodEnd {
		r.query.Set("at_period_end", "true")
	}
	r.idem, r.write = opts.IdempotencyKey, true
	return fetch[creditkit.Subscription](ctx, c, r)
}

// Pause pauses a customer's subscription, as Ledger.Pause.
func (c *Client) Pause(ctx context.Context, customer string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error) {
	return c.subscriptionVerb(ctx, customer, "/pause", opts)
}

// Resume resumes a customer's paused subscription, as Ledger.Resume.
func (c *Client) Resume(ctx context.Context, customer string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error) {
	return c.subscriptionVerb(ctx, customer, "/resume", opts)
}

func (c *Client) subscriptionVerb(ctx context.Context, customer, verb string, opts *creditkit.SubscriptionOpts) (*creditkit.Subscription, error) {
	if opts == nil {
		opts = &creditkit.SubscriptionOpts{}
	}
	r, err := subscriptionCall(http.MethodPost, customer, verb, opts.Currency)
	if err != nil {
		return nil, err
	}
	r.idem, r.write = opts.IdempotencyKey, true
	return fetch[creditkit.Subscription](ctx, c, r)
}

// checkAuditReason refuses a reason that is not plain text: it goes to the
// audit log only, where it would be stored other than it was sent.
func checkAuditReason(reason string) error {
	if !creditkit.IsText(reason) {
		return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "reason contains a NUL character or bytes that are not UTF-8: send plain text"}
	}
	return nil
}
