package audit

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a value the audit log must not keep.
const Redacted = "[redacted]"

// Redact returns a copy of v (a decoded JSON value: maps, slices, strings,
// numbers) that is safe for the audit log, which read keys list:
//
//   - a field whose name says secret, password or token is replaced by
//     Redacted, whatever its value;
//   - every string, at any depth and under any field name, that is an
//     absolute URL (a scheme and a host) keeps only scheme://host: its
//     user info, path, query and fragment are dropped, since webhook URLs
//     of Slack, Discord or Zapier carry their secret in the path, and
//     others in the query or user info;
//   - a string that looks like a URL but does not parse is Redacted;
//   - a URL inside other text is reduced the same way (RedactURLsInText).
//
// Log.Record applies it to every record's details, so every recorder (the
// API, the dashboard, the CLI) keeps secrets out.
func Redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "secret") || strings.Contains(lk, "password") || strings.Contains(lk, "token") {
				out[k] = Redacted
				continue
			}
			out[k] = Redact(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = Redact(x)
		}
		return out
	case []string:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = RedactURL(x)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = x
		}
		return Redact(out)
	case string:
		if r := RedactURL(v); r != v {
			return r
		}
		return RedactURLsInText(v)
	}
	return v
}

// RedactURL returns s as scheme://host when s is an absolute URL (it has a
// scheme and a host), Redacted when s looks like one ("scheme://...") but
// does not parse, and s itself otherwise.
func RedactURL(s string) string {
	t := strings.TrimSpace(s)
	u, err := url.Parse(t)
	if err == nil && u.Scheme != "" && u.Host != "" {
		return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
	}
	if err != nil && urlLike.MatchString(t) {
		return Redacted
	}
	if err == nil && u.Scheme != "" && strings.HasPrefix(u.Opaque, "//") {
		return Redacted
	}
	return s
}

// urlLike matches the start of an absolute URL.
var urlLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// urlInText matches an absolute URL inside text, up to the next space or
// quote.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// RedactURLsInText returns text with every absolute URL in it reduced as
// RedactURL reduces it: for error messages that quote a URL (Go's HTTP
// client says `Post "https://host/path?q": ...`).
func RedactURLsInText(text string) string {
	return urlInText.ReplaceAllStringFunc(text, func(m string) string {
		// A URL quoted in text often ends with punctuation of the sentence.
		trimmed := strings.TrimRight(m, ".,;:)]}")
		return RedactURL(trimmed) + m[len(trimmed):]
	})
}
