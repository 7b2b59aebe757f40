package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixEnd(t *testing.T) {
	for prefix, want := range map[string]string{
		"":                     "",
		"cus_":                 "cus`",
		"a":                    "b",
		"zé":                   "zê",
		"a\uD7FF":              "a\uE000",
		"a\U0010FFFF":          "b",
		"\U0010FFFF\U0010FFFF": "",
	} {
		got := PrefixEnd(prefix)
		if got != want {
			t.Errorf("PrefixEnd(%q) = %q, want %q", prefix, got, want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("PrefixEnd(%q) = %q is not valid UTF-8", prefix, got)
		}
		// Every string that starts with the prefix sorts before the bound.
		if got != "" {
			for _, s := range []string{prefix, prefix + "\U0010FFFF", prefix + strings.Repeat("\xff", 3)} {
				if s >= got {
					t.Errorf("PrefixEnd(%q) = %q, but %q sorts after it", prefix, got, s)
				}
			}
		}
	}
}
