package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/audit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/store"
)

// KeysCmd groups the API key commands. They work on --db directly.
type KeysCmd struct {
	Create KeysCreateCmd `cmd:"" help:"Create an API key and print its secret (shown only once)."`
	List   KeysListCmd   `cmd:"" help:"List API keys (never their secrets)."`
	Revoke KeysRevokeCmd `cmd:"" help:"Revoke an API key."`

	RotateTokenKey KeysRotateTokenKeyCmd `cmd:"" name:"rotate-token-key" help:"Replace the customer token signing key: every customer token issued so far stops working."`
}

// KeysCreateCmd creates an API key.
type KeysCreateCmd struct {
	Name  string `name:"name" required:"" help:"A name to recognize the key by."`
	Scope string `name:"scope" required:"" enum:"admin,write,read" help:"What the key may do: read, write (and read) or admin (everything)."`
	reasonFlag
}

// keyJSON is the --json shape of a key.
type keyJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scope     string     `json:"scope"`
	Secret    string     `json:"secret,omitempty"`
	Prefix    string     `json:"prefix,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// withServerStore opens the ledger on --db and hands fn the ledger (for its
// clock) and its server store.
func (s *session) withServerStore(fn func(l *creditkit.Ledger, st store.ServerStore) error) error {
	if s.globals.Server != "" {
		return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "this command works on the database: use --db, not --server"}
	}
	return s.withLedger(func(l *creditkit.Ledger) error {
		st, err := serverStoreOf(l)
		if err != nil {
			return err
		}
		return fn(l, st)
	})
}

// serverStoreOf returns the server store of a ledger opened on --db: the
// one place the CLI learns that the database's store keeps keys and
// webhooks too. Everything after it is handed the server store explicitly.
func serverStoreOf(l *creditkit.Ledger) (store.ServerStore, error) {
	st, ok := l.Store().(store.ServerStore)
	if !ok {
		return nil, creditkit.ErrNoServerStore
	}
	return st, nil
}

// Run creates the key.
func (c *KeysCreateCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		k, secret, err := auth.CreateKey(s.ctx, st, c.Name, c.Scope, l.Now())
		s.recordCLI(l, audit.Record{Action: audit.ActionAPIKeyCreate, Target: keyID(k), Reason: c.Reason,
			Details: map[string]any{"name": c.Name, "scope": c.Scope}}, err)
		if err != nil {
			return err
		}
		out := keyJSON{ID: k.ID, Name: k.Name, Scope: k.Scope, Secret: secret, CreatedAt: k.CreatedAt}
		return s.output(out, func(w io.Writer) {
			fmt.Fprintf(w, "created %s key %s (%s)\n", k.Scope, k.ID, k.Name)
			fmt.Fprintf(w, "secret: %s\n", secret)
			fmt.Fprintln(w, "store it now: it is not shown again")
		})
	})
}

// KeysListCmd lists the keys.
type KeysListCmd struct{}

// Run lists the keys, oldest first.
func (c *KeysListCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		keys, err := st.APIKeys(s.ctx)
		if err != nil {
			return err
		}
		out := make([]keyJSON, len(keys))
		for i, k := range keys {
			out[i] = keyJSON{ID: k.ID, Name: k.Name, Scope: k.Scope, Prefix: k.Prefix, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
		}
		return s.output(out, func(w io.Writer) {
			if len(out) == 0 {
				fmt.Fprintln(w, "no API keys; create one with: creditkit keys create --name NAME --scope admin")
				return
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tSECRET\tCREATED\tREVOKED")
			for _, k := range out {
				revoked := "-"
				if k.RevokedAt != nil {
					revoked = k.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s...\t%s\t%s\n", k.ID, k.Name, k.Scope, k.Prefix, k.CreatedAt.Format(time.RFC3339), revoked)
			}
			tw.Flush()
		})
	})
}

// KeysRevokeCmd revokes a key.
type KeysRevokeCmd struct {
	ID string `arg:"" name:"id" help:"The key's ID (key_...)."`
	reasonFlag
}

// Run revokes the key. Servers stop accepting it within seconds (their
// key cache).
func (c *KeysRevokeCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		ok, err := st.RevokeAPIKey(s.ctx, c.ID, l.Now())
		if err == nil && !ok {
			err = &creditkit.Error{Code: creditkit.CodeNotFound, Message: fmt.Sprintf("no active API key %s; see creditkit keys list", c.ID)}
		}
		s.recordCLI(l, audit.Record{Action: audit.ActionAPIKeyRevoke, Target: c.ID, Reason: c.Reason}, err)
		if err != nil {
			return err
		}
		return s.output(map[string]any{"id": c.ID, "revoked": true}, func(w io.Writer) { fmt.Fprintf(w, "revoked %s\n", c.ID) })
	})
}

// KeysRotateTokenKeyCmd replaces the customer token signing key.
type KeysRotateTokenKeyCmd struct {
	reasonFlag
}

// Run stores a new random signing key. Running servers pick it up within
// their key cache TTL (2 seconds by default); from then on every customer
// token signed with the old key is refused and new tokens are signed with
// the new one.
func (c *KeysRotateTokenKeyCmd) Run(s *session) error {
	return s.withServerStore(func(l *creditkit.Ledger, st store.ServerStore) error {
		err := auth.RotateTokenKey(s.ctx, st)
		s.recordCLI(l, audit.Record{Action: audit.ActionTokenKeyRotate, Reason: c.Reason}, err)
		if err != nil {
			return err
		}
		return s.output(map[string]any{"rotated": true}, func(w io.Writer) {
			fmt.Fprintln(w, "rotated the customer token signing key: tokens issued before stop working within seconds; mint new ones")
		})
	})
}
