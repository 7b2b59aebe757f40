package main

import (
	"fmt"
	"io"

	"github.com/creditkit/creditkit"
)

// HoldCmd reserves credits for an operation in flight.
type HoldCmd struct {
	Customer  string   `arg:"" help:"Customer ID."`
	Operation string   `arg:"" help:"Operation name from the config (only recorded when --amount is given)."`
	Params    []string `arg:"" optional:"" name:"param" sep:"none" placeholder:"PARAM=VALUE" help:"Operation params, such as mb=5.2."`
	TTL       string   `name:"ttl" placeholder:"D" help:"How long the hold lives before it releases itself, such as 10m. Defaults to 10m."`
	Amount    string   `name:"amount" placeholder:"N" help:"Hold this amount instead of the operation's price."`
	Currency  string   `name:"currency" placeholder:"C" help:"Currency of --amount. Defaults to the operation's, else the config's first currency."`
	metaFlag
	writeFlags
}

// Run places the hold.
func (c *HoldCmd) Run(s *session) error {
	cfg, err := s.backendConfig()
	if err != nil {
		return err
	}
	params, err := parseParams(c.Params)
	if err != nil {
		return err
	}
	opts := &creditkit.HoldOpts{Currency: c.Currency, IdempotencyKey: c.IdempotencyKey, Actor: actor}
	if opts.TTL, err = parseDuration("ttl", c.TTL); err != nil {
		return err
	}
	if c.TTL != "" {
		// An explicit TTL is checked as given: 0s is out of range, not the
		// default (leave --ttl out for that).
		if err := creditkit.CheckHoldTTL(opts.TTL); err != nil {
			return err
		}
	}
	if opts.Metadata, err = parseMeta(c.Meta); err != nil {
		return err
	}
	if c.Amount != "" {
		if opts.Currency == "" {
			if op, err := cfg.Operation(c.Operation); err == nil {
				opts.Currency = op.Currency
			}
		}
		amount, err := parseAmount(cfg, c.Amount, opts.Currency)
		if err != nil {
			return err
		}
		opts.Amount = &amount
	}
	return s.withBackend(func(b backend) error {
		h, err := b.Hold(s.ctx, c.Customer, c.Operation, params, opts)
		if err != nil {
			return err
		}
		return s.output(h, func(w io.Writer) {
			printHold(w, cfg, fmt.Sprintf("held %s of %s for %s until %s", cfg.FormatAmount(h.Amount, h.Currency), h.Customer, c.Operation, fmtTime(h.ExpiresAt)), h)
		})
	})
}

// CaptureCmd charges a hold.
type CaptureCmd struct {
	HoldID string `arg:"" name:"hold-id" help:"ID of the hold to capture."`
	Amount string `name:"amount" placeholder:"N" help:"Charge this much of the hold and return the rest. Defaults to all of it."`
	metaFlag
	writeFlags
}

// Run captures the hold.
func (c *CaptureCmd) Run(s *session) error {
	meta, err := parseMeta(c.Meta)
	if err != nil {
		return err
	}
	return s.withBackend(func(b backend) error {
		cfg := s.cfg
		var amount *creditkit.Amount
		if c.Amount != "" {
			// The amount is in the hold's currency, so find the hold first.
			h, err := b.GetHold(s.ctx, c.HoldID)
			if err != nil {
				return err
			}
			a, err := parseAmount(cfg, c.Amount, h.Currency)
			if err != nil {
				return err
			}
			amount = &a
		}
		e, err := b.Capture(s.ctx, c.HoldID, amount, &creditkit.CaptureOpts{Metadata: meta, IdempotencyKey: c.IdempotencyKey, Actor: actor})
		if err != nil {
			return err
		}
		return s.output(e, func(w io.Writer) {
			printEntry(w, cfg, fmt.Sprintf("captured hold %s: charged %s %s", c.HoldID, e.Customer, cfg.FormatAmount(-e.Amount, e.Currency)), e)
		})
	})
}

// ReleaseCmd cancels a hold.
type ReleaseCmd struct {
	HoldID string `arg:"" name:"hold-id" help:"ID of the hold to release."`
	writeFlags
}

// Run releases the hold.
func (c *ReleaseCmd) Run(s *session) error {
	return s.withBackend(func(b backend) error {
		h, err := b.Release(s.ctx, c.HoldID, &creditkit.CaptureOpts{IdempotencyKey: c.IdempotencyKey, Actor: actor})
		if err != nil {
			return err
		}
		cfg := s.cfg
		return s.output(h, func(w io.Writer) {
			printHold(w, cfg, fmt.Sprintf("released hold %s: %s back to %s", h.ID, cfg.FormatAmount(h.Amount, h.Currency), h.Customer), h)
		})
	})
}
