package creditkit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditkit/creditkit"
)

// TestEventTypesCatalogue: every event type constant of the package
// (EventXxx = "a.b") is in the catalogue webhook endpoints are checked
// against, and the catalogue holds nothing else, so a new event type
// cannot be emitted without endpoints being able to subscribe to it.
func TestEventTypesCatalogue(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var consts []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Event") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if v, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(v, ".") {
					consts = append(consts, v)
				}
			}
			return true
		})
	}
	slices.Sort(consts)
	consts = slices.Compact(consts)
	if got := creditkit.EventTypes(); !slices.Equal(got, consts) {
		t.Fatalf("catalogue %v\nevent type constants %v\n(add new types to eventtypes.go)", got, consts)
	}
	if !creditkit.IsEventType(creditkit.EventCreditsSpent) || creditkit.IsEventType("credits.spnt") {
		t.Fatal("IsEventType disagrees with the catalogue")
	}
}
