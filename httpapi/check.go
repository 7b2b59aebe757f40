package httpapi

import (
	"context"

	"github.com/creditkit/creditkit"
)

// checkRequestBody asks whether a customer can afford an operation or a
// raw amount.
type checkRequestBody struct {
	Operation string            `json:"operation,omitempty" doc:"A priced operation from the config. Give operation or amount."`
	Params    creditkit.Params  `json:"params,omitempty" doc:"The operation's inputs, such as {\"mb\": 5.2}."`
	Amount    *creditkit.Amount `json:"amount,omitempty" doc:"A raw amount of credits to check instead of pricing an operation."`
	Currency  string            `json:"currency,omitempty" doc:"Currency of a raw amount; defaults to the first configured currency."`
}

// check answers a check of an operation or of a raw amount, exactly one of
// the two, as a spend takes them.
func (s *Server) check(ctx context.Context, customer string, b *checkRequestBody) (*creditkit.Check, error) {
	switch {
	case b.Amount != nil && b.Operation != "":
		return nil, invalid("give operation (priced from the config) or amount (raw credits), not both")
	case b.Amount != nil:
		if len(b.Params) > 0 {
			return nil, invalid("params go with an operation; a raw amount takes none")
		}
		return s.ledger.CheckAmount(ctx, customer, *b.Amount, b.Currency)
	case b.Operation == "":
		return nil, invalid("give operation (priced from the config) or amount (raw credits)")
	case b.Currency != "":
		return nil, invalid("currency goes with a raw amount; an operation has its own")
	}
	return s.ledger.Check(ctx, customer, b.Operation, b.Params)
}
