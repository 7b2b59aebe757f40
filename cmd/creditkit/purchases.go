package main

import (
	"context"
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// purchaseBackend is what the purchase verbs call, on --db or --server.
type purchaseBackend interface {
	Purchase(ctx context.Context, customer string, opts creditkit.PurchaseOpts) (*creditkit.Purchase, error)
	Purchases(ctx context.Context, customer string, f *creditkit.PurchaseFilter) ([]*creditkit.Purchase, error)
	Refund(ctx context.Context, opts creditkit.RefundOpts) (*creditkit.Refund, error)
}

var (
	_ purchaseBackend = (*creditkit.Ledger)(nil)
	_ purchaseBackend = (*httpapi.Client)(nil)
)

// PurchaseCmd records a paid purchase of a pack, once per external ID.
type PurchaseCmd struct {
	Customer   string `arg:"" help:"Customer ID."`
	Pack       string `arg:"" help:"Pack name, as in the config."`
	ExternalID string `name:"external-id" required:"" placeholder:"ID" help:"The payment's ID at the provider (an invoice number for manual): the purchase is fulfilled once per provider and ID."`
	Provider   string `name:"provider" default:"manual" placeholder:"NAME" help:"Who took the payment, such as paddle. Defaults to manual."`
	Credits    string `name:"credits" placeholder:"N" help:"Credits bought; defaults to the pack's."`
	AmountPaid int64  `name:"amount-paid" placeholder:"CENTS" help:"Money paid in minor units (cents); defaults to the pack's price (scaled to --credits)."`
	Currency   string `name:"currency" placeholder:"CODE" help:"ISO 4217 code of --amount-paid; defaults to the pack's."`
	ChargeID   string `name:"charge-id" placeholder:"ID" help:"The provider's charge ID, if any."`
	PaymentID  string `name:"payment-intent-id" placeholder:"ID" help:"The provider's payment ID, if any."`
	metaFlag
	writeFlags
}

// Run records the purchase.
func (c *PurchaseCmd) Run(s *session) error {
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	meta, err := parseMeta(c.Meta)
	if err != nil {
		return err
	}
	opts := creditkit.PurchaseOpts{Pack: c.Pack, Provider: c.Provider, ExternalID: c.ExternalID, AmountPaid: c.AmountPaid,
		MoneyCurrency: c.Currency, ChargeID: c.ChargeID, PaymentIntentID: c.PaymentID, Metadata: meta, Actor: actor,
		IdempotencyKey: c.IdempotencyKey}
	if c.Credits != "" {
		if opts.Credits, err = parseAmount(cfg, c.Credits, ""); err != nil {
			return err
		}
	}
	return s.withBackend(func(b backend) error {
		pb, ok := b.(purchaseBackend)
		if !ok {
			return fmt.Errorf("this backend cannot record purchases")
		}
		p, err := pb.Purchase(s.ctx, c.Customer, opts)
		if err != nil {
			return err
		}
		return s.output(p, func(w io.Writer) {
			what := "purchased"
			if p.Replayed {
				what = "already fulfilled, nothing moved:"
			}
			fmt.Fprintf(w, "%s %s for %s: %s for %s (%s/%s, purchase %s)\n", what, p.Pack, p.Customer, cfg.FormatAmount(p.Credits, p.Currency),
				creditkit.FormatMoney(p.AmountPaid, p.MoneyCurrency), p.Provider, p.ExternalID, p.ID)
		})
	})
}

// PurchasesCmd lists a customer's purchases.
type PurchasesCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Limit    int    `name:"limit" default:"100" help:"At most this many (up to 1000)."`
	After    string `name:"after" placeholder:"ID" help:"Start after this purchase ID (paging)."`
}

// Run lists the purchases.
func (c *PurchasesCmd) Run(s *session) error {
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		pb, ok := b.(purchaseBackend)
		if !ok {
			return fmt.Errorf("this backend cannot list purchases")
		}
		ps, err := pb.Purchases(s.ctx, c.Customer, &creditkit.PurchaseFilter{Limit: c.Limit, After: c.After})
		if err != nil {
			return err
		}
		return s.output(ps, func(w io.Writer) {
			if len(ps) == 0 {
				fmt.Fprintf(w, "%s has no purchases\n", c.Customer)
			}
			for _, p := range ps {
				fmt.Fprintf(w, "%s  %s  %s/%s  %s for %s", p.ID, p.Pack, p.Provider, p.ExternalID, cfg.FormatAmount(p.Credits, p.Currency),
					creditkit.FormatMoney(p.AmountPaid, p.MoneyCurrency))
				if p.RefundedCents > 0 {
					fmt.Fprintf(w, ", %s refunded", creditkit.FormatMoney(p.RefundedCents, p.MoneyCurrency))
				}
				fmt.Fprintln(w)
			}
		})
	})
}

// RefundCmd records money refunded on a purchase and claws back its
// credits.
type RefundCmd struct {
	ExternalID    string `arg:"" help:"The payment's ID at the provider, as given to purchase."`
	RefundedTotal int64  `arg:"" placeholder:"CENTS" help:"Money refunded on the payment so far, cumulative, in minor units (cents)."`
	Provider      string `name:"provider" default:"manual" placeholder:"NAME" help:"Who took the payment. Defaults to manual."`
	RefundID      string `name:"refund-id" placeholder:"ID" help:"The provider's refund ID, recorded on the entry."`
	Reason        string `name:"reason" placeholder:"TEXT" help:"Why, recorded on the entry."`
	writeFlags
}

// Run records the refund.
func (c *RefundCmd) Run(s *session) error {
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		pb, ok := b.(purchaseBackend)
		if !ok {
			return fmt.Errorf("this backend cannot record refunds")
		}
		r, err := pb.Refund(s.ctx, creditkit.RefundOpts{Provider: c.Provider, ExternalID: c.ExternalID, RefundID: c.RefundID,
			RefundedTotal: c.RefundedTotal, Reason: c.Reason, Actor: actor, IdempotencyKey: c.IdempotencyKey})
		if err != nil {
			return err
		}
		return s.output(r, func(w io.Writer) {
			p := r.Purchase
			fmt.Fprintf(w, "%s of %s refunded on %s/%s", creditkit.FormatMoney(p.RefundedCents, p.MoneyCurrency),
				creditkit.FormatMoney(p.AmountPaid, p.MoneyCurrency), p.Provider, p.ExternalID)
			if len(r.Entries) == 0 {
				fmt.Fprintln(w, ": nothing more to claw back")
				return
			}
			fmt.Fprintf(w, ": clawed back %s", cfg.FormatAmount(r.ClawedBack, p.Currency))
			if r.Debt > 0 {
				fmt.Fprintf(w, ", %s already spent recorded as debt", cfg.FormatAmount(r.Debt, p.Currency))
			}
			if r.Shortfall > 0 {
				fmt.Fprintf(w, ", %s already spent not recovered", cfg.FormatAmount(r.Shortfall, p.Currency))
			}
			fmt.Fprintln(w)
		})
	})
}
