package creditkit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadConfig reads and parses the YAML config file at path. A file that
// cannot be read is an invalid_config error wrapping the os error.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Code: CodeInvalidConfig, Message: fmt.Sprintf("cannot read config file %s", path), Err: err}
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a YAML config; name (usually the file path) prefixes
// every error together with the line, as in
// `creditkit.yaml:12: operations.process_image: expected a price like ...`.
// Unknown keys, duplicate keys and malformed values are errors. An empty
// document is the default config.
func ParseConfig(name string, data []byte) (*Config, error) {
	p := &configParser{name: name, cfg: DefaultConfig()}
	p.cfg.Path = name
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return p.cfg, nil
		}
		return nil, p.yamlError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errAt(&extra, "", "expected one YAML document, found another one starting here; remove the extra ---")
	} else if !errors.Is(err, io.EOF) {
		return nil, p.yamlError(err, data)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return p.cfg, nil
		}
		root = root.Content[0]
	}
	if err := p.parseRoot(root); err != nil {
		return nil, err
	}
	if err := p.cfg.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) && name != "" {
			return nil, &Error{Code: e.Code, Message: name + ": " + e.Message, Err: e.Err}
		}
		return nil, err
	}
	return p.cfg, nil
}

// yamlLineRE finds the line number in a YAML syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlAnchorRE finds the name in an unknown-anchor error.
var yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// isYAMLParserError reports whether a YAML error message comes from the
// parser rather than the scanner. The YAML library reports the line of
// parser errors counting from 0, and scanner errors counting from 1.
func isYAMLParserError(msg string) bool {
	return strings.HasPrefix(msg, "did not find expected") ||
		strings.HasPrefix(msg, "found undefined tag handle") ||
		strings.HasPrefix(msg, "found duplicate %") ||
		strings.HasPrefix(msg, "found incompatible YAML document")
}

// yamlError turns a YAML syntax error into a config error naming the line.
func (p *configParser) yamlError(err error, data []byte) error {
	msg := strings.TrimSpace(err.Error())
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if isYAMLParserError(m[2]) {
			line++
		}
		return p.errAt(&yaml.Node{Line: line}, "", "invalid YAML: %s", m[2])
	}
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		line := 0
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "*"+m[1]) {
				line = i + 1
				break
			}
		}
		return p.errAt(&yaml.Node{Line: line}, "", "invalid YAML: unknown anchor %q referenced; define it with &%s first", m[1], m[1])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if strings.HasPrefix(msg, "found ") || strings.HasPrefix(msg, "did not find ") {
		// The library leaves the line out when it is the first one.
		return p.errAt(&yaml.Node{Line: 1}, "", "invalid YAML: %s", msg)
	}
	return p.errAt(nil, "", "invalid YAML: %s", msg)
}

// configParser walks a YAML config node by node so that every error can name
// its line.
type configParser struct {
	name string
	cfg  *Config
}

// errAt builds an invalid_config error located at node n, for the config
// path path ("operations.process_image").
func (p *configParser) errAt(n *yaml.Node, path, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	loc := p.name
	if n != nil && n.Line > 0 {
		if loc == "" {
			loc = "line " + strconv.Itoa(n.Line)
		} else {
			loc += ":" + strconv.Itoa(n.Line)
		}
	}
	if loc != "" {
		msg = loc + ": " + msg
	}
	return &Error{Code: CodeInvalidConfig, Message: msg}
}

// yamlEntry is one key and value of a YAML mapping.
type yamlEntry struct {
	key  string
	k, v *yaml.Node
}

// yamlDeref follows YAML aliases.
func yamlDeref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlIsNull reports whether n is empty or an explicit null.
func yamlIsNull(n *yaml.Node) bool {
	n = yamlDeref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// describeNode prints a node for "got ..." in messages.
func describeNode(n *yaml.Node) string {
	n = yamlDeref(n)
	switch {
	case yamlIsNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode && len(n.Content) == 0:
		return "an empty list"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	default:
		return strconv.Quote(n.Value)
	}
}

// joinPath builds a config path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping returns the entries of mapping node n. With allowed set, any other
// key is an error naming the allowed keys; what describes the expected value
// when n is not a mapping. Duplicate keys are errors.
func (p *configParser) mapping(n *yaml.Node, path string, allowed []string, what string) ([]yamlEntry, error) {
	n = yamlDeref(n)
	if yamlIsNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, path, "expected %s, got %s", what, describeNode(n))
	}
	var out []yamlEntry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlDeref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || yamlIsNull(k) {
			return nil, p.errAt(k, path, "expected a name as key, got %s", describeNode(k))
		}
		if first, dup := seen[k.Value]; dup {
			return nil, p.errAt(k, joinPath(path, k.Value), "defined twice (first at line %d); remove one", first.Line)
		}
		seen[k.Value] = k
		if allowed != nil && !containsKey(allowed, k.Value) {
			hint := ""
			if s := closestKey(k.Value, allowed); s != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, p.errAt(k, path, "unknown key %q%s; allowed keys: %s", k.Value, hint, strings.Join(allowed, ", "))
		}
		out = append(out, yamlEntry{key: k.Value, k: k, v: v})
	}
	return out, nil
}

// closestKey returns the word of list nearest to s when it is a likely typo
// of it, or "".
func closestKey(s string, list []string) string {
	best, bestDist := "", 3
	for _, w := range list {
		if d := keyEditDistance(strings.ToLower(s), w); d < bestDist {
			best, bestDist = w, d
		}
	}
	return best
}

// keyEditDistance is the Levenshtein distance between a and b.
func keyEditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// containsKey reports whether list holds s.
func containsKey(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the text of scalar node n, or an error saying what was expected.
func (p *configParser) scalar(n *yaml.Node, path, expected string) (string, error) {
	n = yamlDeref(n)
	if n == nil || n.Kind != yaml.ScalarNode || yamlIsNull(n) || strings.TrimSpace(n.Value) == "" {
		return "", p.errAt(n, path, "expected %s, got %s", expected, describeNode(n))
	}
	return strings.TrimSpace(n.Value), nil
}

// Keys allowed in each part of the config.
var (
	configRootKeys      = []string{"currency", "currencies", "rounding", "low_balance", "usage_window", "operations", "plans", "packs", "refund_debt", "auto_topup"}
	configCurrencyKeys  = []string{"name", "decimals"}
	configOperationKeys = []string{"cost", "meta", "limits", "params"}
	configPlanKeys      = []string{"default", "gives", "price", "unused_credits", "stripe_price", "signup_bonus", "trial_includes", "expire_after", "overage", "overage_price", "on_upgrade", "catch_up"}
	configPackKeys      = []string{"gives", "costs", "expires_after", "stripe_price"}
	configPeriodKeys    = []string{"day", "week", "month", "year"}
)

// parseRoot walks the top-level mapping. Currencies are read first, since
// every amount and price depends on them.
func (p *configParser) parseRoot(root *yaml.Node) error {
	entries, err := p.mapping(root, "", configRootKeys, "a mapping with keys "+strings.Join(configRootKeys, ", "))
	if err != nil {
		return err
	}
	byKey := map[string]yamlEntry{}
	for _, e := range entries {
		byKey[e.key] = e
	}
	cur, hasCur := byKey["currency"]
	curs, hasCurs := byKey["currencies"]
	switch {
	case hasCur && hasCurs:
		later := curs
		if cur.k.Line > curs.k.Line {
			later = cur
		}
		return p.errAt(later.k, "", "use either currency: (one currency) or currencies: (a list), not both")
	case hasCur:
		c, err := p.parseCurrency(cur.v, "currency")
		if err != nil {
			return err
		}
		p.cfg.Currencies = []Currency{c}
	case hasCurs:
		if err := p.parseCurrencies(curs.v); err != nil {
			return err
		}
	}
	for _, e := range entries {
		var err error
		switch e.key {
		case "rounding":
			err = p.parseRounding(e.v)
		case "low_balance":
			err = p.parseLowBalance(e.v)
		case "usage_window":
			err = p.parseUsageWindow(e.v)
		case "operations":
			err = p.parseOperations(e.v)
		case "plans":
			err = p.parsePlans(e.v)
		case "packs":
			err = p.parsePacks(e.v)
		case "refund_debt":
			err = p.parseRefundDebt(e.v)
		case "auto_topup":
			err = p.parseAutoTopUp(e.v, byKey["packs"].v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseCurrency reads `{ name: credits, decimals: 0 }`, or just a name.
func (p *configParser) parseCurrency(n *yaml.Node, path string) (Currency, error) {
	n = yamlDeref(n)
	if n != nil && n.Kind == yaml.ScalarNode && !yamlIsNull(n) {
		c := Currency{Name: strings.TrimSpace(n.Value)}
		if err := checkCurrency(c); err != nil {
			return Currency{}, p.errAt(n, path, "%s", err)
		}
		return c, nil
	}
	entries, err := p.mapping(n, path, configCurrencyKeys, "a currency like { name: credits, decimals: 0 }")
	if err != nil {
		return Currency{}, err
	}
	if entries == nil {
		return Currency{}, p.errAt(n, path, "expected a currency like { name: credits, decimals: 0 }, got %s", describeNode(n))
	}
	var c Currency
	hasName := false
	for _, e := range entries {
		switch e.key {
		case "name":
			s, err := p.scalar(e.v, joinPath(path, "name"), "a currency name such as credits")
			if err != nil {
				return Currency{}, err
			}
			c.Name, hasName = s, true
			if err := checkCurrency(Currency{Name: s}); err != nil {
				return Currency{}, p.errAt(e.v, joinPath(path, "name"), "%s", err)
			}
		case "decimals":
			s, err := p.scalar(e.v, joinPath(path, "decimals"), fmt.Sprintf("decimals from 0 to %d", maxCurrencyDecimals))
			if err != nil {
				return Currency{}, err
			}
			d, convErr := strconv.Atoi(s)
			if convErr != nil || d < 0 || d > maxCurrencyDecimals {
				return Currency{}, p.errAt(e.v, joinPath(path, "decimals"), "expected decimals from 0 to %d, got %q", maxCurrencyDecimals, s)
			}
			c.Decimals = d
		}
	}
	if !hasName {
		return Currency{}, p.errAt(n, path, "missing name; write it like { name: credits, decimals: 0 }")
	}
	return c, nil
}

// parseCurrencies reads a non-empty list of currencies.
func (p *configParser) parseCurrencies(n *yaml.Node) error {
	n = yamlDeref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return p.errAt(n, "currencies", "expected a list like [{ name: credits, decimals: 0 }], got %s", describeNode(n))
	}
	var cs []Currency
	for i, item := range n.Content {
		path := fmt.Sprintf("currencies[%d]", i)
		c, err := p.parseCurrency(item, path)
		if err != nil {
			return err
		}
		for _, prev := range cs {
			if currenciesConfusable(prev.Name, c.Name) {
				return p.errAt(item, path, "%s can be confused with currency %s; give currencies distinct names", c.Name, prev.Name)
			}
		}
		cs = append(cs, c)
	}
	p.cfg.Currencies = cs
	return nil
}

// parseRounding reads ceil, floor or round.
func (p *configParser) parseRounding(n *yaml.Node) error {
	s, err := p.scalar(n, "rounding", "ceil, floor or round")
	if err != nil {
		return err
	}
	r := Rounding(strings.ToLower(s))
	if r == "" || !r.valid() {
		return p.errAt(n, "rounding", "expected ceil, floor or round, got %q", s)
	}
	p.cfg.Rounding = r
	return nil
}

// parseLowBalance reads an amount in the default currency.
func (p *configParser) parseLowBalance(n *yaml.Node) error {
	def := p.cfg.DefaultCurrency()
	a, cur, err := p.amount(n, "low_balance", "100 "+def.Name)
	if err != nil {
		return err
	}
	if cur != def.Name {
		return p.errAt(n, "low_balance", "expected an amount in the default currency %s, got %q", def.Name, yamlDeref(n).Value)
	}
	p.cfg.LowBalance = a
	return nil
}

// parseUsageWindow reads {ahead: 5m, back: 35d}: how far from now a usage
// event's timestamp may lie. Each is a fixed duration, above zero.
func (p *configParser) parseUsageWindow(n *yaml.Node) error {
	entries, err := p.mapping(n, "usage_window", []string{"ahead", "back"}, "a mapping like {ahead: 5m, back: 35d}")
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := "usage_window." + e.key
		s, err := p.scalar(e.v, path, `a duration like "5m" or "35d"`)
		if err != nil {
			return err
		}
		d, err := ParseDuration(s)
		if err != nil || d <= 0 {
			return p.errAt(e.v, path, "expected a duration above zero like \"5m\" or \"35d\", got %q", s)
		}
		if e.key == "ahead" {
			p.cfg.UsageWindow.Ahead = d
		} else {
			p.cfg.UsageWindow.Back = d
		}
	}
	return nil
}

// amount reads a non-negative amount with an optional currency word.
func (p *configParser) amount(n *yaml.Node, path, example string) (Amount, string, error) {
	expected := fmt.Sprintf("an amount like %q", example)
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return 0, "", err
	}
	a, cur, err := p.cfg.ParseAmountWithUnit(s)
	if err != nil {
		var e *Error
		reason := err.Error()
		if errors.As(err, &e) {
			reason = e.Message
		}
		return 0, "", p.errAt(n, path, "expected %s, got %q (%s)", expected, s, reason)
	}
	if a < 0 {
		return 0, "", p.errAt(n, path, "expected %s, got %q: amounts must not be negative", expected, s)
	}
	return a, cur, nil
}

// parseOperations reads the operations mapping.
func (p *configParser) parseOperations(n *yaml.Node) error {
	entries, err := p.mapping(n, "operations", nil, `a mapping of operation names to prices, like send_email: 1 credit`)
	if err != nil {
		return err
	}
	for _, e := range entries {
		op, err := p.parseOperation(e)
		if err != nil {
			return err
		}
		p.cfg.Operations[e.key] = op
	}
	return nil
}

// parseOperation reads one operation: a formula, or a mapping with cost,
// meta and limits.
func (p *configParser) parseOperation(e yamlEntry) (*Operation, error) {
	path := "operations." + e.key
	if err := checkConfigName("operation", e.key); err != nil {
		return nil, p.errAt(e.k, path, "%s", err.(*Error).Message)
	}
	v := yamlDeref(e.v)
	if v.Kind != yaml.MappingNode {
		return p.formula(e.key, v, path)
	}
	entries, err := p.mapping(v, path, configOperationKeys, "")
	if err != nil {
		return nil, err
	}
	var op *Operation
	var meta map[string]any
	var limits map[string]*big.Rat
	var params []string
	var paramNodes []*yaml.Node
	for _, f := range entries {
		fp := joinPath(path, f.key)
		switch f.key {
		case "cost":
			if op, err = p.formula(e.key, yamlDeref(f.v), fp); err != nil {
				return nil, err
			}
		case "meta":
			fv := yamlDeref(f.v)
			if yamlIsNull(fv) {
				continue
			}
			if fv.Kind != yaml.MappingNode {
				return nil, p.errAt(fv, fp, "expected a mapping like { category: analytics }, got %s", describeNode(fv))
			}
			if _, err := p.mapping(fv, fp, nil, "a mapping"); err != nil {
				return nil, err
			}
			if err := fv.Decode(&meta); err != nil {
				return nil, p.errAt(fv, fp, "cannot read meta: %s", err)
			}
		case "limits":
			le, err := p.mapping(f.v, fp, nil, "a mapping of param names to maximum values, like { prompt_chars: 1000 }")
			if err != nil {
				return nil, err
			}
			limits = map[string]*big.Rat{}
			for _, l := range le {
				lp := joinPath(fp, l.key)
				s, err := p.scalar(l.v, lp, "a number such as 1000")
				if err != nil {
					return nil, err
				}
				r, ok := parseDecimalParam(s, false)
				if !ok || r.Sign() < 0 {
					return nil, p.errAt(l.v, lp, "expected a number of zero or more such as 1000, got %q", s)
				}
				limits[l.key] = r
			}
		case "params":
			paramsNode := yamlDeref(f.v)
			if yamlIsNull(paramsNode) {
				continue
			}
			if paramsNode.Kind != yaml.SequenceNode {
				return nil, p.errAt(paramsNode, fp, "expected a list of param names kept for the record, like [model, user_agent], got %s", describeNode(paramsNode))
			}
			for i, item := range paramsNode.Content {
				name, err := p.scalar(item, fmt.Sprintf("%s[%d]", fp, i), "a param name such as model")
				if err != nil {
					return nil, err
				}
				params = append(params, name)
				paramNodes = append(paramNodes, yamlDeref(item))
			}
		}
	}
	if op == nil {
		return nil, p.errAt(e.k, path, "missing cost; write it like cost: 20 credits")
	}
	op.Meta, op.Limits, op.Params = meta, limits, params
	for i, name := range params {
		if msg := op.checkRecordParam(name, params[:i]); msg != "" {
			return nil, p.errAt(paramNodes[i], joinPath(path, "params"), "%s", msg)
		}
	}
	return op, nil
}

// formula parses a price formula node into an operation.
func (p *configParser) formula(name string, n *yaml.Node, path string) (*Operation, error) {
	expected := fmt.Sprintf("a price like %q", priceExample)
	if n.Kind != yaml.ScalarNode || yamlIsNull(n) {
		return nil, p.errAt(n, path, "expected %s, got %s", expected, describeNode(n))
	}
	op, ferr := p.cfg.newOperation(name, strings.TrimSpace(n.Value))
	if ferr != nil {
		return nil, p.errAt(n, path, "%s", ferr.msg)
	}
	return op, nil
}

// duration reads a non-negative span such as "30 days", "1 month" or
// "P1Y"; "never" is the empty span.
func (p *configParser) duration(n *yaml.Node, path string) (Span, error) {
	expected := `a duration like "30 days", "1 month", "12h" or "1 year"`
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return Span{}, err
	}
	if strings.EqualFold(s, "never") {
		return Span{}, nil
	}
	d, err := ParseSpan(s)
	if err != nil {
		var e *Error
		reason := err.Error()
		if errors.As(err, &e) {
			reason = e.Message
		}
		return Span{}, p.errAt(n, path, "expected %s, got %q (%s)", expected, s, reason)
	}
	if d.IsNegative() {
		return Span{}, p.errAt(n, path, "expected %s, got %q: durations must not be negative", expected, s)
	}
	return d, nil
}
