package httpapi

import (
	"context"
	"net/http"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// Reports answer questions about the whole ledger rather than one wallet.
// They need a read API key: a read key can already read every customer's
// grants, with their cost bases, so a report tells it nothing new, and a
// reporting tool needs no power to move credits. Customer tokens cannot
// read them.

func (s *Server) reportRoutes() {
	l := s.ledger

	register(s, route{id: "get-revenue-report", method: http.MethodGet, path: "/v1/reports/revenue",
		summary: "Report credits sold, revenue recognized, breakage, voids and deferred value per money currency", tag: "Reports", scope: store.ScopeRead,
		errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *struct {
			From     string `query:"from" required:"true" doc:"Start of the range, inclusive (RFC 3339)."`
			To       string `query:"to" required:"true" doc:"End of the range, exclusive (RFC 3339)."`
			Customer string `query:"customer" maxLength:"255" doc:"Only this customer; every customer by default."`
		}) (*body[*creditkit.RevenueReport], error) {
			from, err := parseTime("from", in.From)
			if err != nil {
				return nil, err
			}
			to, err := parseTime("to", in.To)
			if err != nil {
				return nil, err
			}
			r, err := l.Revenue(ctx, &creditkit.RevenueOpts{From: from, To: to, Customer: in.Customer})
			return &body[*creditkit.RevenueReport]{r}, err
		})
}
