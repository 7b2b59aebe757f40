package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/creditkit/creditkit"
)

// Error codes the HTTP API adds to the library's.
const (
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeRequestTooLarge  = "request_too_large"
	CodeMethodNotAllowed = "method_not_allowed"
)

// problemTypeBase prefixes a problem's type URI; the fragment is its code.
const problemTypeBase = "https://creditkit.dev/errors#"

// Problem is an RFC 9457 problem details object with creditkit's stable
// error code. Insufficient credits add needed, available and currency.
type Problem struct {
	Type     string `json:"type" format:"uri" doc:"https://creditkit.dev/errors# followed by the code."`
	Title    string `json:"title" doc:"The HTTP status text."`
	Status   int    `json:"status" doc:"The HTTP status."`
	Detail   string `json:"detail" doc:"What went wrong and what to do about it, for people."`
	Instance string `json:"instance,omitempty"`
	// Code is the stable, machine-readable error code.
	Code string `json:"code" doc:"The stable, machine-readable error code; see docs/api.md for the list."`
	// Customer, Needed and Available (in smallest units of Currency) say
	// who lacked what (insufficient credits only).
	Customer  string            `json:"customer,omitempty" doc:"insufficient_credits: the customer who lacked credits."`
	Needed    *creditkit.Amount `json:"needed,omitempty" doc:"insufficient_credits: what the request needed, in the currency's smallest unit."`
	Available *creditkit.Amount `json:"available,omitempty" doc:"insufficient_credits: what the customer had available."`
	Currency  string            `json:"currency,omitempty" doc:"insufficient_credits: the currency."`
	// OverageLimit and Debt name the wallet's overage limit and what it
	// owes, when it has a limit or a debt (insufficient credits only).
	OverageLimit *creditkit.Amount `json:"overage_limit,omitempty" doc:"insufficient_credits: the wallet's overage limit, when it has one: the request would have taken its debt past it."`
	Debt         *creditkit.Amount `json:"debt,omitempty" doc:"insufficient_credits: what the wallet already owes, when it has an overage limit or a debt."`
	// Errors lists what was wrong with the request, field by field.
	Errors []*huma.ErrorDetail `json:"errors,omitempty" doc:"What was wrong with the request, field by field."`
	// RequestID is the id of the request, also in the X-Request-Id header.
	RequestID string `json:"request_id,omitempty" doc:"The id of the request, also in the X-Request-Id header."`

	retryAfter int
}

// errorStatusDoc describes an error status an operation may answer, for
// the OpenAPI document.
func errorStatusDoc(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "The body is not valid JSON (invalid_request)."
	case http.StatusUnauthorized:
		return "No API key, or an invalid, revoked or expired key or token (unauthorized)."
	case http.StatusPaymentRequired:
		return "The customer lacks credits (insufficient_credits, with customer, needed, available and currency, and overage_limit and debt when the wallet has an overage limit)."
	case http.StatusForbidden:
		return "The key's scope or the token's customer does not allow this call (forbidden)."
	case http.StatusNotFound:
		return "The object in the path does not exist (not_found)."
	case http.StatusConflict:
		return "The Idempotency-Key was used with another request (idempotency_conflict), or the hold or grant is no longer active (hold_not_active, grant_not_active)."
	case http.StatusRequestEntityTooLarge:
		return "The body is larger than the server accepts (request_too_large)."
	case http.StatusUnsupportedMediaType:
		return "The body is not JSON (unsupported_media_type)."
	case http.StatusUnprocessableEntity:
		return "A parameter or field is invalid (invalid_request, invalid_amount, invalid_params, unknown_operation); errors says which."
	case http.StatusInternalServerError:
		return "An unexpected error, logged with the request id (internal)."
	case http.StatusServiceUnavailable:
		return "Retry after Retry-After seconds with the same Idempotency-Key: the server is overloaded or shutting down (overloaded), or a write's outcome is unknown (outcome_unknown). Never assume a 5xx write was not applied."
	}
	return http.StatusText(status)
}

// documentErrors replaces huma's generic error response of an operation
// with the statuses it really answers, each a Problem: those every
// authenticated operation may answer, those its parameters and body imply,
// and extra ones of its own.
func (s *Server) documentErrors(op *huma.Operation, extra []int) {
	statuses := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError, http.StatusServiceUnavailable}
	if len(op.Parameters) > 0 || op.RequestBody != nil {
		statuses = append(statuses, http.StatusUnprocessableEntity)
	}
	if op.RequestBody != nil {
		statuses = append(statuses, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	for _, p := range op.Parameters {
		switch {
		case p.In == "path" && p.Name != "customer":
			statuses = append(statuses, http.StatusNotFound)
		case p.In == "path" && op.Method == http.MethodGet:
			// A read of a customer never seen is customer_not_found.
			statuses = append(statuses, http.StatusNotFound)
		case p.In == "header" && p.Name == "Idempotency-Key":
			statuses = append(statuses, http.StatusConflict)
		}
	}
	statuses = append(statuses, extra...)

	problem := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Problem](), true, "Problem")
	for code := range op.Responses {
		if code == "default" || code[0] == '4' || code[0] == '5' {
			delete(op.Responses, code)
		}
	}
	for _, st := range statuses {
		resp := &huma.Response{Description: errorStatusDoc(st),
			Content: map[string]*huma.MediaType{"application/problem+json": {Schema: problem}}}
		switch st {
		case http.StatusServiceUnavailable:
			resp.Headers = map[string]*huma.Param{"Retry-After": {Description: "Seconds to wait before retrying.", Schema: &huma.Schema{Type: huma.TypeInteger}}}
		case http.StatusUnauthorized:
			resp.Headers = map[string]*huma.Param{"WWW-Authenticate": {Description: "Bearer realm=\"creditkit\"", Schema: &huma.Schema{Type: huma.TypeString}}}
		}
		op.Responses[strconv.Itoa(st)] = resp
	}
}

// Error implements error.
func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// GetHeaders implements huma.HeadersError: overload answers say when to
// retry.
func (p *Problem) GetHeaders() http.Header {
	h := http.Header{}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	return h
}

// newProblem builds a problem with a status, code and detail.
func newProblem(status int, code, detail string) *Problem {
	return &Problem{Type: problemTypeBase + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// statusOf maps the library's error codes to HTTP statuses.
func statusOf(code creditkit.ErrorCode) int {
	switch code {
	case creditkit.CodeInsufficientCredits:
		return http.StatusPaymentRequired
	case creditkit.CodeUnknownOperation, creditkit.CodeInvalidParams, creditkit.CodeInvalidAmount, creditkit.CodeInvalidRequest:
		return http.StatusUnprocessableEntity
	case creditkit.CodeNotFound, creditkit.CodeCustomerNotFound:
		return http.StatusNotFound
	case creditkit.CodeIdempotencyConflict, creditkit.CodeHoldNotActive, creditkit.CodeGrantNotActive, creditkit.CodeCustomerExists,
		creditkit.CodePurchaseConflict:
		return http.StatusConflict
	case creditkit.CodeOverloaded, creditkit.CodeOutcomeUnknown:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// problemFrom turns a library error into a problem. Internal errors are not
// shown to the client (they are logged by the caller).
func problemFrom(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		if p.RequestID == "" {
			// A problem built by a handler names its request too.
			cp := *p
			cp.RequestID = requestID(ctx)
			return &cp
		}
		return p
	}
	code := creditkit.ErrorCodeOf(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		p = newProblem(http.StatusServiceUnavailable, string(creditkit.CodeOverloaded), "the request took too long; retry shortly")
		p.retryAfter = 1
	case errors.Is(err, context.Canceled):
		p = newProblem(499, "canceled", "the request was canceled")
	case code == creditkit.CodeInternal || code == creditkit.CodeInvalidConfig || errors.Is(err, creditkit.ErrClosed):
		p = newProblem(http.StatusInternalServerError, string(creditkit.CodeInternal), "internal error; see the server log for request "+requestID(ctx))
		if errors.Is(err, creditkit.ErrClosed) {
			p = newProblem(http.StatusServiceUnavailable, string(creditkit.CodeOverloaded), "the server is shutting down; retry shortly")
			p.retryAfter = 1
		}
	case code == creditkit.CodeOutcomeUnknown:
		// The cause (a driver error) stays in the server log.
		p = newProblem(http.StatusServiceUnavailable, string(code), "the database failed while committing this write, so it may or may not "+
			"have been applied: retry with the same Idempotency-Key, and never assume it was not charged")
		p.retryAfter = 1
	default:
		p = newProblem(statusOf(code), string(code), err.Error())
		if code == creditkit.CodeOverloaded {
			p.retryAfter = 1
		}
	}
	var ic *creditkit.InsufficientCreditsError
	if errors.As(err, &ic) {
		needed, available := ic.Needed, ic.Available
		p.Customer, p.Needed, p.Available, p.Currency = ic.Customer, &needed, &available, ic.Currency
		if ic.OverageLimit > 0 || ic.Debt > 0 {
			limit, debt := ic.OverageLimit, ic.Debt
			p.OverageLimit, p.Debt = &limit, &debt
		}
	}
	p.RequestID = requestID(ctx)
	return p
}

// codeForStatus names the error code of an error huma wrote itself
// (validation, body too large, bad JSON).
func codeForStatus(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return CodeRequestTooLarge
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return string(creditkit.CodeNotFound)
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusServiceUnavailable:
		return string(creditkit.CodeOverloaded)
	case http.StatusInternalServerError:
		return string(creditkit.CodeInternal)
	}
	return string(creditkit.CodeInvalidRequest)
}

// problemTransformer returns the transformer that turns huma's own error
// bodies into Problems, so that every error has a code: 400 for a body that
// is not JSON, 422 for one that does not match the schema, 413 for one too
// large. registry resolves request body schemas, to name the fields an
// operation takes when a body has one it does not.
func problemTransformer(registry huma.Registry) huma.Transformer {
	return func(ctx huma.Context, status string, v any) (any, error) {
		return transformProblem(registry, ctx, status, v)
	}
}

// transformProblem is problemTransformer's transformer.
func transformProblem(registry huma.Registry, ctx huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	code := codeForStatus(em.Status)
	detail := em.Detail
	var msgs []string
	for _, d := range em.Errors {
		if d == nil {
			continue
		}
		if isAmountError(d.Message) {
			code = string(creditkit.CodeInvalidAmount)
		}
		if m := intFieldError.FindStringSubmatch(d.Message); m != nil {
			// A money or count field given a fraction or a number past
			// int64: say so in the API's words, not the decoder's.
			code = string(creditkit.CodeInvalidAmount)
			d.Message = fmt.Sprintf("%s %s is not a whole number within range: give money in minor units (cents), such as 4900", m[2], m[1])
		}
		if d.Message == validation.MsgUnexpectedProperty {
			// huma's value is the whole object that holds the field.
			d.Message = unknownFieldMessage(registry, ctx.Operation(), d.Location)
			d.Value = nil
		}
		msg := d.Message
		if d.Location != "" {
			msg = d.Location + ": " + msg
		}
		if d.Value != nil && d.Location != "body" {
			msg += " (got " + showValue(d.Value) + ")"
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		// Say what was wrong in the detail too: it is what people read.
		detail += ": " + strings.Join(msgs, "; ")
	}
	p := newProblem(em.Status, code, detail)
	p.Errors = em.Errors
	p.RequestID = requestID(ctx.Context())
	return p, nil
}

// showValue shows a value the caller sent as they wrote it: a string
// quoted, anything else as JSON (not in Go's syntax, such as map[a:1]).
func showValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	if data, err := json.Marshal(v); err == nil {
		return string(data)
	}
	return fmt.Sprint(v)
}

// intFieldError matches the JSON decoder's refusal of a number for an
// integer field (1e30, 2.5), naming the number and the field.
var intFieldError = regexp.MustCompile(`cannot unmarshal number (\S+) into Go struct field \S*?\.?([a-z_]+) of type u?int(?:64|32)?`)

// isAmountError tells whether a decoder message is creditkit.Amount's
// refusal of a number (out of range, or not whole), which keeps the
// library's invalid_amount code.
func isAmountError(msg string) bool {
	return strings.HasPrefix(msg, "amount ") && strings.Contains(msg, "amounts are integers in the currency's smallest unit")
}
