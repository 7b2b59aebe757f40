package stripe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/store"
)

// WebhookPath is where Stripe sends events: point the Stripe webhook
// endpoint (or `stripe listen --forward-to`) at it.
const WebhookPath = "/v1/providers/stripe/webhook"

// Mount serves the webhook on the API server, beside the API (it checks
// Stripe's signature, not an API key).
func (p *Provider) Mount(srv *httpapi.Server) {
	srv.Mount(http.MethodPost+" "+WebhookPath, p.WebhookHandler())
}

// webhookAnswer is the webhook's JSON answer.
type webhookAnswer struct {
	Received  bool   `json:"received"`
	EventID   string `json:"event_id,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Error     string `json:"error,omitempty"`
}

// WebhookHandler verifies and processes Stripe's events. A body that is
// not signed with the endpoint secret, or signed more than Tolerance ago,
// is refused with 400 and moves nothing, as is one holding a NUL
// character (which no Stripe event does, and the stores cannot keep). A
// verified event is processed
// once (see HandleEvent) and answered 200; a failure to apply it answers
// 500, so that Stripe delivers it again.
func (p *Provider) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(status int, a webhookAnswer) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(a)
		}
		if p.secret == "" {
			p.log.Error("stripe webhook received but no signing secret is set: refused; set " + EnvWebhookSecret)
			reply(http.StatusServiceUnavailable, webhookAnswer{Error: "the webhook signing secret is not configured: set " + EnvWebhookSecret})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.opts.MaxEventBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				reply(http.StatusRequestEntityTooLarge, webhookAnswer{Error: fmt.Sprintf("event body over %d bytes", p.opts.MaxEventBytes)})
				return
			}
			reply(http.StatusBadRequest, webhookAnswer{Error: "cannot read the body: " + err.Error()})
			return
		}
		ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), p.secret,
			webhook.ConstructEventOptions{Tolerance: p.opts.Tolerance, IgnoreAPIVersionMismatch: true})
		if err != nil {
			p.log.Warn("stripe webhook refused", "err", err, "remote", r.RemoteAddr)
			reply(http.StatusBadRequest, webhookAnswer{Error: "signature verification failed: " + err.Error()})
			return
		}
		if hasNUL(body) {
			// No Stripe event carries one, and the stores keep text that
			// cannot hold it (PostgreSQL refuses it): answering 500 would
			// have Stripe retry an event that can never succeed.
			p.log.Warn("stripe webhook refused: a NUL character in the event", "event", ev.ID, "type", ev.Type)
			reply(http.StatusBadRequest, webhookAnswer{Error: "the event holds a NUL character (\\u0000), which no Stripe event carries"})
			return
		}
		outcome, dup, err := p.HandleEvent(r.Context(), &ev)
		if err != nil {
			p.log.Error("stripe event failed; Stripe will deliver it again", "event", ev.ID, "type", ev.Type, "err", err)
			reply(http.StatusInternalServerError, webhookAnswer{EventID: ev.ID, Error: "processing failed; it is retried on the next delivery"})
			return
		}
		reply(http.StatusOK, webhookAnswer{Received: true, EventID: ev.ID, Outcome: outcome, Duplicate: dup})
	})
}

// hasNUL reports whether a JSON body holds a string with a NUL character.
func hasNUL(body []byte) bool {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return false
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.ContainsRune(v, 0)
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range v {
				if strings.ContainsRune(k, 0) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// HandleEvent processes one verified Stripe event once. The event is
// claimed first (a provider_events row); a delivery that finds it
// processed answers its outcome and does nothing. The claim cannot share a
// transaction with the ledger writes it leads to, so each effect is
// idempotent on its own key instead: a pack purchase on the checkout
// session id, a refund on the charge's cumulative refunded amount, a
// subscription change on the subscription's state, and the event is
// marked processed only after them. A crash between the effect and the
// mark leaves the event claimed but unprocessed; Stripe's redelivery (or
// a second node receiving it at once) runs the effects again, which then
// change nothing. It reports whether the event had been processed before.
func (p *Provider) HandleEvent(ctx context.Context, ev *stripego.Event) (string, bool, error) {
	claimed, prev, err := p.st.ClaimProviderEvent(ctx, &store.ProviderEvent{Provider: ProviderName, ID: ev.ID, Type: string(ev.Type), ReceivedAt: p.l.Now()})
	if err != nil {
		return "", false, err
	}
	if !claimed && prev != nil && prev.ProcessedAt != nil {
		return prev.Outcome, true, nil
	}
	outcome, err := p.dispatch(ctx, ev)
	if err != nil {
		if !permanent(err) {
			return "", false, err
		}
		// The ledger refused it for a reason a redelivery would not
		// change (an unknown pack, a mixed-up purchase): acknowledge it,
		// so that Stripe stops retrying, and record why.
		p.log.Error("stripe event refused by the ledger; acknowledged", "event", ev.ID, "type", ev.Type, "err", err)
		outcome = "rejected: " + err.Error()
	}
	if err := p.st.FinishProviderEvent(ctx, ProviderName, ev.ID, p.l.Now(), outcome); err != nil {
		return "", false, err
	}
	return outcome, false, nil
}

// permanent reports whether the ledger refused a request for good: a
// retry would be refused again.
func permanent(err error) bool {
	var ce *creditkit.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case creditkit.CodeInternal, creditkit.CodeOverloaded, creditkit.CodeOutcomeUnknown:
		return false
	}
	return true
}

// undecodable is the permanent error of an event whose object does not
// decode: a redelivery carries the same bytes, so it is acknowledged (and
// recorded as rejected) rather than answered 500 for Stripe to retry for
// days.
func undecodable(what, eventID string, err error) error {
	return &creditkit.Error{Code: creditkit.CodeInvalidRequest,
		Message: fmt.Sprintf("the %s of event %s does not decode: %v", what, eventID, err), Err: err}
}

// dispatch applies an event and says what it did.
func (p *Provider) dispatch(ctx context.Context, ev *stripego.Event) (string, error) {
	if ev.Data == nil {
		return "ignored: no data", nil
	}
	raw := ev.Data.Raw
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded":
		var sess stripego.CheckoutSession
		if err := json.Unmarshal(raw, &sess); err != nil {
			return "", undecodable("checkout session", ev.ID, err)
		}
		_, outcome, err := p.fulfilSession(ctx, &sess, ev.ID)
		return outcome, err
	case "checkout.session.async_payment_failed":
		return "ignored: async payment failed", nil
	case "charge.refunded":
		var ch stripego.Charge
		if err := json.Unmarshal(raw, &ch); err != nil {
			return "", undecodable("charge", ev.ID, err)
		}
		return p.refundCharge(ctx, &ch, ev.ID)
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
		"customer.subscription.paused", "customer.subscription.resumed":
		var s stripego.Subscription
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", undecodable("subscription", ev.ID, err)
		}
		outcome, _, err := p.syncSubscription(ctx, s.ID, &s, ev.ID)
		return outcome, err
	case "invoice.paid", "invoice.payment_failed", "invoice.payment_succeeded":
		var inv stripego.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			return "", undecodable("invoice", ev.ID, err)
		}
		sub := ""
		if inv.Parent != nil && inv.Parent.SubscriptionDetails != nil && inv.Parent.SubscriptionDetails.Subscription != nil {
			sub = inv.Parent.SubscriptionDetails.Subscription.ID
		} else {
			// Endpoints on API versions before 2025-03-31 name the
			// subscription at the top of the invoice.
			var old struct {
				Subscription string `json:"subscription"`
			}
			_ = json.Unmarshal(raw, &old)
			sub = old.Subscription
		}
		if sub == "" {
			return "ignored: invoice of no subscription", nil
		}
		// The subscription's status at Stripe says whether it is paid up
		// (active) or not (past_due): a late invoice.payment_failed after
		// the invoice.paid that recovered it changes nothing.
		outcome, _, err := p.syncSubscription(ctx, sub, nil, ev.ID)
		return outcome, err
	}
	return "ignored: " + string(ev.Type), nil
}
