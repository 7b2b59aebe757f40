package creditkit

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Values of Config.RefundDebt: what a refund does with the credits of the
// refunded pack that were already spent.
const (
	// RefundDebtAllow records the credits a refund cannot take back as
	// debt on the wallet, repaid first by the next grant (and settled at a
	// billing period's end like overage). It is the default: the ledger
	// then always takes back exactly what the money refunded paid for, so
	// a customer cannot buy a pack, spend it and get the money back for
	// free.
	RefundDebtAllow = "allow"
	// RefundDebtForbid never puts a wallet into debt for a refund: it
	// claws back what the wallet still has and reports the rest as a
	// shortfall, in the refund entry's details and the credits.refunded
	// event.
	RefundDebtForbid = "forbid"
)

// refundDebt returns the configured refund debt policy, or the default.
func (c *Config) refundDebt() string {
	if c.RefundDebt == "" {
		return RefundDebtAllow
	}
	return c.RefundDebt
}

// validatePayments checks the payment settings of a config built in Go.
func (c *Config) validatePayments() error {
	switch c.RefundDebt {
	case "", RefundDebtAllow, RefundDebtForbid:
		return nil
	}
	return errorf(CodeInvalidConfig, "refund_debt: expected allow or forbid, got %q", c.RefundDebt)
}

// parseRefundDebt reads `refund_debt: allow | forbid`.
func (p *configParser) parseRefundDebt(n *yaml.Node) error {
	s, err := p.scalar(n, "refund_debt", "allow or forbid")
	if err != nil {
		return err
	}
	v := strings.ToLower(s)
	if v != RefundDebtAllow && v != RefundDebtForbid {
		return p.errAt(n, "refund_debt", "expected allow (a refund records spent credits as debt) or forbid (it claws back what remains and reports the shortfall), got %q", s)
	}
	p.cfg.RefundDebt = v
	return nil
}
