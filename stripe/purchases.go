package stripe

import (
	"context"
	"fmt"
	"strings"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/creditkit/creditkit"
)

// purchasePack records the purchase of a paid pack session, once per
// session id: Ledger.Purchase answers the first purchase (Replayed) to
// every later call, from the webhook or the return path. Both paths read
// the same session, so they give the same amount and currency.
func (p *Provider) purchasePack(ctx context.Context, customer string, sess *stripego.CheckoutSession, eventID string) (*creditkit.Purchase, string, error) {
	pack := sess.Metadata[metaPack]
	if pack == "" {
		return nil, "", &creditkit.Error{Code: creditkit.CodeInvalidRequest,
			Message: fmt.Sprintf("checkout session %s names no pack (creditkit_pack metadata)", sess.ID)}
	}
	// The purchase records what the customer paid, as Stripe says: the
	// session's amount_total in its currency (less than the pack's price
	// after a coupon), and nothing for a session that needed no payment
	// (a 100% coupon): never the pack's price in their place.
	opts := creditkit.PurchaseOpts{
		Pack:          pack,
		Provider:      ProviderName,
		ExternalID:    sess.ID,
		AmountPaid:    sess.AmountTotal,
		MoneyCurrency: strings.ToUpper(string(sess.Currency)),
		Metadata:      map[string]string{"stripe_checkout_session": sess.ID},
		Actor:         "stripe",
	}
	if sess.PaymentStatus == stripego.CheckoutSessionPaymentStatusNoPaymentRequired || sess.AmountTotal == 0 {
		opts.AmountPaid, opts.Free = 0, true
	}
	if sess.PaymentIntent != nil {
		opts.PaymentIntentID = sess.PaymentIntent.ID
	}
	pur, err := p.l.Purchase(ctx, customer, opts)
	if err != nil {
		return nil, "", err
	}
	outcome := "purchase " + pur.ID
	if pur.Replayed {
		outcome += " (already fulfilled)"
	}
	p.log.Info("stripe pack purchase", "session", sess.ID, "event", eventID, "customer", customer, "pack", pack, "purchase", pur.ID, "replayed", pur.Replayed)
	return pur, outcome, nil
}

// refundCharge claws back what a refunded charge's cumulative
// amount_refunded says, from the purchase of its payment intent: the
// ledger takes back only what it has not taken yet, so a repeated or late
// charge.refunded moves nothing more.
func (p *Provider) refundCharge(ctx context.Context, ch *stripego.Charge, eventID string) (string, error) {
	// The purchase knows the payment intent (the checkout session names
	// it); the charge id is found only when there is no payment intent.
	opts := creditkit.RefundOpts{Provider: ProviderName, RefundedTotal: ch.AmountRefunded,
		Reason: "stripe charge.refunded on " + ch.ID, Actor: "stripe", RefundID: eventID}
	if ch.PaymentIntent != nil && ch.PaymentIntent.ID != "" {
		opts.PaymentIntentID = ch.PaymentIntent.ID
	} else {
		opts.ChargeID = ch.ID
	}
	if ch.Refunds != nil && len(ch.Refunds.Data) > 0 && ch.Refunds.Data[0] != nil {
		opts.RefundID = ch.Refunds.Data[0].ID // the latest refund comes first
	}
	r, err := p.l.Refund(ctx, opts)
	if creditkit.ErrorCodeOf(err) == creditkit.CodeNotFound {
		p.log.Info("stripe charge.refunded for no creditkit purchase: ignored", "event", eventID, "charge", ch.ID)
		return "ignored: no purchase for charge " + ch.ID, nil
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("refund of purchase %s: %d refunded in total, %d credits clawed back, %d debt, %d short", r.Purchase.ID, ch.AmountRefunded, r.ClawedBack, r.Debt, r.Shortfall), nil
}
