package creditkit

import (
	"math/big"
	"regexp"
	"strings"
)

// Dimensions group units that measure the same thing, so that a price per
// second can be paid with a "minutes" param. Count units (tokens, pages, ...)
// each form their own dimension; a custom unit word forms a dimension of its
// own too.
const (
	dimData = "data"
	dimTime = "time"
)

// unitDef describes one unit a price term or a param can be measured in.
type unitDef struct {
	// canonical is the unit's canonical name, used in PriceTerm.Unit.
	canonical string
	// dim is the dimension the unit belongs to.
	dim string
	// factor is the number of base units of the dimension in one of this
	// unit: bytes for data, seconds for time, 1 for counts.
	factor *big.Rat
	// custom is true for a unit word creditkit does not know.
	custom bool
}

// unitSpec is one row of the table of known units.
type unitSpec struct {
	canonical string
	dim       string
	factor    int64
	aliases   []string
}

// unitSpecs lists every unit creditkit knows, in the order they are
// described in error messages.
var unitSpecs = []unitSpec{
	{"byte", dimData, 1, []string{"byte", "bytes", "size"}},
	{"kb", dimData, 1 << 10, []string{"kb", "kbs", "kilobyte", "kilobytes"}},
	{"mb", dimData, 1 << 20, []string{"mb", "mbs", "megabyte", "megabytes"}},
	{"gb", dimData, 1 << 30, []string{"gb", "gbs", "gigabyte", "gigabytes"}},
	{"second", dimTime, 1, []string{"second", "seconds", "sec", "secs"}},
	{"minute", dimTime, 60, []string{"minute", "minutes", "min", "mins"}},
	{"hour", dimTime, 3600, []string{"hour", "hours"}},
	{"token", "token", 1, []string{"token", "tokens"}},
	{"page", "page", 1, []string{"page", "pages"}},
	{"unit", "unit", 1, []string{"unit", "units"}},
	{"request", "request", 1, []string{"request", "requests"}},
	{"image", "image", 1, []string{"image", "images"}},
	{"character", "character", 1, []string{"character", "characters", "char", "chars"}},
}

// knownUnits maps every alias of a known unit (lower case) to its unit.
var knownUnits = func() map[string]unitDef {
	m := make(map[string]unitDef)
	for _, s := range unitSpecs {
		d := unitDef{canonical: s.canonical, dim: s.dim, factor: big.NewRat(s.factor, 1)}
		for _, a := range s.aliases {
			m[a] = d
		}
	}
	return m
}()

// unitWordRE matches a unit word in a formula: one word of letters, digits
// and underscores that starts with a letter.
var unitWordRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// unitOf returns the unit a price term's unit word stands for. Words creditkit
// does not know are custom units, each its own dimension.
func unitOf(word string) unitDef {
	w := strings.ToLower(strings.TrimSpace(word))
	if d, ok := knownUnits[w]; ok {
		return d
	}
	return unitDef{canonical: w, dim: "custom:" + w, factor: big.NewRat(1, 1), custom: true}
}

// paramUnit reports whether a param named key measures the dimension of
// want, and if so in which unit. Param names are matched case-insensitively,
// in singular or plural.
func paramUnit(key string, want unitDef) (unitDef, bool) {
	k := strings.ToLower(strings.TrimSpace(key))
	if !want.custom {
		d, ok := knownUnits[k]
		if ok && d.dim == want.dim {
			return d, true
		}
		return unitDef{}, false
	}
	if _, known := knownUnits[k]; known {
		return unitDef{}, false
	}
	u := want.canonical
	if k == u || k == u+"s" || (len(u) > 1 && strings.HasSuffix(u, "s") && k == strings.TrimSuffix(u, "s")) {
		return want, true
	}
	return unitDef{}, false
}

// paramName is the param name a term in unit u asks for in messages:
// "mb", "seconds", "tokens".
func (u unitDef) paramName() string {
	switch u.canonical {
	case "kb", "mb", "gb":
		return u.canonical
	}
	if u.custom || strings.HasSuffix(u.canonical, "s") {
		return u.canonical
	}
	return u.canonical + "s"
}

// alternatives describes the other param names accepted for u's dimension,
// for error messages; "" when there are none worth listing.
func (u unitDef) alternatives() string {
	var alts []string
	switch u.dim {
	case dimData:
		alts = []string{"size (in bytes)", "bytes", "kb", "mb", "gb"}
	case dimTime:
		alts = []string{"seconds", "minutes", "hours"}
	default:
		if !u.custom {
			alts = []string{strings.TrimSuffix(u.paramName(), "s")}
		} else if strings.HasSuffix(u.canonical, "s") && len(u.canonical) > 1 {
			alts = []string{strings.TrimSuffix(u.canonical, "s")}
		} else {
			alts = []string{u.canonical + "s"}
		}
	}
	own := u.paramName()
	var out []string
	for _, a := range alts {
		if a != own {
			out = append(out, a)
		}
	}
	return strings.Join(out, ", ")
}

// sameQuantity reports whether units a and b measure the same quantity, so
// that one param would pay for both: mb and gb (both data), minute and
// second, or a custom word and its plural.
func sameQuantity(a, b unitDef) bool {
	if a.dim == b.dim {
		return true
	}
	if !a.custom || !b.custom {
		return false
	}
	_, ab := paramUnit(b.canonical, a)
	_, ba := paramUnit(a.canonical, b)
	return ab || ba
}
