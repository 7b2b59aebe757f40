package stripe

import (
	"context"
	"fmt"
	"slices"
	"strings"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// CreateCheckout starts a Stripe Checkout session for a customer: mode
// payment for a pack (its stripe_price, or inline price data from its
// costs), mode subscription for a plan (its stripe_price for the
// interval). The session's metadata (and its payment intent's, or its
// subscription's) names the creditkit customer and the pack or plan; the
// session belongs to the customer's Stripe customer, created on first
// need.
func (p *Provider) CreateCheckout(ctx context.Context, customer string, req httpapi.CheckoutRequest) (*httpapi.CheckoutSession, error) {
	if customer == "" {
		return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "customer is empty"}
	}
	if req.SuccessURL == "" {
		return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "success_url is required: where Stripe sends the customer after paying"}
	}
	cfg := p.l.Config()
	meta := map[string]string{metaCustomer: customer}
	params := &stripego.CheckoutSessionCreateParams{
		SuccessURL:        stripego.String(req.SuccessURL),
		ClientReferenceID: stripego.String(customer),
	}
	if req.CancelURL != "" {
		params.CancelURL = stripego.String(req.CancelURL)
	}
	out := &httpapi.CheckoutSession{Provider: ProviderName, Customer: customer}
	switch {
	case req.Pack != "":
		pack, ok := cfg.Packs[req.Pack]
		if !ok || pack == nil {
			return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest,
				Message: fmt.Sprintf("unknown pack %q: use one of the config's packs (%s)", req.Pack, names(cfg.Packs))}
		}
		item := &stripego.CheckoutSessionCreateLineItemParams{Quantity: stripego.Int64(1)}
		switch {
		case pack.StripePrice != "":
			item.Price = stripego.String(pack.StripePrice)
		case pack.PriceCents > 0 && pack.PriceCurrency != "":
			item.PriceData = &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripego.String(strings.ToLower(pack.PriceCurrency)),
				UnitAmount:  stripego.Int64(pack.PriceCents),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripego.String(packTitle(req.Pack, pack))},
			}
		default:
			return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest,
				Message: fmt.Sprintf("pack %q has no price: give it stripe_price (a Stripe price id) or costs (such as 49 USD) in the config", req.Pack)}
		}
		meta[metaPack] = req.Pack
		params.Mode = stripego.String(string(stripego.CheckoutSessionModePayment))
		params.LineItems = []*stripego.CheckoutSessionCreateLineItemParams{item}
		params.PaymentIntentData = &stripego.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta}
		out.Mode, out.Pack = "payment", req.Pack
	default:
		plan, ok := cfg.Plans[req.Plan]
		if !ok || plan == nil {
			return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest,
				Message: fmt.Sprintf("unknown plan %q: use one of the config's plans (%s)", req.Plan, names(cfg.Plans))}
		}
		price, err := planPrice(req.Plan, plan, req.Interval)
		if err != nil {
			return nil, err
		}
		meta[metaPlan] = req.Plan
		params.Mode = stripego.String(string(stripego.CheckoutSessionModeSubscription))
		params.LineItems = []*stripego.CheckoutSessionCreateLineItemParams{{Price: stripego.String(price), Quantity: stripego.Int64(1)}}
		params.SubscriptionData = &stripego.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta}
		out.Mode, out.Plan = "subscription", req.Plan
	}
	params.Metadata = meta
	sc, err := p.StripeCustomerID(ctx, customer)
	if err != nil {
		return nil, err
	}
	params.Customer = stripego.String(sc)
	if req.IdempotencyKey != "" {
		// A retry with the same key answers the same session (Stripe
		// keeps keys for 24 hours); the customer scopes it.
		params.SetIdempotencyKey("creditkit-checkout-" + customer + "-" + req.IdempotencyKey)
	}
	sess, err := p.sc.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return nil, providerErr("create a Stripe Checkout session", err)
	}
	out.ID, out.URL = sess.ID, sess.URL
	p.log.Info("stripe checkout created", "session", sess.ID, "customer", customer, "mode", out.Mode, "pack", out.Pack, "plan", out.Plan)
	return out, nil
}

// planPrice returns a plan's Stripe price for an interval, or its only one.
func planPrice(name string, plan *creditkit.Plan, interval string) (string, error) {
	if len(plan.StripePrice) == 0 {
		return "", &creditkit.Error{Code: creditkit.CodeInvalidRequest,
			Message: fmt.Sprintf("plan %q has no stripe_price: add `stripe_price: price_...` (or {month: ..., year: ...}) to it in the config", name)}
	}
	if interval == "" {
		if len(plan.StripePrice) > 1 {
			return "", &creditkit.Error{Code: creditkit.CodeInvalidRequest,
				Message: fmt.Sprintf("plan %q is billed %s: say which with interval", name, strings.Join(slices.Sorted(mapKeys(plan.StripePrice)), " or "))}
		}
		for _, v := range plan.StripePrice {
			return v, nil
		}
	}
	price, ok := plan.StripePrice[interval]
	if !ok {
		return "", &creditkit.Error{Code: creditkit.CodeInvalidRequest,
			Message: fmt.Sprintf("plan %q has no stripe_price for interval %q: it has %s", name, interval, strings.Join(slices.Sorted(mapKeys(plan.StripePrice)), ", "))}
	}
	return price, nil
}

func packTitle(name string, pack *creditkit.Pack) string {
	cur := pack.Currency
	if cur == "" {
		cur = "credits"
	}
	return fmt.Sprintf("%s pack: %d %s", name, pack.Gives, cur)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func names[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none configured"
	}
	return strings.Join(slices.Sorted(mapKeys(m)), ", ")
}

// CompleteCheckout verifies a checkout session with Stripe (the
// customer's return to success_url) and fulfils it when it is paid, as
// the webhook does: both key the purchase on the session id, so whichever
// comes first grants and the other answers the same purchase.
func (p *Provider) CompleteCheckout(ctx context.Context, sessionID string) (*httpapi.CheckoutResult, error) {
	sess, err := p.sc.V1CheckoutSessions.Retrieve(ctx, sessionID, nil)
	if err != nil {
		if isMissing(err) {
			return nil, &creditkit.Error{Code: creditkit.CodeNotFound, Message: fmt.Sprintf("Stripe has no checkout session %q: pass the session_id Stripe put in success_url", sessionID)}
		}
		return nil, providerErr("read Stripe checkout session "+sessionID, err)
	}
	res, _, err := p.fulfilSession(ctx, sess, "")
	return res, err
}

// fulfilSession fulfils a paid checkout session: a pack's purchase, keyed
// on the session id, or a plan's subscription, from the subscription's
// current state at Stripe. A session that needed no payment (a 100%
// coupon) is fulfilled too, as a purchase that paid nothing. A session not paid yet (an async payment on
// its way) fulfils nothing: checkout.session.async_payment_succeeded
// comes when it is. eventID names the Stripe event, if one brought it.
func (p *Provider) fulfilSession(ctx context.Context, sess *stripego.CheckoutSession, eventID string) (*httpapi.CheckoutResult, string, error) {
	customer := sess.Metadata[metaCustomer]
	if customer == "" {
		customer = sess.ClientReferenceID
	}
	res := &httpapi.CheckoutResult{SessionID: sess.ID, Customer: customer, Mode: string(sess.Mode)}
	if customer == "" {
		return nil, "", &creditkit.Error{Code: creditkit.CodeNotFound,
			Message: fmt.Sprintf("checkout session %s was not started by creditkit: it has no creditkit_customer metadata", sess.ID)}
	}
	paid := sess.PaymentStatus == stripego.CheckoutSessionPaymentStatusPaid || sess.PaymentStatus == stripego.CheckoutSessionPaymentStatusNoPaymentRequired
	switch {
	case sess.Status == stripego.CheckoutSessionStatusExpired:
		res.Status = "expired"
		return res, "ignored: session expired", nil
	case sess.Status == stripego.CheckoutSessionStatusComplete && !paid:
		res.Status = "pending"
		return res, "waiting: payment not settled (async_payment_succeeded fulfils it)", nil
	case !paid:
		res.Status = "open"
		return res, "waiting: session open", nil
	}
	switch sess.Mode {
	case stripego.CheckoutSessionModePayment:
		pur, outcome, err := p.purchasePack(ctx, customer, sess, eventID)
		if err != nil {
			return nil, "", err
		}
		res.Status, res.Purchase = "paid", pur
		return res, outcome, nil
	case stripego.CheckoutSessionModeSubscription:
		if sess.Subscription == nil || sess.Subscription.ID == "" {
			return nil, "", &creditkit.Error{Code: creditkit.CodeInvalidRequest,
				Message: fmt.Sprintf("checkout session %s is paid but names no subscription", sess.ID)}
		}
		outcome, sub, err := p.syncSubscription(ctx, sess.Subscription.ID, nil, eventID)
		if err != nil {
			return nil, "", err
		}
		res.Status, res.Subscription = "paid", sub
		return res, outcome, nil
	}
	return res, "ignored: mode " + string(sess.Mode), nil
}
