package audit

import (
	"bytes"
	"encoding/json"
	"strings"
)

// plainText makes s storable as text: a NUL character (which PostgreSQL
// refuses) and bytes that are not UTF-8 become U+FFFD. An audit row records
// what a caller sent, refused requests too, so it must not fail on the text
// the ledger refuses.
func plainText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// plainJSON is plainText for encoded details: json.Marshal already turns
// bytes that are not UTF-8 into U+FFFD, but writes a NUL as \u0000, which
// PostgreSQL's jsonb refuses. The details are decoded, cleaned and encoded
// again only when they hold one.
func plainJSON(data []byte) []byte {
	if !bytes.Contains(data, []byte(`\u0000`)) {
		return data
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return data
	}
	out, err := json.Marshal(plainValue(v))
	if err != nil {
		return data
	}
	return out
}

// plainValue applies plainText to every string of a decoded JSON value,
// keys included.
func plainValue(v any) any {
	switch v := v.(type) {
	case string:
		return plainText(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[plainText(k)] = plainValue(x)
		}
		return out
	case []any:
		for i, x := range v {
			v[i] = plainValue(x)
		}
		return v
	}
	return v
}
