package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/webhook"
)

// endpointOf renders an endpoint; the secret only when asked.
func endpointOf(e *store.WebhookEndpoint, withSecret bool) endpointOut {
	out := endpointOut{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, CreatedAt: e.CreatedAt}
	if out.EventTypes == nil {
		out.EventTypes = []string{}
	}
	if withSecret {
		out.Secret = e.Secret
	}
	return out
}

// Delivery is a webhook delivery as the API and the CLI show it.
type Delivery = webhook.Delivery

// webhookRoutes registers the webhook endpoints and deliveries API.
func (s *Server) webhookRoutes() {
	register(s, route{id: "create-webhook-endpoint", method: http.MethodPost, path: "/v1/webhook-endpoints", summary: "Register a webhook endpoint", tag: "Webhooks", scope: store.ScopeAdmin, status: http.StatusCreated},
		func(ctx context.Context, in *struct {
			IdempotencyHeader
			Body endpointBody
		}) (*body[endpointOut], error) {
			spec := webhook.EndpointSpec{URL: in.Body.URL, Description: in.Body.Description, EventTypes: in.Body.EventTypes}
			if err := webhook.CheckEndpoint(spec, s.allowPrivateWebhooks); err != nil {
				return nil, err
			}
			e := &store.WebhookEndpoint{ID: s.ids.New("we"), URL: in.Body.URL, Description: in.Body.Description,
				Secret: webhook.NewSecret(), EventTypes: in.Body.EventTypes, CreatedAt: s.ledger.Now()}
			if in.IdempotencyKey == "" {
				if err := s.st.CreateWebhookEndpoint(ctx, e); err != nil {
					return nil, err
				}
				return &body[endpointOut]{endpointOf(e, true)}, nil
			}
			// With a key, the endpoint's ID derives from it: a replay finds
			// the endpoint made first and answers as the first time did,
			// secret included, so that a client that lost the first answer
			// can still learn the secret (docs/api.md says so).
			sum := sha256.Sum256([]byte("webhook-endpoint\x00" + in.IdempotencyKey))
			e.ID = "we_" + hex.EncodeToString(sum[:10])
			createErr := s.st.CreateWebhookEndpoint(ctx, e)
			if createErr == nil {
				return &body[endpointOut]{endpointOf(e, true)}, nil
			}
			first, err := s.st.WebhookEndpoint(ctx, e.ID)
			if err != nil {
				return nil, err
			}
			if first == nil {
				// The key's endpoint was deleted (or the insert failed for a
				// reason the lookup would have shown): the key is spent.
				s.log.Warn("webhook endpoint key reused", "request_id", requestID(ctx), "err", createErr)
				return nil, &creditkit.Error{Code: creditkit.CodeIdempotencyConflict,
					Message: fmt.Sprintf("idempotency key %q was already used for a webhook endpoint that has since been deleted: use a new key", in.IdempotencyKey)}
			}
			if first.URL != e.URL || first.Description != e.Description || !slices.Equal(first.EventTypes, e.EventTypes) {
				return nil, &creditkit.Error{Code: creditkit.CodeIdempotencyConflict,
					Message: fmt.Sprintf("idempotency key %q was already used to create another webhook endpoint: use a new key", in.IdempotencyKey)}
			}
			return &body[endpointOut]{endpointOf(first, true)}, nil
		})

	register(s, route{id: "list-webhook-endpoints", method: http.MethodGet, path: "/v1/webhook-endpoints", summary: "List webhook endpoints", tag: "Webhooks", scope: store.ScopeAdmin},
		func(ctx context.Context, in *struct {
			PageParams
		}) (*body[page[endpointOut]], error) {
			limit := in.Limit
			if limit <= 0 {
				limit = 100
			}
			limit = min(limit, maxPage)
			es, err := s.st.WebhookEndpoints(ctx, in.Cursor, limit)
			if err != nil {
				return nil, err
			}
			out := make([]endpointOut, len(es))
			for i, e := range es {
				out[i] = endpointOf(e, false)
			}
			return pageAfter(out, limit, func(e endpointOut) string { return e.ID }, func(after string) ([]endpointOut, error) {
				more, err := s.st.WebhookEndpoints(ctx, after, 1)
				return make([]endpointOut, len(more)), err
			})
		})

	register(s, route{id: "get-webhook-endpoint", method: http.MethodGet, path: "/v1/webhook-endpoints/{endpoint}", summary: "Get a webhook endpoint", tag: "Webhooks", scope: store.ScopeAdmin},
		func(ctx context.Context, in *struct {
			Endpoint string `path:"endpoint"`
		}) (*body[endpointOut], error) {
			e, err := s.st.WebhookEndpoint(ctx, in.Endpoint)
			if err != nil {
				return nil, err
			}
			if e == nil {
				return nil, notFound("webhook endpoint %s", in.Endpoint)
			}
			return &body[endpointOut]{endpointOf(e, false)}, nil
		})

	register(s, route{id: "delete-webhook-endpoint", method: http.MethodDelete, path: "/v1/webhook-endpoints/{endpoint}", summary: "Delete a webhook endpoint; its pending deliveries fail", tag: "Webhooks", scope: store.ScopeAdmin, status: http.StatusNoContent},
		func(ctx context.Context, in *struct {
			Endpoint string `path:"endpoint"`
		}) (*struct{}, error) {
			ok, err := webhook.DeleteEndpoint(ctx, s.st, in.Endpoint, s.ledger.Now())
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, notFound("webhook endpoint %s", in.Endpoint)
			}
			return &struct{}{}, nil
		})

	register(s, route{id: "list-webhook-deliveries", method: http.MethodGet, path: "/v1/webhook-deliveries", summary: "List webhook deliveries, newest first", tag: "Webhooks", scope: store.ScopeAdmin},
		func(ctx context.Context, in *struct {
			PageParams
			Status   string `query:"status" enum:"pending,succeeded,failed"`
			Endpoint string `query:"endpoint"`
			Event    string `query:"event"`
		}) (*body[page[Delivery]], error) {
			limit := in.Limit
			if limit <= 0 {
				limit = 100
			}
			limit = min(limit, maxPage)
			ds, err := s.st.Deliveries(ctx, store.DeliveryQuery{Status: in.Status, EndpointID: in.Endpoint, EventID: in.Event, Before: in.Cursor, Limit: limit})
			if err != nil {
				return nil, err
			}
			out := make([]Delivery, len(ds))
			for i, d := range ds {
				out[i] = webhook.DeliveryOf(d)
			}
			return pageAfter(out, limit, func(d Delivery) string { return d.ID }, func(after string) ([]Delivery, error) {
				more, err := s.st.Deliveries(ctx, store.DeliveryQuery{Status: in.Status, EndpointID: in.Endpoint, EventID: in.Event, Before: after, Limit: 1})
				return make([]Delivery, len(more)), err
			})
		})

	register(s, route{id: "replay-webhook-delivery", method: http.MethodPost, path: "/v1/webhook-deliveries/{delivery}/replay", summary: "Send a delivery again", tag: "Webhooks", scope: store.ScopeAdmin},
		func(ctx context.Context, in *struct {
			Delivery string `path:"delivery"`
		}) (*body[Delivery], error) {
			d, err := s.st.ReplayDelivery(ctx, in.Delivery, s.ledger.Now())
			if err != nil {
				return nil, err
			}
			if d == nil {
				return nil, notFound("webhook delivery %s (or its endpoint was deleted)", in.Delivery)
			}
			return &body[Delivery]{webhook.DeliveryOf(d)}, nil
		})
}
