package httpapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// unknownFieldMessage says, in the API's words, that a body has a field the
// operation does not take, and lists the fields it takes at that place
// (location is huma's path to the field, such as body.foo or
// body.events[0].foo). huma's own message ("unexpected property", with the
// whole object in Go's map syntax) says neither.
func unknownFieldMessage(registry huma.Registry, op *huma.Operation, location string) string {
	name := location[strings.LastIndex(location, ".")+1:]
	msg := fmt.Sprintf("unknown field %q", name)
	if fields := knownFields(registry, op, location); len(fields) > 0 {
		msg += "; the fields here are " + strings.Join(fields, ", ")
	}
	return msg
}

// knownFields returns the property names of the object that holds the
// field at location, in the operation's request body schema, sorted; nil
// when the schema cannot be followed there.
func knownFields(registry huma.Registry, op *huma.Operation, location string) []string {
	if registry == nil || op == nil || op.RequestBody == nil {
		return nil
	}
	mt := op.RequestBody.Content["application/json"]
	if mt == nil {
		return nil
	}
	resolve := func(s *huma.Schema) *huma.Schema {
		if s != nil && s.Ref != "" {
			return registry.SchemaFromRef(s.Ref)
		}
		return s
	}
	s := resolve(mt.Schema)
	parts := strings.Split(location, ".")
	if len(parts) < 2 || parts[0] != "body" {
		return nil
	}
	for _, part := range parts[1 : len(parts)-1] {
		prop, indexes, _ := strings.Cut(part, "[")
		if s == nil {
			return nil
		}
		s = resolve(s.Properties[prop])
		if indexes != "" {
			for range strings.Count(part, "[") {
				if s == nil {
					return nil
				}
				s = resolve(s.Items)
			}
		}
	}
	if s == nil || len(s.Properties) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(s.Properties))
}
