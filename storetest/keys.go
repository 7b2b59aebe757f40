package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditkit/creditkit/store"
)

func testAPIKeys(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	older := &store.APIKey{ID: "key_b", Name: "ci", Scope: store.ScopeWrite, Hash: strings.Repeat("b", 64), Prefix: "ck_bbbb", CreatedAt: Epoch}
	newer := &store.APIKey{ID: "key_a", Name: "admin", Scope: store.ScopeAdmin, Hash: strings.Repeat("a", 64), Prefix: "ck_aaaa", CreatedAt: Epoch.Add(time.Second)}
	// Created newest first with IDs in the opposite order, so that only
	// CreatedAt orders the list.
	for _, k := range []*store.APIKey{newer, older} {
		if err := s.CreateAPIKey(c, k); err != nil {
			t.Fatalf("create key %s: %v", k.ID, err)
		}
	}
	for _, k := range []*store.APIKey{older, newer} {
		if got := must(s.APIKeyByHash(c, k.Hash)); fmtAPIKey(got) != fmtAPIKey(k) {
			t.Fatalf("key by hash = %s, want %s", fmtAPIKey(got), fmtAPIKey(k))
		}
	}
	if got := must(s.APIKeyByHash(c, strings.Repeat("0", 64))); got != nil {
		t.Fatalf("unknown hash found %s", fmtAPIKey(got))
	}
	list := func() []string {
		var out []string
		for _, k := range must(s.APIKeys(c)) {
			out = append(out, fmtAPIKey(k))
		}
		return out
	}
	if got, want := list(), []string{fmtAPIKey(older), fmtAPIKey(newer)}; !slices.Equal(got, want) {
		t.Fatalf("keys = %v\nwant   %v (oldest first)", got, want)
	}

	revokedAt := Epoch.Add(time.Hour)
	if !must(s.RevokeAPIKey(c, older.ID, revokedAt)) {
		t.Fatal("revoking a live key reported false")
	}
	if must(s.RevokeAPIKey(c, older.ID, revokedAt.Add(time.Hour))) {
		t.Fatal("revoking a revoked key reported true")
	}
	if must(s.RevokeAPIKey(c, "key_missing", revokedAt)) {
		t.Fatal("revoking an unknown key reported true")
	}
	older.RevokedAt = &revokedAt // the first revocation's time stays
	if got := must(s.APIKeyByHash(c, older.Hash)); fmtAPIKey(got) != fmtAPIKey(older) {
		t.Fatalf("revoked key by hash = %s, want %s", fmtAPIKey(got), fmtAPIKey(older))
	}
	if got, want := list(), []string{fmtAPIKey(older), fmtAPIKey(newer)}; !slices.Equal(got, want) {
		t.Fatalf("keys after revoking = %v\nwant   %v", got, want)
	}
}

func testSecret(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	if got := must(s.Secret(c, "webhook_signing", []byte("first"))); string(got) != "first" {
		t.Fatalf("first call = %q, want the generated value %q", got, "first")
	}
	if got := must(s.Secret(c, "webhook_signing", []byte("second"))); string(got) != "first" {
		t.Fatalf("second call = %q, want the stored value %q", got, "first")
	}
	if got := must(s.Secret(c, "session", []byte{0, 1, 2, 0xff})); !bytes.Equal(got, []byte{0, 1, 2, 0xff}) {
		t.Fatalf("another name = %x, want its own (binary) value 000102ff", got)
	}
	if got := must(s.Secret(c, "webhook_signing", []byte("third"))); string(got) != "first" {
		t.Fatalf("third call = %q, want %q", got, "first")
	}
}

// Processes starting together agree on one value.
func testSecretConcurrent(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	got := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.Secret(c, "shared", []byte(fmt.Sprintf("generated-%d", i)))
			if err != nil {
				t.Errorf("secret %d: %v", i, err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := must(s.Secret(c, "shared", []byte("late")))
	if !strings.HasPrefix(string(want), "generated-") {
		t.Fatalf("stored value %q is none of the generated ones", want)
	}
	for i, v := range got {
		if !bytes.Equal(v, want) {
			t.Fatalf("caller %d got %q, the store kept %q", i, v, want)
		}
	}
}

// SetSecret replaces a secret, creating it when there is none; Secret then
// returns the new value.
func testSetSecret(t *testing.T, b *serverBundle) {
	s, c := b.server, ctx(t)
	if err := s.SetSecret(c, "rotated", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if got := must(s.Secret(c, "rotated", []byte("generated"))); string(got) != "one" {
		t.Fatalf("after SetSecret on a new name: %q, want %q", got, "one")
	}
	must(s.Secret(c, "other", []byte("kept")))
	if err := s.SetSecret(c, "rotated", []byte{0, 0xff}); err != nil {
		t.Fatal(err)
	}
	if got := must(s.Secret(c, "rotated", []byte("generated"))); !bytes.Equal(got, []byte{0, 0xff}) {
		t.Fatalf("after SetSecret on an existing name: %x, want 00ff", got)
	}
	if got := must(s.Secret(c, "other", nil)); string(got) != "kept" {
		t.Fatalf("another secret changed to %q", got)
	}
}
