package httpapi

import (
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/creditkit/creditkit/store"
)

// customerPath is the path of a customer; what a customer token reads is
// under it.
const customerPath = "/v1/customers/{customer}"

// tokenCanRead reports whether a customer token may call op: the
// operations registered with customer: true that only read. authenticate
// decides with it, and tokenReadMessage lists what it allows.
func tokenCanRead(op *huma.Operation) bool {
	allowed, _ := op.Metadata["customer"].(bool)
	need, _ := op.Metadata["scope"].(string)
	return allowed && need == store.ScopeRead
}

// tokenReadMessage is the 403 a customer token gets for an operation it
// may not call, naming the ones it may, as the served API registers them.
func (s *Server) tokenReadMessage() string {
	var subs []string
	self := false
	for path, item := range s.api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Head, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil || !tokenCanRead(op) {
				continue
			}
			switch rest, ok := strings.CutPrefix(path, customerPath); {
			case ok && rest == "":
				self = true
			case ok:
				subs = append(subs, rest)
			default:
				subs = append(subs, path)
			}
		}
	}
	slices.Sort(subs)
	subs = slices.Compact(subs)
	var b strings.Builder
	b.WriteString("a customer token can only read its own customer: GET ")
	if self {
		b.WriteString(customerPath)
		if len(subs) > 0 {
			b.WriteString(" and its ")
		}
	} else {
		b.WriteString(customerPath + "'s ")
	}
	for i, sub := range subs {
		switch {
		case i > 0 && i == len(subs)-1:
			b.WriteString(" and ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(sub)
	}
	return b.String()
}
