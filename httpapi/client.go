package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit"
)

// DefaultClientTimeout bounds each request of a Client built without its
// own HTTPClient.
const DefaultClientTimeout = 30 * time.Second

// DefaultUserAgent is the User-Agent a Client sends unless told otherwise.
const DefaultUserAgent = "creditkit-go"

// maxErrorBody bounds how much of an error response the client reads.
const maxErrorBody = 1 << 20

// Retry defaults, as Stripe's SDKs have them.
const (
	// DefaultMaxRetries is how many times a Client retries a failed
	// request unless told otherwise.
	DefaultMaxRetries = 2
	// DefaultRetryBaseDelay is the wait before the first retry; each
	// further retry waits twice as long, with jitter.
	DefaultRetryBaseDelay = 500 * time.Millisecond
	// DefaultRetryMaxDelay caps one wait between attempts.
	DefaultRetryMaxDelay = 5 * time.Second
)

// ClientOptions configure a Client. Nil means defaults.
type ClientOptions struct {
	// HTTPClient sends the requests. Defaults to a client with a 30-second
	// timeout.
	HTTPClient *http.Client
	// UserAgent is sent with every request. Defaults to "creditkit-go".
	UserAgent string
	// MaxRetries is how many times a request that failed on the network,
	// or was answered 5xx (503 overloaded or outcome_unknown included), is
	// sent again, under the same Idempotency-Key. Defaults to
	// DefaultMaxRetries (2); negative disables retries.
	MaxRetries int
	// RetryBaseDelay is the wait before the first retry; each further
	// retry waits twice as long, with jitter. Defaults to
	// DefaultRetryBaseDelay (500ms).
	RetryBaseDelay time.Duration
	// RetryMaxDelay caps one wait between attempts. A Retry-After longer
	// than it ends the retries: the server's error is returned. Defaults to
	// DefaultRetryMaxDelay (5s).
	RetryMaxDelay time.Duration
	// Wait pauses between attempts for d, or until ctx is done. Defaults
	// to a timer; tests replace it to see the waits without sleeping.
	Wait func(ctx context.Context, d time.Duration) error
}

// Client calls a creditkit server over its HTTP API. Its ledger methods
// have the signatures of *creditkit.Ledger's, so code written against the
// library can switch to a server by switching the value it calls.
//
// Differences from the library:
//
//   - Options the API has no place for are ignored: Actor (the server
//     records the calling API key as the actor) and SpendOpts.HoldTTL (it
//     only bounds SpendOn, which the API does not have).
//   - Errors the server reports decode back into library errors, so
//     errors.Is(err, creditkit.ErrInsufficientCredits) and
//     creditkit.ErrorCodeOf(err) work as they do on a Ledger: a 402 is a
//     *creditkit.InsufficientCreditsError with Needed and Available (and
//     OverageLimit and Debt on a wallet with overage), and
//     every other error a *creditkit.Error with the server's code. Codes only
//     the API has (CodeUnauthorized, CodeForbidden, ...) keep their string as
//     the ErrorCode.
//   - Every write (grant, void, spend, debit, hold, capture, release,
//     transfer) carries an Idempotency-Key: the option's IdempotencyKey, or
//     one the client generates when it is empty. The client retries a
//     request that failed on the network or was answered 5xx (a 503
//     overloaded or outcome_unknown, a proxy's 502) under that same key,
//     at most MaxRetries times, waiting with exponential backoff and
//     jitter, or as long as the server's Retry-After says; so a write
//     whose answer was lost is applied once, and the retry returns its
//     first result. 4xx answers are never retried. A call is bounded: at
//     most MaxRetries+1 attempts, each within the HTTPClient's timeout,
//     and at most MaxRetries waits of at most RetryMaxDelay each (and ctx
//     ends it all sooner). When the retries run
//     out, the last error is returned: a creditkit.ErrOverloaded or
//     creditkit.ErrOutcomeUnknown error says the write may still have been
//     applied, so retry it with the same key, never assume it was not.
//   - Transport failures are returned wrapped with the method and path;
//     their code is CodeInternal.
//
// A Client is safe for concurrent use.
type Client struct {
	base string // scheme://host[/prefix], without a trailing slash
	key  string
	hc   *http.Client
	ua   string

	maxRetries          int
	baseDelay, maxDelay time.Duration
	wait                func(ctx context.Context, d time.Duration) error

	// decimals caches the server's currencies, read once to word the
	// message of insufficient-credits errors.
	mu       sync.Mutex
	decimals map[string]int
}

// NewClient returns a client of the server at baseURL (such as
// "http://localhost:8080"), authenticated by apiKey: an API key (ck_...)
// or a customer token (ckt_...).
func NewClient(baseURL, apiKey string, opts *ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q must be an absolute http:// or https:// URL, such as http://localhost:8080", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server URL %q must not have a query or fragment", baseURL)
	}
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("an API key or customer token is required to call the server")
	}
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultClientTimeout}
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = DefaultRetryBaseDelay
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = DefaultRetryMaxDelay
	}
	if o.Wait == nil {
		o.Wait = sleep
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), key: strings.TrimSpace(apiKey), hc: o.HTTPClient, ua: o.UserAgent,
		maxRetries: o.MaxRetries, baseDelay: o.RetryBaseDelay, maxDelay: o.RetryMaxDelay, wait: o.Wait}, nil
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Catalog is the server's priced catalog, as GET /v1/operations answers.
type Catalog struct {
	Currencies []CatalogCurrency  `json:"currencies"`
	Operations []CatalogOperation `json:"operations"`
}

// CatalogCurrency is one currency of the catalog; the first is the
// server's default currency.
type CatalogCurrency struct {
	Name     string `json:"name"`
	Decimals int    `json:"decimals"`
}

// CatalogOperation is one priced operation of the catalog.
type CatalogOperation struct {
	Name     string `json:"name"`
	Currency string `json:"currency"`
	// Formula is the price as the config writes it, such as
	// "10 credits + 1 credit per mb".
	Formula string `json:"formula"`
}

// UsageEvent is one usage event for IngestEvents: a charge for an
// operation, made safe to retry by its own idempotency key.
type UsageEvent struct {
	Customer  string           `json:"customer"`
	Operation string           `json:"operation"`
	Params    creditkit.Params `json:"params,omitempty"`
	// IdempotencyKey is required: a replayed event returns the first
	// entry and moves no credit.
	IdempotencyKey string `json:"idempotency_key"`
	// Timestamp is when the usage happened; it is recorded in the entry's
	// metadata. Zero leaves it out.
	Timestamp time.Time         `json:"timestamp,omitzero"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// IngestResult is the outcome of IngestEvents: one result per event, in
// the order sent.
type IngestResult struct {
	Results   []EventResult
	Succeeded int
	Failed    int
}

// EventResult is the outcome of one usage event: the entry it wrote (or
// replayed), or the error that stopped it.
type EventResult struct {
	Index          int
	IdempotencyKey string
	Entry          *creditkit.Entry
	// Err is a library error, as a Ledger's Spend would return.
	Err error
}

// call is one request: where it goes, what it carries, and the customer
// an insufficient-credits answer is about.
type call struct {
	method, path string
	query        url.Values
	body         any
	idem         string
	customer     string
	// write marks a ledger write: it gets a generated Idempotency-Key
	// when idem is empty, so that it can be retried safely.
	write bool
}

// seg escapes one path segment. A segment the server's router would clean
// away ("", ".", "..") is refused here rather than sent to another
// endpoint.
func seg(what, v string) (string, error) {
	switch v {
	case "":
		return "", &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: what + " is empty: give the id your app uses, such as user_42"}
	case ".", "..":
		return "", &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: fmt.Sprintf("%s %q cannot be used in a URL path", what, v)}
	}
	return url.PathEscape(v), nil
}

// timeParam formats an optional instant for a query parameter.
func timeParam(q url.Values, name string, t time.Time) {
	if !t.IsZero() {
		q.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}

// durParam formats an optional duration the way the server parses it.
func durParam(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// timePtr returns nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// do sends a request and decodes a 2xx JSON answer into out (unless nil),
// or returns the error the server reported. A request that failed on the
// network or was answered 5xx is sent again, under the same
// Idempotency-Key, as ClientOptions describe.
func (c *Client) do(ctx context.Context, r call, out any) error {
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode the %s %s request: %w", r.method, r.path, err)
		}
		body = b
	}
	if r.write && r.idem == "" {
		// One key for every attempt: the server applies the write once
		// and answers a retry with the first result.
		r.idem = "ck-" + rand.Text()
	}
	for attempt := 0; ; attempt++ {
		retry, retryAfter, err := c.attempt(ctx, r, target, body, out)
		if err == nil || !retry || attempt >= c.maxRetries || ctx.Err() != nil {
			return err
		}
		d := c.backoff(attempt)
		if retryAfter >= 0 {
			if retryAfter > c.maxDelay {
				// The server asks for a longer pause than the client
				// waits: hand the error back to the caller.
				return err
			}
			d = retryAfter
		}
		if werr := c.wait(ctx, d); werr != nil {
			return err
		}
	}
}

// attempt sends the request once. retry reports whether a failure may be
// retried (a network failure or a 5xx); retryAfter is the server's
// Retry-After, or -1 without one.
func (c *Client) attempt(ctx context.Context, r call, target string, body []byte, out any) (retry bool, retryAfter time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return false, -1, fmt.Errorf("build the %s %s request: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.idem != "" {
		req.Header.Set("Idempotency-Key", r.idem)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The request may or may not have reached the server: retry it
		// under its key.
		return true, -1, fmt.Errorf("creditkit server %s %s: %w", r.method, c.base+r.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := c.decodeError(ctx, resp, r.customer)
		return retryable(resp.StatusCode), parseRetryAfter(resp.Header.Get("Retry-After")), err
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, -1, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		// The write was applied but its answer was cut: a retry under the
		// same key reads the first result.
		return true, -1, fmt.Errorf("read the answer to %s %s: %w", r.method, r.path, err)
	}
	return false, -1, nil
}

// retryable reports whether an answer with this status may be retried:
// every 5xx but 501 Not Implemented and 505 HTTP Version Not Supported,
// which will not change.
func retryable(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported
}

// parseRetryAfter reads a Retry-After header given in seconds; -1 when it
// is absent or not a number of seconds (an HTTP date is ignored, and the
// client's own backoff applies).
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return -1
	}
	return time.Duration(n) * time.Second
}

// backoff is the wait before retry number attempt+1: the base delay
// doubled per attempt, capped, with the upper half of it random (so that
// clients failing together do not come back together).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseDelay
	for i := 0; i < attempt && d < c.maxDelay; i++ {
		d *= 2
	}
	d = min(d, c.maxDelay)
	half := d / 2
	return half + mrand.N(half+1)
}

// decodeError turns an error answer into a library error.
func (c *Client) decodeError(ctx context.Context, resp *http.Response, customer string) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return fmt.Errorf("read the server's %s answer: %w", resp.Status, err)
	}
	var p Problem
	if json.Unmarshal(raw, &p) != nil || p.Code == "" {
		// Not one of the server's problems: a proxy or load balancer
		// answered. Name the code from the status.
		code := codeForStatus(resp.StatusCode)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			code = string(creditkit.CodeOverloaded)
		case resp.StatusCode >= 500 && code == string(creditkit.CodeInvalidRequest):
			code = string(creditkit.CodeInternal)
		}
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg == "" {
			msg = "no details"
		}
		return &creditkit.Error{Code: creditkit.ErrorCode(code), Message: fmt.Sprintf("the server answered %s: %s", resp.Status, oneLine(msg))}
	}
	return c.problemError(ctx, &p, customer)
}

// problemError turns a problem into a library error.
func (c *Client) problemError(ctx context.Context, p *Problem, customer string) error {
	if p.Code == string(creditkit.CodeInsufficientCredits) && p.Needed != nil && p.Available != nil {
		ic := &creditkit.InsufficientCreditsError{Customer: customer, Currency: p.Currency,
			Needed: *p.Needed, Available: *p.Available, Decimals: c.currencyDecimals(ctx, p.Currency)}
		if p.OverageLimit != nil {
			ic.OverageLimit = *p.OverageLimit
		}
		if p.Debt != nil {
			ic.Debt = *p.Debt
		}
		return ic
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if len(p.Errors) > 0 {
		var parts []string
		for _, d := range p.Errors {
			if d == nil {
				continue
			}
			if d.Location != "" {
				parts = append(parts, d.Location+": "+d.Message)
			} else {
				parts = append(parts, d.Message)
			}
		}
		if len(parts) > 0 {
			msg += ": " + strings.Join(parts, "; ")
		}
	}
	return &creditkit.Error{Code: creditkit.ErrorCode(p.Code), Message: msg}
}

// currencyDecimals returns a currency's decimals from the server's
// catalog, read once; 0 when the catalog cannot be read (a customer token
// may not read it).
func (c *Client) currencyDecimals(ctx context.Context, currency string) int {
	c.mu.Lock()
	m := c.decimals
	c.mu.Unlock()
	if m == nil {
		cat, err := c.Catalog(ctx)
		if err != nil {
			return 0
		}
		m = make(map[string]int, len(cat.Currencies))
		for _, cur := range cat.Currencies {
			m[cur.Name] = cur.Decimals
		}
		c.mu.Lock()
		c.decimals = m
		c.mu.Unlock()
	}
	return m[currency]
}

// oneLine folds a multi-line message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// fetch makes a call and decodes its answer into a new T.
func fetch[T any](ctx context.Context, c *Client, r call) (*T, error) {
	var v T
	if err := c.do(ctx, r, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// clientPage is a decoded list answer.
type clientPage[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// Balance returns what a customer has in one currency, as
// Ledger.Balance.
func (c *Client) Balance(ctx context.Context, customer string, opts *creditkit.BalanceOpts) (*creditkit.Balance, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opts != nil {
		if opts.Currency != "" {
			q.Set("currency", opts.Currency)
		}
		timeParam(q, "at", opts.At)
	}
	return fetch[creditkit.Balance](ctx, c, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/balance", query: q})
}

// Grant gives a customer credits, as Ledger.Grant. opts.Actor is ignored.
func (c *Client) Grant(ctx context.Context, customer string, amount creditkit.Amount, opts *creditkit.GrantOpts) (*creditkit.Grant, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.GrantOpts{}
	}
	b := grantBody{Amount: amount, Currency: opts.Currency, Reason: opts.Reason, Source: string(opts.Source), Priority: opts.Priority,
		EffectiveAt: timePtr(opts.EffectiveAt), ExpiresAt: timePtr(opts.ExpiresAt), ExpiresIn: durParam(opts.ExpiresIn),
		CostBasis: opts.CostBasis, Metadata: opts.Metadata, Description: opts.Description}
	if !opts.ExpiresAfter.IsZero() {
		if opts.ExpiresIn != 0 {
			return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "give one of expires_at, expires_in and expires_after, not several"}
		}
		b.ExpiresIn = opts.ExpiresAfter.String()
	}
	return fetch[creditkit.Grant](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/grants", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}

// Grants lists a customer's grants, oldest first, one page at a time, as
// Ledger.Grants.
func (c *Client) Grants(ctx context.Context, customer string, f *creditkit.GrantFilter) ([]*creditkit.Grant, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if f != nil {
		setNonEmpty(q, "currency", f.Currency)
		setNonEmpty(q, "status", string(f.Status))
		setNonEmpty(q, "cursor", f.After)
		if f.Limit != 0 {
			q.Set("limit", strconv.Itoa(f.Limit))
		}
	}
	var p clientPage[*creditkit.Grant]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/grants", query: q}, &p); err != nil {
		return nil, err
	}
	return p.Data, nil
}

// GetGrant returns one grant by ID, as Ledger.GetGrant.
func (c *Client) GetGrant(ctx context.Context, id string) (*creditkit.Grant, error) {
	gid, err := seg("grant id", id)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Grant](ctx, c, call{method: http.MethodGet, path: "/v1/grants/" + gid})
}

// Void removes what is left of a grant, as Ledger.Void. opts.Actor is
// ignored.
func (c *Client) Void(ctx context.Context, grantID string, opts *creditkit.VoidOpts) (*creditkit.Entry, error) {
	gid, err := seg("grant id", grantID)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.VoidOpts{}
	}
	return fetch[creditkit.Entry](ctx, c, call{method: http.MethodPost, path: "/v1/grants/" + gid + "/void", body: voidBody{Reason: opts.Reason, Amount: opts.Amount}, idem: opts.IdempotencyKey, write: true})
}

// Spend charges a customer for an operation, as Ledger.Spend.
// opts.Actor and opts.HoldTTL are ignored.
func (c *Client) Spend(ctx context.Context, customer, operation string, params creditkit.Params, opts *creditkit.SpendOpts) (*creditkit.Entry, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.SpendOpts{}
	}
	b := spendBody{Operation: operation, Params: params, Metadata: opts.Metadata, Description: opts.Description}
	return fetch[creditkit.Entry](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/spend", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}

// Debit removes a raw amount of credits from a customer, as Ledger.Debit.
// opts.Actor is ignored.
func (c *Client) Debit(ctx context.Context, customer string, amount creditkit.Amount, opts *creditkit.DebitOpts) (*creditkit.Entry, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.DebitOpts{}
	}
	b := spendBody{Amount: &amount, Currency: opts.Currency, Reason: opts.Reason, Metadata: opts.Metadata, Description: opts.Description}
	return fetch[creditkit.Entry](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/spend", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}

// Estimate prices an operation without touching any wallet, as
// Ledger.Estimate.
func (c *Client) Estimate(ctx context.Context, operation string, params creditkit.Params) (creditkit.Amount, error) {
	var out estimateOut
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/estimate", body: checkBody{Operation: operation, Params: params}}, &out); err != nil {
		return 0, err
	}
	return out.Cost, nil
}

// Check prices an operation and compares it with what the customer can
// spend now, as Ledger.Check.
func (c *Client) Check(ctx context.Context, customer, operation string, params creditkit.Params) (*creditkit.Check, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Check](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/check", body: checkRequestBody{Operation: operation, Params: params}, customer: customer})
}

// CheckAmount compares a raw amount with what the customer can spend now,
// as Ledger.CheckAmount (currency "" is the server's default currency).
func (c *Client) CheckAmount(ctx context.Context, customer string, amount creditkit.Amount, currency string) (*creditkit.Check, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Check](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/check", body: checkRequestBody{Amount: &amount, Currency: currency}, customer: customer})
}

// CanAfford reports whether the customer has the credits an operation
// costs right now, as Ledger.CanAfford.
func (c *Client) CanAfford(ctx context.Context, customer, operation string, params creditkit.Params) (bool, error) {
	ch, err := c.Check(ctx, customer, operation, params)
	if err != nil {
		return false, err
	}
	return ch.Allowed, nil
}

// Hold reserves the cost of an operation (or opts.Amount) for an
// operation in flight, as Ledger.Hold. opts.Actor is ignored.
func (c *Client) Hold(ctx context.Context, customer, operation string, params creditkit.Params, opts *creditkit.HoldOpts) (*creditkit.Hold, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.HoldOpts{}
	}
	b := holdBody{Operation: operation, Params: params, Amount: opts.Amount, Currency: opts.Currency, TTL: durParam(opts.TTL), Metadata: opts.Metadata}
	return fetch[creditkit.Hold](ctx, c, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/holds", body: b, idem: opts.IdempotencyKey, customer: customer, write: true})
}

// GetHold returns a hold by ID, as Ledger.GetHold.
func (c *Client) GetHold(ctx context.Context, holdID string) (*creditkit.Hold, error) {
	hid, err := seg("hold id", holdID)
	if err != nil {
		return nil, err
	}
	return fetch[creditkit.Hold](ctx, c, call{method: http.MethodGet, path: "/v1/holds/" + hid})
}

// Capture charges a hold, all of it when amount is nil, as
// Ledger.Capture. opts.Actor is ignored.
func (c *Client) Capture(ctx context.Context, holdID string, amount *creditkit.Amount, opts *creditkit.CaptureOpts) (*creditkit.Entry, error) {
	hid, err := seg("hold id", holdID)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.CaptureOpts{}
	}
	return fetch[creditkit.Entry](ctx, c, call{method: http.MethodPost, path: "/v1/holds/" + hid + "/capture", body: captureBody{Amount: amount, Metadata: opts.Metadata}, idem: opts.IdempotencyKey, write: true})
}

// Release cancels a hold, as Ledger.Release. opts.Actor is ignored.
func (c *Client) Release(ctx context.Context, holdID string, opts *creditkit.CaptureOpts) (*creditkit.Hold, error) {
	hid, err := seg("hold id", holdID)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &creditkit.CaptureOpts{}
	}
	return fetch[creditkit.Hold](ctx, c, call{method: http.MethodPost, path: "/v1/holds/" + hid + "/release", body: releaseBody{Metadata: opts.Metadata}, idem: opts.IdempotencyKey, write: true})
}

// Transfer moves credits from one customer to another, as
// Ledger.Transfer. opts.Actor is ignored.
func (c *Client) Transfer(ctx context.Context, from, to string, amount creditkit.Amount, opts *creditkit.TransferOpts) (*creditkit.TransferResult, error) {
	if opts == nil {
		opts = &creditkit.TransferOpts{}
	}
	b := transferBody{From: from, To: to, Amount: amount, Currency: opts.Currency, Evergreen: opts.Evergreen, Metadata: opts.Metadata,
		Description: opts.Description}
	return fetch[creditkit.TransferResult](ctx, c, call{method: http.MethodPost, path: "/v1/transfers", body: b, idem: opts.IdempotencyKey, customer: from, write: true})
}

// History lists a customer's ledger entries, one page at a time, as
// Ledger.History.
func (c *Client) History(ctx context.Context, customer string, f *creditkit.HistoryFilter) ([]*creditkit.Entry, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if f != nil {
		setNonEmpty(q, "currency", f.Currency)
		setNonEmpty(q, "category", f.Category)
		setNonEmpty(q, "operation", f.Operation)
		setNonEmpty(q, "cursor", f.After)
		timeParam(q, "since", f.Since)
		timeParam(q, "until", f.Until)
		if f.Limit != 0 {
			q.Set("limit", strconv.Itoa(f.Limit))
		}
		if f.Newest {
			q.Set("order", "desc")
		}
	}
	var p clientPage[*creditkit.Entry]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/ledger", query: q}, &p); err != nil {
		return nil, err
	}
	return p.Data, nil
}

// Usage sums what a customer was charged, by period and operation, as
// Ledger.Usage.
func (c *Client) Usage(ctx context.Context, customer string, uq *creditkit.UsageQuery) ([]creditkit.UsageRow, error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if uq != nil {
		setNonEmpty(q, "currency", uq.Currency)
		setNonEmpty(q, "interval", uq.Interval)
		timeParam(q, "since", uq.Since)
		timeParam(q, "until", uq.Until)
		if uq.ByOperation {
			q.Set("by", "operation")
		}
	}
	var p clientPage[creditkit.UsageRow]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/customers/" + cu + "/usage", query: q}, &p); err != nil {
		return nil, err
	}
	return p.Data, nil
}

// RunDue settles what fell due, as Ledger.RunDue. It needs an admin key.
func (c *Client) RunDue(ctx context.Context) (creditkit.DueResult, error) {
	var r creditkit.DueResult
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/admin/run-due"}, &r); err != nil {
		return creditkit.DueResult{}, err
	}
	return r, nil
}

// Revenue reports money sold, recognized, broken, voided and deferred
// over a range, as Ledger.Revenue. It needs a read key.
func (c *Client) Revenue(ctx context.Context, opts *creditkit.RevenueOpts) (*creditkit.RevenueReport, error) {
	q := url.Values{}
	if opts != nil {
		timeParam(q, "from", opts.From)
		timeParam(q, "to", opts.To)
		setNonEmpty(q, "customer", opts.Customer)
	}
	return fetch[creditkit.RevenueReport](ctx, c, call{method: http.MethodGet, path: "/v1/reports/revenue", query: q})
}

// Catalog returns the server's currencies and priced operations.
func (c *Client) Catalog(ctx context.Context) (*Catalog, error) {
	return fetch[Catalog](ctx, c, call{method: http.MethodGet, path: "/v1/operations"})
}

// IngestEvents charges a batch of usage events (at most 1000), each on its
// own: one event's failure does not stop the others, and each result says
// what happened to its event. The error is for the batch as a whole (such
// as a bad key, or an invalid event).
func (c *Client) IngestEvents(ctx context.Context, events []UsageEvent) (*IngestResult, error) {
	var out struct {
		Results []struct {
			Index          int              `json:"index"`
			IdempotencyKey string           `json:"idempotency_key"`
			Entry          *creditkit.Entry `json:"entry"`
			Error          *Problem         `json:"error"`
		} `json:"results"`
		Succeeded int `json:"succeeded"`
		Failed    int `json:"failed"`
	}
	if events == nil {
		events = []UsageEvent{}
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/events", body: events}, &out); err != nil {
		return nil, err
	}
	res := &IngestResult{Results: make([]EventResult, len(out.Results)), Succeeded: out.Succeeded, Failed: out.Failed}
	for i, r := range out.Results {
		res.Results[i] = EventResult{Index: r.Index, IdempotencyKey: r.IdempotencyKey, Entry: r.Entry}
		if r.Error != nil {
			customer := ""
			if r.Index >= 0 && r.Index < len(events) {
				customer = events[r.Index].Customer
			}
			res.Results[i].Err = c.problemError(ctx, r.Error, customer)
		}
	}
	return res, nil
}

// CreateToken mints a customer token: a secret that reads one customer's
// balance, grants, ledger and usage until it expires, for a browser or an
// app to call the API with. A ttl of 0 means the server's default (15
// minutes); at most 24 hours. It needs a write key.
func (c *Client) CreateToken(ctx context.Context, customer string, ttl time.Duration) (token string, expires time.Time, err error) {
	cu, err := seg("customer", customer)
	if err != nil {
		return "", time.Time{}, err
	}
	var out tokenOut
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/customers/" + cu + "/tokens", body: tokenBody{TTL: durParam(ttl)}}, &out); err != nil {
		return "", time.Time{}, err
	}
	return out.Token, out.ExpiresAt, nil
}

// setNonEmpty sets a query parameter when v is not empty.
func setNonEmpty(q url.Values, name, v string) {
	if v != "" {
		q.Set(name, v)
	}
}
