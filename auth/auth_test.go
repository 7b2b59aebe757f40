package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/store"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := auth.SignToken(key, auth.Claims{Customer: "alice", Expires: now.Add(time.Minute).Unix()})
	c, err := auth.VerifyToken(key, tok, now)
	if err != nil || c.Customer != "alice" {
		t.Fatalf("verify: %+v %v", c, err)
	}
	if _, err := auth.VerifyToken(key, tok, now.Add(time.Minute)); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("expired token: %v", err)
	}
	if _, err := auth.VerifyToken([]byte("another key"), tok, now); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("token under another key: %v", err)
	}
	// The same signature bytes, spelled with a stray bit in the last
	// character's unused bits, is refused: one token, one spelling.
	payload, sig, _ := strings.Cut(strings.TrimPrefix(tok, auth.TokenPrefix), ".")
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, sig[len(sig)-1])
	twin := sig[:len(sig)-1] + string(alphabet[i|1])
	if lax, err := base64.RawURLEncoding.DecodeString(twin); err != nil || string(lax) != string(raw) {
		t.Fatalf("the twin does not decode to the same bytes leniently: %v", err)
	}
	if _, err := auth.VerifyToken(key, auth.TokenPrefix+payload+"."+twin, now); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("non-canonical signature: %v", err)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		have, need string
		ok         bool
	}{
		{store.ScopeAdmin, store.ScopeWrite, true}, {store.ScopeWrite, store.ScopeRead, true}, {store.ScopeRead, store.ScopeRead, true},
		{store.ScopeRead, store.ScopeWrite, false}, {store.ScopeWrite, store.ScopeAdmin, false}, {"root", store.ScopeRead, false},
	} {
		if got := auth.ScopeAllows(c.have, c.need); got != c.ok {
			t.Errorf("%s allows %s: %v, want %v", c.have, c.need, got, c.ok)
		}
	}
}
