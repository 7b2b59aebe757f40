package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/store"
)

// The audit log of the API (see package audit).
//
// What is recorded: every call of a write or admin endpoint (any method but
// GET) made with an API key, whether it succeeded or not, with the key's ID
// and name, the request ID, an action named after the endpoint, the
// customer and object concerned, the body's reason, and the outcome (ok or
// the error code). A call refused because the key's scope is too narrow is
// recorded too, with outcome "forbidden": someone with a valid key tried.
//
// What is not: reads; calls without a valid API key (401: no actor is known,
// and recording them would let anyone fill the log); customer tokens (they
// only read; a token's refused write moves nothing); and application
// traffic that is not an admin action: spend, create-hold and ingest-events,
// whose ledger entries already carry the key as their actor. Holds are
// captured and released by applications all day, so capture-hold and
// release-hold are recorded only when an admin key makes them: those are
// the captures and releases an admin did.
//
// Order: the row is written after the handler finished (its ledger write
// committed or failed) and before the response leaves, so a client that has
// its answer finds the row. An audit insert that fails never undoes or
// repeats the ledger write: the write stands, the response is the write's,
// and the failure is logged at error level with every field of the lost row
// and counted in creditkit_audit_failures_total. A crash between the
// ledger's commit and the audit insert loses the row; the ledger entries
// still name the key as their actor.

// Actions of endpoints whose name does not follow from the operation ID.
var auditActionNames = map[string]string{
	"put-subscription": audit.ActionSubscriptionChange,
	"transfer":         "credits.transfer",
	"run-due":          "admin.run_due",
}

// Write endpoints that are application traffic, not admin actions.
var auditSkipped = map[string]bool{"spend": true, "create-hold": true, "ingest-events": true}

// Write endpoints recorded only when an admin key calls them.
var auditAdminOnly = map[string]bool{"capture-hold": true, "release-hold": true}

// auditAction returns the action an operation is recorded as, or "" when
// calls of it are not recorded. An operation ID "verb-object-words" is the
// action "object_words.verb": create-webhook-endpoint is
// webhook_endpoint.create.
func auditAction(op *huma.Operation) string {
	scope, _ := op.Metadata["scope"].(string)
	if op.Method == http.MethodGet || op.Method == http.MethodHead || (scope != store.ScopeWrite && scope != store.ScopeAdmin) || auditSkipped[op.OperationID] {
		return ""
	}
	if a, ok := auditActionNames[op.OperationID]; ok {
		return a
	}
	verb, object, ok := strings.Cut(op.OperationID, "-")
	if !ok {
		return op.OperationID
	}
	return strings.ReplaceAll(object, "-", "_") + "." + verb
}

// auditor records the API's admin actions.
type auditor struct {
	log      *audit.Log // nil when the store keeps no audit log
	recorded prometheus.Counter
	failures prometheus.Counter
}

// newAuditor finds the audit log in the server store, else in the ledger's
// store, and registers its metrics.
func newAuditor(l *creditkit.Ledger, st store.ServerStore, reg prometheus.Registerer) (*auditor, error) {
	a := &auditor{
		recorded: prometheus.NewCounter(prometheus.CounterOpts{Name: "creditkit_audit_records_total",
			Help: "Audit log rows the API wrote."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "creditkit_audit_failures_total",
			Help: "Audit log rows the API, or the dashboard beside it, failed to write (each is logged at error level with its fields)."}),
	}
	for _, c := range []prometheus.Collector{a.recorded, a.failures} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if as, ok := st.(store.AuditStore); ok {
		a.log = audit.New(as, l.Now).WithFailures(a.failures)
	} else if as, ok := l.Store().(store.AuditStore); ok {
		a.log = audit.New(as, l.Now).WithFailures(a.failures)
	}
	return a, nil
}

// AuditLog returns the audit log the server records into, for handlers
// mounted beside the API (the dashboard) to record their own actions; nil
// when the store keeps none. Its RecordOrReport counts a row it fails to
// write in creditkit_audit_failures_total, as the API's own rows are.
func (s *Server) AuditLog() *audit.Log { return s.audit.log }

// RequestID returns the request ID (the X-Request-Id answered) of the
// request ctx belongs to, or "": handlers mounted beside the API (Mount)
// put it in the audit records they write.
func RequestID(ctx context.Context) string { return requestID(ctx) }

// maxAuditCapture bounds how much of a request body an audit row keeps.
const maxAuditCapture = 16 << 10

// auditContext is the huma context of an audited call: it keeps a copy of
// the request body as the handler reads it, and holds the response back
// until the audit row is written.
type auditContext struct {
	humaContext
	in  captureReader
	out bytes.Buffer
}

func (c *auditContext) BodyReader() io.Reader { return &c.in }
func (c *auditContext) BodyWriter() io.Writer { return &c.out }

// Unwrap returns the context it wraps.
func (c *auditContext) Unwrap() huma.Context { return c.humaContext }

// humaContext names the embedded huma.Context, whose field would otherwise
// clash with its Context method.
type humaContext = huma.Context

// captureReader reads a body and keeps its first maxAuditCapture bytes.
type captureReader struct {
	r         io.Reader
	buf       bytes.Buffer
	truncated bool
}

func (c *captureReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if room := maxAuditCapture - c.buf.Len(); room >= n {
			c.buf.Write(p[:n])
		} else {
			c.truncated = true
		}
	}
	return n, err
}

// recordAudit is the huma middleware that records admin actions; it runs
// outside authenticate, so that calls authenticate refuses reach it too.
func (s *Server) recordAudit(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	action := auditAction(op)
	if action == "" || s.audit.log == nil {
		next(ctx)
		return
	}
	ac := &auditContext{humaContext: ctx}
	ac.in.r = ctx.BodyReader()
	defer func() {
		if v := recover(); v != nil {
			s.writeAudit(ac, action, http.StatusInternalServerError)
			panic(v)
		}
	}()
	next(ac)
	// A call refused before its handler ran (by authenticate, say) left its
	// body unread: read what the row keeps of it.
	_, _ = io.Copy(io.Discard, io.LimitReader(&ac.in, maxAuditCapture+1))
	status := ctx.Status()
	if status == 0 {
		status = http.StatusOK
	}
	s.writeAudit(ac, action, status)
	if _, err := ctx.BodyWriter().Write(ac.out.Bytes()); err != nil {
		s.log.Debug("writing a response failed", "request_id", requestID(ctx.Context()), "err", err)
	}
}

// writeAudit records one call, if its caller is an API key the audit log
// records.
func (s *Server) writeAudit(ac *auditContext, action string, status int) {
	ctx := ac.Context()
	key := s.auditKey(ctx, ac.Header("Authorization"))
	op := ac.Operation()
	if key == nil || (auditAdminOnly[op.OperationID] && key.Scope != store.ScopeAdmin) {
		return
	}
	r := audit.Record{ActorKind: audit.ActorAPIKey, ActorID: key.ID, ActorName: key.Name, RequestID: requestID(ctx),
		Action: action, Customer: ac.Param("customer"), Outcome: audit.OutcomeOK}
	details := map[string]any{"method": op.Method, "path": ac.URL().Path, "status": status}
	if idem := ac.Header("Idempotency-Key"); idem != "" {
		details["idempotency_key"] = idem
	}
	if q := ac.URL().RawQuery; q != "" {
		details["query"] = redactQuery(q)
	}
	for _, name := range pathParams(op.Path) {
		if name != "customer" {
			r.Target = ac.Param(name)
		}
	}
	var req map[string]any
	if ac.in.truncated {
		details["request_truncated"] = true
	} else if ac.in.buf.Len() > 0 && json.Unmarshal(ac.in.buf.Bytes(), &req) == nil && req != nil {
		// A description is the caller's words; a grant's reason is its
		// ledger category (signup_bonus), a void's or a correction's is
		// the why.
		r.Reason = stringField(req, "description")
		if r.Reason == "" {
			r.Reason = stringField(req, "reason")
		}
		details["request"] = audit.Redact(req)
	}
	var resp map[string]any
	if status >= 400 {
		var p Problem
		r.Outcome = "http_" + strconv.Itoa(status)
		if json.Unmarshal(ac.out.Bytes(), &p) == nil && p.Code != "" {
			r.Outcome, details["error"] = p.Code, p.Detail
		}
	} else if json.Unmarshal(ac.out.Bytes(), &resp) != nil {
		resp = nil
	}
	// The target: the path's object, else the answer's id (what was
	// created), else what the request names (a customer's id, a
	// transfer's receiver).
	for _, t := range []string{stringField(resp, "id"), stringField(req, "id"), stringField(req, "to")} {
		if r.Target == "" {
			r.Target = t
		}
	}
	for _, c := range []string{stringField(resp, "customer"), stringField(req, "customer"), stringField(req, "from")} {
		if r.Customer == "" {
			r.Customer = c
		}
	}
	if id := stringField(resp, "id"); id != "" && id != r.Target {
		details["result_id"] = id
	}
	if r.Customer == "" && strings.HasPrefix(action, "customer.") {
		r.Customer = r.Target
	}
	r.Details = details

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.audit.log.RecordOrReport(wctx, s.log, r); err != nil {
		return // logged and counted
	}
	s.audit.recorded.Inc()
}

// auditKey returns the API key a call authenticates with: a key that
// exists and is not revoked, or nil (no key, a customer token, an unknown
// or revoked key). authenticate has just looked it up, so the key cache
// answers.
func (s *Server) auditKey(ctx context.Context, header string) *store.APIKey {
	scheme, credential, _ := strings.Cut(strings.TrimSpace(header), " ")
	secret := strings.TrimSpace(credential)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" || strings.HasPrefix(secret, auth.TokenPrefix) {
		return nil
	}
	k, err := s.keys.lookup(ctx, s.st, secret, s.ledger.Now())
	if err != nil || k == nil || k.RevokedAt != nil {
		return nil
	}
	return k
}

// pathParams lists the {names} of a path pattern, in order.
func pathParams(path string) []string {
	var names []string
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			names = append(names, part[1:len(part)-1])
		}
	}
	return names
}

// stringField returns m[name] when it is a string.
func stringField(m map[string]any, name string) string {
	s, _ := m[name].(string)
	return s
}

// redactQuery is a raw query string as the audit log keeps it: each value
// redacted as audit.Redact redacts a field of that name.
func redactQuery(raw string) string {
	vs, err := url.ParseQuery(raw)
	if err != nil {
		return audit.Redacted
	}
	out := url.Values{}
	for k, list := range vs {
		for _, v := range list {
			r, _ := audit.Redact(map[string]any{k: v}).(map[string]any)
			s, _ := r[k].(string)
			out.Add(k, s)
		}
	}
	return out.Encode()
}

// auditRecord is an audit record as the API shows it (named AuditRecord in
// the OpenAPI document).
type auditRecord audit.Record

// auditRoutes registers GET /v1/audit.
func (s *Server) auditRoutes() {
	register(s, route{id: "list-audit", method: http.MethodGet, path: "/v1/audit", summary: "List the audit log of admin actions, newest first", tag: "Audit", scope: store.ScopeRead},
		func(ctx context.Context, in *struct {
			Actor    string `query:"actor" maxLength:"255" doc:"An API key ID (key_...) or name: only its actions."`
			Action   string `query:"action" maxLength:"255" doc:"Only this action, such as grant.void; grant.* selects every grant action."`
			Customer string `query:"customer" maxLength:"255" doc:"Only actions concerning this customer."`
			From     string `query:"from" doc:"RFC 3339; actions at or after."`
			To       string `query:"to" doc:"RFC 3339; actions before."`
			PageParams
		}) (*body[page[*auditRecord]], error) {
			if s.audit.log == nil {
				return nil, &creditkit.Error{Code: creditkit.CodeInternal, Message: "this server's store keeps no audit log"}
			}
			from, err := parseTime("from", in.From)
			if err != nil {
				return nil, err
			}
			to, err := parseTime("to", in.To)
			if err != nil {
				return nil, err
			}
			rs, next, err := s.audit.log.List(ctx, audit.Filter{Actor: in.Actor, Action: in.Action, Customer: in.Customer,
				From: from, To: to, After: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			out := make([]*auditRecord, len(rs))
			for i, r := range rs {
				out[i] = (*auditRecord)(r)
			}
			return &body[page[*auditRecord]]{page[*auditRecord]{Data: out, NextCursor: next}}, nil
		})
}

// Audit lists the server's audit log, newest first, as audit.Log.List:
// one page and the cursor of the next ("" on the last page).
func (c *Client) Audit(ctx context.Context, f audit.Filter) ([]*audit.Record, string, error) {
	q := url.Values{}
	setNonEmpty(q, "actor", f.Actor)
	setNonEmpty(q, "action", f.Action)
	setNonEmpty(q, "customer", f.Customer)
	setNonEmpty(q, "cursor", f.After)
	timeParam(q, "from", f.From)
	timeParam(q, "to", f.To)
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var p clientPage[*audit.Record]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/audit", query: q}, &p); err != nil {
		return nil, "", err
	}
	return p.Data, p.NextCursor, nil
}
