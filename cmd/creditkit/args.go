package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
)

// invalid returns a creditkit error with code, so that argument errors have
// the same codes as the library's.
func invalid(code creditkit.ErrorCode, format string, args ...any) error {
	return &creditkit.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// parseAmount parses a decimal amount such as "12.5" in the smallest unit of
// the named currency ("" is the default currency).
func parseAmount(cfg *creditkit.Config, s, currency string) (creditkit.Amount, error) {
	cur, err := currencyOf(cfg, currency)
	if err != nil {
		return 0, err
	}
	return creditkit.ParseAmount(s, cur.Decimals)
}

// currencyOf returns the named currency ("" is the default) or an error
// listing the configured ones.
func currencyOf(cfg *creditkit.Config, name string) (creditkit.Currency, error) {
	cur, ok := cfg.Currency(name)
	if !ok {
		names := make([]string, 0, len(cfg.Currencies))
		for _, c := range cfg.Currencies {
			names = append(names, c.Name)
		}
		return creditkit.Currency{}, invalid(creditkit.CodeInvalidRequest, "unknown currency %q: configured currencies are %s", name, strings.Join(names, ", "))
	}
	return cur, nil
}

// parseTime parses an RFC 3339 time ("2025-01-31T12:00:00Z") or a date
// ("2025-01-31", midnight UTC). Empty is the zero time.
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, invalid(creditkit.CodeInvalidRequest, "--%s %q is not a time: give RFC 3339 such as 2025-01-31T12:00:00Z, or a date such as 2025-01-31", flag, s)
}

// parseDuration parses a duration such as "30d", "12h" or "1y". Empty is 0.
func parseDuration(flag, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := creditkit.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", flag, err)
	}
	return d, nil
}

// parsePairs parses KEY=VALUE arguments; what names them in errors.
func parsePairs(what string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, invalid(creditkit.CodeInvalidRequest, "%s %q is not KEY=VALUE: write it like mb=5.2", what, p)
		}
		if _, dup := out[k]; dup {
			return nil, invalid(creditkit.CodeInvalidRequest, "%s %s is given twice: give each key once", what, k)
		}
		out[k] = v
	}
	return out, nil
}

// parseMeta parses --meta KEY=VALUE flags.
func parseMeta(pairs []string) (map[string]string, error) {
	return parsePairs("--meta", pairs)
}

// jsonNumberRE matches a JSON number literal.
var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseParams parses PARAM=VALUE arguments into operation params. A value
// written as a number (tokens=2000, mb=5.2) is a json.Number, so the
// ledger records a number, as when the API receives {"tokens": 2000}, and
// the pricing still reads its exact decimal; any other value stays a
// string.
func parseParams(pairs []string) (creditkit.Params, error) {
	m, err := parsePairs("param", pairs)
	if err != nil || m == nil {
		return nil, invalidParams(err)
	}
	p := make(creditkit.Params, len(m))
	for k, v := range m {
		if jsonNumberRE.MatchString(v) {
			p[k] = json.Number(v)
		} else {
			p[k] = v
		}
	}
	return p, nil
}

// invalidParams gives param syntax errors the invalid_params code.
func invalidParams(err error) error {
	if err == nil {
		return nil
	}
	return invalid(creditkit.CodeInvalidParams, "%s", err.Error())
}

// amountAndMeta reads a command's AMOUNT argument in its currency's units
// and its --meta pairs.
func (s *session) amountAndMeta(amount, currency string, meta []string) (creditkit.Amount, map[string]string, error) {
	cfg, err := s.config()
	if err != nil {
		return 0, nil, err
	}
	a, err := parseAmount(cfg, amount, currency)
	if err != nil {
		return 0, nil, err
	}
	m, err := parseMeta(meta)
	if err != nil {
		return 0, nil, err
	}
	return a, m, nil
}
