package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/creditkit/creditkit"
)

// overageCursor names the overage worker's cursor in provider_cursors.
const overageCursor = "overage_invoice_items"

// overageBatch is how many ledger events BillOverage reads at a time.
const overageBatch = 200

// BillOverage turns each credits.overage.billed event of the ledger's
// outbox into a Stripe invoice item on the customer's Stripe customer, so
// that the customer's next invoice carries it. It reads the outbox from a
// stored cursor and moves the cursor past an event only after Stripe took
// its invoice item; the invoice item carries a Stripe idempotency key made
// from the settlement's entry id, so that an event sent again after a
// crash (or by a second node) creates no second item. The cursor stops
// short of events younger than Options.OverageSettle, so that an event
// whose transaction commits after a later-numbered one is not skipped.
// A settlement without money (the plan has no overage_price) bills
// nothing. It returns the number of invoice items sent.
func (p *Provider) BillOverage(ctx context.Context) (int, error) {
	sent := 0
	for {
		after, err := p.st.ProviderCursor(ctx, ProviderName, overageCursor)
		if err != nil {
			return sent, err
		}
		evs, err := p.l.Events(ctx, after, overageBatch)
		if err != nil {
			return sent, err
		}
		horizon := p.l.Now().Add(-p.opts.OverageSettle)
		moved := after
		for _, e := range evs {
			if e.At.After(horizon) {
				break
			}
			if e.Type == creditkit.EventOverageBilled {
				ok, err := p.invoiceOverage(ctx, e)
				if err != nil {
					if moved > after {
						_ = p.st.SetProviderCursor(ctx, ProviderName, overageCursor, moved)
					}
					return sent, err
				}
				if ok {
					sent++
				}
			}
			moved = e.Seq
		}
		if moved > after {
			if err := p.st.SetProviderCursor(ctx, ProviderName, overageCursor, moved); err != nil {
				return sent, err
			}
		}
		if len(evs) < overageBatch || moved == after {
			return sent, nil
		}
	}
}

// invoiceOverage sends one settlement's invoice item; it reports whether
// there was one to send.
func (p *Provider) invoiceOverage(ctx context.Context, e *creditkit.Event) (bool, error) {
	cents, ok := intOf(e.Data["money_cents"])
	money, _ := e.Data["money_currency"].(string)
	entry, _ := e.Data["entry_id"].(string)
	if !ok || cents <= 0 || money == "" {
		p.log.Info("overage settled without money: no invoice item", "event", e.ID, "customer", e.Customer)
		return false, nil
	}
	key := entry
	if key == "" {
		key = e.ID
	}
	sc, err := p.StripeCustomerID(ctx, e.Customer)
	if err != nil {
		return false, err
	}
	credits, _ := intOf(e.Data["credits"])
	params := &stripego.InvoiceItemCreateParams{
		Customer:    stripego.String(sc),
		Amount:      stripego.Int64(cents),
		Currency:    stripego.String(strings.ToLower(money)),
		Description: stripego.String(fmt.Sprintf("Overage: %d %s", credits, e.Currency)),
		Metadata:    map[string]string{metaCustomer: e.Customer, "creditkit_settlement": key, "creditkit_event": e.ID},
	}
	params.SetIdempotencyKey("creditkit-overage-" + key)
	item, err := p.sc.V1InvoiceItems.Create(ctx, params)
	if err != nil {
		return false, providerErr("create the overage invoice item of "+e.Customer, err)
	}
	p.log.Info("overage invoice item created", "event", e.ID, "customer", e.Customer, "invoice_item", item.ID, "cents", cents, "currency", money)
	return true, nil
}

// intOf reads an integer from decoded JSON.
func intOf(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case creditkit.Amount:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// RunOverage runs BillOverage every interval until ctx is done, logging
// failures (the next round retries them).
func (p *Provider) RunOverage(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := p.BillOverage(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("overage invoice items failed; retrying next round", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
