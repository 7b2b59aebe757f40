package creditkit

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on caller input, checked before anything is written.
const (
	maxIDLength       = 255
	maxMetadataKeys   = 50
	maxMetadataKeyLen = 40
	maxMetadataValLen = 500
	maxIdemKeyLength  = 255
)

// checkID validates a caller-chosen identifier such as a customer id.
func checkID(what, id string) error {
	if id == "" {
		return errorf(CodeInvalidRequest, "%s is empty: give the id your app uses, such as user_42", what)
	}
	if len(id) > maxIDLength {
		return errorf(CodeInvalidRequest, "%s is %d bytes long; the limit is %d", what, len(id), maxIDLength)
	}
	if !utf8.ValidString(id) {
		return errorf(CodeInvalidRequest, "%s is not valid UTF-8", what)
	}
	if id == "." || id == ".." {
		// No URL can name it: clients and servers read it as a path step.
		return errorf(CodeInvalidRequest, "%s %q is a path step, not an id: give the id your app uses, such as user_42", what, id)
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return errorf(CodeInvalidRequest, "%s %q contains whitespace or control characters", what, id)
		}
	}
	return nil
}

// checkMetadata enforces the metadata limits: at most 50 keys, keys up to
// 40 characters, values up to 500, all of them text (storedtext.go).
func checkMetadata(m map[string]string) error {
	if len(m) > maxMetadataKeys {
		return errorf(CodeInvalidRequest, "metadata has %d keys; the limit is %d", len(m), maxMetadataKeys)
	}
	for k, v := range m {
		if k == "" || utf8.RuneCountInString(k) > maxMetadataKeyLen {
			return errorf(CodeInvalidRequest, "metadata key %q must be 1 to %d characters", k, maxMetadataKeyLen)
		}
		if utf8.RuneCountInString(v) > maxMetadataValLen {
			return errorf(CodeInvalidRequest, "metadata value of %q is %d characters; the limit is %d", k, utf8.RuneCountInString(v), maxMetadataValLen)
		}
	}
	return checkMetadataText("metadata", m)
}

// checkIdemKey validates an idempotency key.
func checkIdemKey(key string) error {
	if len(key) > maxIdemKeyLength {
		return errorf(CodeInvalidRequest, "idempotency key is %d bytes long; the limit is %d", len(key), maxIdemKeyLength)
	}
	if !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		// Stores keep keys as text: PostgreSQL refuses the bytes (and
		// NUL), and SQLite's batched lookup (a JSON array) cannot find
		// invalid UTF-8 again.
		return errorf(CodeInvalidRequest, "idempotency key %q is not valid UTF-8 text without NUL characters", key)
	}
	return nil
}

// checkText validates free text that is stored as given (a void's or a
// reversal's reason): valid UTF-8 without NUL characters, which the
// stores cannot keep (PostgreSQL refuses them).
// IsText reports whether s can be stored and shown as text: valid UTF-8
// with no NUL character (PostgreSQL refuses both). The library checks every
// ID and label it is given with it; the HTTP API and the dashboard use it
// to refuse a path, query or form value before any lookup.
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return errorf(CodeInvalidRequest, "%s is not valid UTF-8: send text encoded as UTF-8", what)
	}
	if strings.ContainsRune(s, 0) {
		return errorf(CodeInvalidRequest, "%s contains a NUL character: send plain text", what)
	}
	return nil
}

// checkPositive validates a credit amount that must be above zero.
func checkPositive(what string, a Amount) error {
	if a <= 0 {
		return errorf(CodeInvalidAmount, "%s must be greater than zero, got %d", what, a)
	}
	return nil
}

// checkCategory validates a ledger category chosen by the caller.
func checkCategory(what, c string) error {
	if c == "" || len(c) > 64 {
		return errorf(CodeInvalidRequest, "%s must be 1 to 64 characters", what)
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return errorf(CodeInvalidRequest, "%s %q may use only lowercase letters, digits, '_', '.' and '-'", what, c)
		}
	}
	return nil
}

// currency resolves a currency name ("" is the default currency).
func (l *Ledger) currency(name string) (Currency, error) {
	c, ok := l.cfg.Currency(name)
	if !ok {
		names := make([]string, len(l.cfg.currencies()))
		for i, c := range l.cfg.currencies() {
			names[i] = c.Name
		}
		return Currency{}, errorf(CodeInvalidRequest, "unknown currency %q: configured currencies are %s", name, strings.Join(names, ", "))
	}
	return c, nil
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// rawMovement is what a grant or a debit of a raw amount shares, checked in
// one place before anything is written.
type rawMovement struct {
	what          string // "grant", "debit": names the amount in messages
	customer      string
	amount        Amount
	currency      string
	reason        string
	defaultReason string
	metadata      map[string]string
	idemKey       string
}

// check validates the movement and resolves its currency and category.
func (m rawMovement) check(l *Ledger) (Currency, string, error) {
	if err := checkID("customer", m.customer); err != nil {
		return Currency{}, "", err
	}
	if err := checkPositive(m.what+" amount", m.amount); err != nil {
		return Currency{}, "", err
	}
	cur, err := l.currency(m.currency)
	if err != nil {
		return Currency{}, "", err
	}
	reason := m.reason
	if reason == "" {
		reason = m.defaultReason
	}
	if err := checkCategory("reason", reason); err != nil {
		return Currency{}, "", err
	}
	if err := checkMetadata(m.metadata); err != nil {
		return Currency{}, "", err
	}
	if err := checkIdemKey(m.idemKey); err != nil {
		return Currency{}, "", err
	}
	return cur, reason, nil
}

// Limits on params, the same as on metadata: params are stored in the
// append-only ledger with every charge, so their size is bounded too.
const (
	maxParams        = 50
	maxParamKeyLen   = 40
	maxParamValueLen = 500
)

// checkParamsSize enforces the params limits: at most 50 params, names of 1
// to 40 characters, and values of at most 500 characters (a string's
// characters, or any other value's JSON text), every string in them text. A value that has no JSON
// form (NaN, a channel) is refused too, since it could not be stored.
func checkParamsSize(p Params) error {
	if err := checkParamsText(p); err != nil {
		return err
	}
	if len(p) > maxParams {
		return errorf(CodeInvalidParams, "params has %d keys; the limit is %d", len(p), maxParams)
	}
	for k, v := range p {
		if k == "" || utf8.RuneCountInString(k) > maxParamKeyLen {
			return errorf(CodeInvalidParams, "param name %q must be 1 to %d characters", truncateForMessage(k), maxParamKeyLen)
		}
		var n int
		if s, ok := v.(string); ok {
			n = utf8.RuneCountInString(s)
		} else {
			data, err := json.Marshal(v)
			if err != nil {
				return errorf(CodeInvalidParams, "param %s is %s, which cannot be stored: give a number or a string", k, describeParam(v))
			}
			n = utf8.RuneCount(data)
		}
		if n > maxParamValueLen {
			return errorf(CodeInvalidParams, "param %s is %d characters long; the limit is %d", k, n, maxParamValueLen)
		}
	}
	return nil
}

// truncateForMessage shortens s to at most 60 characters for an error
// message.
func truncateForMessage(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:60]) + "..."
}

// showDuration prints a duration for a message in the words a user writes
// it in ("-5 days", "1 day 12 hours", "90 minutes"), which ParseSpan reads
// back, rather than Go's form (-120h0m0s).
func showDuration(d time.Duration) string {
	if d < 0 {
		return "-" + showDuration(-d)
	}
	return Span{Days: int(d / durDay), Duration: d % durDay}.Words()
}
