package store

import (
	"context"
	"time"
	"unicode/utf8"
)

// Customer is a customer row: whoever owns wallets, known by the app's own
// ID. A customer's plan and subscription will live in rows of their own.
type Customer struct {
	ID    string
	Name  string
	Email string
	// Metadata is a JSON object.
	Metadata  []byte
	CreatedAt time.Time
}

// CustomerQuery selects customers by ID, ascending.
type CustomerQuery struct {
	Prefix string // only IDs that start with it; empty: all
	After  string // ID cursor, exclusive
	Limit  int
}

// CustomerReader reads customer rows. Every ReadTx implements it.
type CustomerReader interface {
	// Customer returns one customer, or nil.
	Customer(ctx context.Context, id string) (*Customer, error)
	// Customers lists customers by ID ascending.
	Customers(ctx context.Context, q CustomerQuery) ([]*Customer, error)
}

// PrefixEnd returns the smallest string greater than every string that
// starts with prefix, so that a prefix search is the index range
// [prefix, PrefixEnd(prefix)). It works on runes, so that the bound of a
// valid UTF-8 prefix is valid UTF-8 too (PostgreSQL rejects anything
// else), and UTF-8 sorts by code point, byte for byte. It returns "" when
// there is no such bound (an empty prefix, or one of only the largest rune).
func PrefixEnd(prefix string) string {
	rs := []rune(prefix)
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		switch {
		case last == utf8.MaxRune:
			rs = rs[:len(rs)-1]
			continue
		case last == 0xD7FF:
			rs[len(rs)-1] = 0xE000 // skip the surrogates, which UTF-8 cannot encode
		default:
			rs[len(rs)-1] = last + 1
		}
		return string(rs)
	}
	return ""
}
