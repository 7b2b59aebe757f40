package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
)

// tokenKeyOf reads the customer token signing key of the bundle's database.
func tokenKeyOf(t *testing.T, b *bundle) []byte {
	t.Helper()
	l, err := creditkit.Open(context.Background(), b.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := serverStoreOf(l)
	if err != nil {
		t.Fatal(err)
	}
	k, err := auth.TokenKey(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKeysRotateTokenKey: `keys rotate-token-key` replaces the signing key,
// so a token signed with the old one no longer verifies.
func TestKeysRotateTokenKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := tokenKeyOf(t, b)
	now := time.Now()
	tok := auth.SignToken(old, auth.Claims{Customer: "alice", Expires: now.Add(time.Hour).Unix()})
	out := b.ok(t, "keys", "rotate-token-key")
	if !strings.Contains(out, "rotated the customer token signing key") {
		t.Fatalf("output: %s", out)
	}
	fresh := tokenKeyOf(t, b)
	if bytes.Equal(old, fresh) || len(fresh) != 32 {
		t.Fatalf("the key did not change (%d bytes)", len(fresh))
	}
	if _, err := auth.VerifyToken(fresh, tok, now); err == nil {
		t.Fatal("a token signed before the rotation still verifies")
	}
	if r := b.run(t, "--json", "keys", "rotate-token-key"); r.code != 0 || !strings.Contains(r.stdout, `"rotated": true`) {
		t.Fatalf("--json: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}
