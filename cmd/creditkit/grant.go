package main

import (
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
)

// GrantCmd gives a customer credits.
type GrantCmd struct {
	Customer    string `arg:"" help:"Customer ID."`
	Amount      string `arg:"" help:"Credits to give, a decimal number in the currency's units."`
	Reason      string `name:"reason" placeholder:"R" help:"Ledger category, such as signup_bonus or subscription. Defaults to manual_adjustment."`
	Priority    *int   `name:"priority" placeholder:"N" help:"Burn-down priority, lower first. Defaults to one set by the reason."`
	EffectiveAt string `name:"effective-at" placeholder:"T" help:"When the credits become spendable (RFC 3339). Defaults to now."`
	ExpiresAt   string `name:"expires-at" placeholder:"T" xor:"expiry" help:"When unspent credits expire (RFC 3339)."`
	ExpiresIn   string `name:"expires-in" placeholder:"D" xor:"expiry" help:"Expire after this long from effective, such as 30d, 12h, 1mo (a calendar month) or P1Y."`
	Currency    string `name:"currency" placeholder:"C" help:"Currency. Defaults to the config's first currency."`
	metaFlag
	writeFlags
}

// Run grants the credits.
func (c *GrantCmd) Run(s *session) error {
	// The amount is in the backend's currencies: load its config first.
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	amount, meta, err := s.amountAndMeta(c.Amount, c.Currency, c.Meta)
	if err != nil {
		return err
	}
	opts := &creditkit.GrantOpts{
		Reason: c.Reason, Currency: c.Currency, Priority: c.Priority, Metadata: meta,
		IdempotencyKey: c.IdempotencyKey, Actor: actor,
	}
	if opts.EffectiveAt, err = parseTime("effective-at", c.EffectiveAt); err != nil {
		return err
	}
	if opts.ExpiresAt, err = parseTime("expires-at", c.ExpiresAt); err != nil {
		return err
	}
	if c.ExpiresIn != "" {
		span, err := creditkit.ParseSpan(c.ExpiresIn)
		if err != nil {
			return fmt.Errorf("--expires-in: %w", err)
		}
		opts.SetExpiresIn(span)
	}
	return s.withBackend(func(b backend) error {
		g, err := b.Grant(s.ctx, c.Customer, amount, opts)
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(g, func(w io.Writer) {
			printGrant(w, cfg, fmt.Sprintf("granted %s to %s", cfg.FormatAmount(g.Amount, g.Currency), g.Customer), g)
		})
	})
}

// GrantsCmd lists a customer's grants.
type GrantsCmd struct {
	Customer string `arg:"" help:"Customer ID."`
	Status   string `name:"status" placeholder:"S" help:"Only grants in this status: active, scheduled, depleted, expired or voided."`
	Currency string `name:"currency" placeholder:"C" help:"Only grants in this currency."`
	Limit    int    `name:"limit" placeholder:"N" help:"List at most N grants (default 100, at most 1000)."`
}

// Run lists the grants.
func (c *GrantsCmd) Run(s *session) error {
	return s.withBackend(func(b backend) error {
		grants, err := b.Grants(s.ctx, c.Customer, &creditkit.GrantFilter{
			Status: creditkit.GrantStatus(c.Status), Currency: c.Currency, Limit: c.Limit,
		})
		if err != nil {
			return err
		}
		if grants == nil {
			grants = []*creditkit.Grant{}
		}
		return s.output(grants, func(w io.Writer) { printGrants(w, s.cfg, grants) })
	})
}

// VoidCmd removes what is left of a grant.
type VoidCmd struct {
	GrantID string `arg:"" name:"grant-id" help:"ID of the grant to void."`
	Amount  string `name:"amount" placeholder:"N" help:"Void only this much of what remains (in the grant's currency); the grant stays active."`
	Reason  string `name:"reason" placeholder:"R" help:"Why, recorded on the entry."`
	writeFlags
}

// Run voids the grant.
func (c *VoidCmd) Run(s *session) error {
	return s.withBackend(func(b backend) error {
		opts := &creditkit.VoidOpts{Reason: c.Reason, IdempotencyKey: c.IdempotencyKey, Actor: actor}
		if c.Amount != "" {
			g, err := b.GetGrant(s.ctx, c.GrantID)
			if err != nil {
				return err
			}
			amount, err := parseAmount(s.cfg, c.Amount, g.Currency)
			if err != nil {
				return err
			}
			opts.Amount = &amount
		}
		e, err := b.Void(s.ctx, c.GrantID, opts)
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(e, func(w io.Writer) {
			printEntry(w, cfg, fmt.Sprintf("voided grant %s: removed %s from %s", c.GrantID, cfg.FormatAmount(-e.Amount, e.Currency), e.Customer), e)
		})
	})
}
