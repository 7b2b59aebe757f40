package creditkit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Currency is a kind of credit, such as "credits" or "usd_credits", with the
// number of decimals its amounts carry: Amount(1250) is 12.50 usd_credits
// with Decimals 2.
type Currency struct {
	// Name is one word of letters, digits and underscores, such as "credits".
	// Formulas accept it and its singular form ("credit").
	Name string
	// Decimals is the number of decimal places, from 0 to 18.
	Decimals int
}

// maxCurrencyDecimals is the largest number of decimals a currency may have.
const maxCurrencyDecimals = 18

// Config is everything creditkit is told by the operator: currencies,
// rounding, priced operations, subscription plans and credit packs. Load it
// from YAML with LoadConfig, or build it in Go from DefaultConfig and
// AddOperation and check it with Validate.
type Config struct {
	// Currencies are the kinds of credit; the first is the default. Empty
	// means one currency "credits" with 0 decimals.
	Currencies []Currency
	// Rounding is applied once to each operation's total cost. "" means
	// RoundCeil.
	Rounding Rounding
	// LowBalance is the low-balance threshold in smallest units of the
	// default currency; 0 turns low-balance alerts off.
	LowBalance Amount
	// Operations are the priced operations, by name.
	Operations map[string]*Operation
	// Plans are the subscription plans, by name.
	Plans map[string]*Plan
	// Packs are the one-time credit packs, by name.
	Packs map[string]*Pack
	// Clock tells the time; nil means the system clock.
	Clock Clock
	// Writes tunes the write path (group commit). The zero value is the
	// default: batching on.
	Writes WriteConfig
	// Logger receives the ledger's diagnostics; nil means slog.Default().
	Logger *slog.Logger
	// Path is the file the config was loaded from; "" when built in Go.
	Path string
}

// WriteConfig tunes group commit: concurrent writes queue on the write path
// and are applied many to one database transaction. Each request still
// succeeds or fails on its own, and none is answered before its commit is
// durable.
type WriteConfig struct {
	// NoBatching commits every write in its own transaction. Defaults to
	// false (batching on).
	NoBatching bool
	// MaxBatch caps the requests in one transaction. Defaults to 256.
	MaxBatch int
	// QueueSize bounds the writes waiting per lane; past it, writes fail
	// fast with ErrOverloaded instead of queueing forever. Defaults to 4096.
	QueueSize int
	// Lanes is how many batches may commit at once, each on its own
	// connection, with requests spread over lanes by wallet. Defaults to the
	// store's own preference (1 for SQLite's single writer, 4 for
	// PostgreSQL).
	Lanes int
}

// Plan is a subscription plan: it gives credits every period, decoupled from
// billing, and says what happens to unused credits.
type Plan struct {
	// Name is the plan's name, as in the config.
	Name string
	// Default puts every new customer on the plan. At most one plan is the default.
	Default bool
	// Gives is the number of credits (smallest units of Currency) given every period.
	Gives Amount
	// Currency is the currency of every amount of the plan.
	Currency string
	// Every is the refill period; zero when the plan gives nothing.
	Every Period
	// UnusedCredits is "expire" (the default) or "rollover".
	UnusedCredits string
	// RolloverCap caps the credits rolled over; 0 means unlimited.
	RolloverCap Amount
	// SignupBonus is given once when a customer joins the plan.
	SignupBonus Amount
	// TrialIncludes is given once for a trial of the plan.
	TrialIncludes Amount
	// ExpireAfter is how long credits stay usable after cancellation; 0 means
	// no particular limit.
	ExpireAfter time.Duration
	// Overage is how far into debt a customer may go, billed at period end;
	// 0 means none.
	Overage Amount
	// OverageSet reports whether the config said anything about overage
	// ("none" or "up to N credits").
	OverageSet bool
	// StripePrice maps a billing period ("month", "year") to a Stripe price ID.
	StripePrice map[string]string
}

// Period is a refill period such as one month or two weeks.
type Period struct {
	// Count is how many Units make one period; at least 1.
	Count int
	// Unit is "day", "week", "month" or "year".
	Unit string
}

// Pack is a one-time purchase of credits.
type Pack struct {
	// Name is the pack's name, as in the config.
	Name string
	// Gives is the number of credits (smallest units of Currency) the pack gives.
	Gives Amount
	// Currency is the credit currency the pack gives.
	Currency string
	// PriceCents is the price in minor units of money (cents for USD).
	PriceCents int64
	// PriceCurrency is the ISO 4217 code of the price, such as "USD".
	PriceCurrency string
	// ExpiresAfter is how long the credits stay usable; 0 means never expire.
	ExpiresAfter time.Duration
	// StripePrice is the Stripe price ID of the pack, if any.
	StripePrice string
}

// Values of Plan.UnusedCredits.
const (
	unusedExpire   = "expire"
	unusedRollover = "rollover"
)

// DefaultConfig returns a config with one currency "credits" with 0
// decimals, ceil rounding and no operations, plans or packs.
func DefaultConfig() *Config {
	return &Config{
		Currencies: []Currency{{Name: "credits", Decimals: 0}},
		Rounding:   RoundCeil,
		Operations: map[string]*Operation{},
		Plans:      map[string]*Plan{},
		Packs:      map[string]*Pack{},
	}
}

// currencies returns the configured currencies, or the default one.
func (c *Config) currencies() []Currency {
	if len(c.Currencies) == 0 {
		return []Currency{{Name: "credits", Decimals: 0}}
	}
	return c.Currencies
}

// rounding returns the configured rounding, or the default.
func (c *Config) rounding() Rounding {
	if c.Rounding == "" {
		return RoundCeil
	}
	return c.Rounding
}

// DefaultCurrency returns the first configured currency, or "credits" with
// 0 decimals when none is configured.
func (c *Config) DefaultCurrency() Currency {
	return c.currencies()[0]
}

// Currency returns the currency with the given name or its singular form
// ("credit" finds "credits"); "" returns the default currency.
func (c *Config) Currency(name string) (Currency, bool) {
	if name == "" {
		return c.DefaultCurrency(), true
	}
	return resolveCurrency(name, c.currencies())
}

// AddOperation adds an operation priced by formula, such as
// "10 credits + 1 credit per mb", parsed exactly as in the YAML config.
func (c *Config) AddOperation(name, formula string) error {
	if err := checkConfigName("operation", name); err != nil {
		return err
	}
	if _, dup := c.Operations[name]; dup {
		return errorf(CodeInvalidConfig, "operation %s is already defined", name)
	}
	op, ferr := c.newOperation(name, formula)
	if ferr != nil {
		return errorf(CodeInvalidConfig, "operation %s: %s", name, ferr.msg)
	}
	if c.Operations == nil {
		c.Operations = map[string]*Operation{}
	}
	c.Operations[name] = op
	return nil
}

// newOperation parses formula into an operation named name.
func (c *Config) newOperation(name, formula string) (*Operation, *formulaError) {
	f, err := parseFormula(formula, c.currencies())
	if err != nil {
		return nil, err
	}
	return &Operation{
		Name:     name,
		Currency: f.currency.Name,
		Formula:  formula,
		Fixed:    f.fixed,
		Terms:    f.terms,
	}, nil
}

// Operation returns the operation with the given name. An unknown name is
// an unknown_operation error listing the known ones.
func (c *Config) Operation(name string) (*Operation, error) {
	if op, ok := c.Operations[name]; ok && op != nil {
		return op, nil
	}
	if len(c.Operations) == 0 {
		return nil, errorf(CodeUnknownOperation, "unknown operation %q: no operations are configured; add them under operations: in the config", name)
	}
	return nil, errorf(CodeUnknownOperation, "unknown operation %q; known operations: %s", name, strings.Join(sortedConfigKeys(c.Operations), ", "))
}

// Price returns the exact price of one run of operation with params p,
// rounded once with the configured rounding, and the operation itself.
func (c *Config) Price(operation string, p Params) (Amount, *Operation, error) {
	op, err := c.Operation(operation)
	if err != nil {
		return 0, nil, err
	}
	a, err := op.Cost(p, c.rounding())
	if err != nil {
		return 0, op, err
	}
	return a, op, nil
}

// FormatAmount prints a in the named currency ("" is the default currency):
// "42 credits", "12.50 usd_credits", "1 credit".
func (c *Config) FormatAmount(a Amount, currency string) string {
	cur, ok := c.Currency(currency)
	if !ok {
		return FormatAmount(a, 0, currency)
	}
	return FormatAmount(a, cur.Decimals, cur.Name)
}

// ParseAmountWithUnit parses an amount with an optional currency word into
// smallest units: "1000 credits" is (1000, "credits"), "12.5 usd_credits" is
// (1250, "usd_credits") with 2 decimals, "1 credit" is (1, "credits"), and a
// bare number is in the default currency. Errors have code invalid_amount.
func (c *Config) ParseAmountWithUnit(s string) (Amount, string, error) {
	f := strings.Fields(s)
	var cur Currency
	switch len(f) {
	case 1:
		cur = c.DefaultCurrency()
	case 2:
		var ok bool
		cur, ok = resolveCurrency(f[1], c.currencies())
		if !ok {
			return 0, "", errorf(CodeInvalidAmount, "unknown currency %q in %q; configured currencies: %s", f[1], s, currencyNames(c.currencies()))
		}
	default:
		return 0, "", errorf(CodeInvalidAmount, "amount %q is not valid: give a number and a currency, such as \"1000 %s\"", s, c.DefaultCurrency().Name)
	}
	a, err := ParseAmount(f[0], cur.Decimals)
	if err != nil {
		return 0, "", err
	}
	return a, cur.Name, nil
}

// Validate checks a config, typically one built in Go; ParseConfig calls it
// too. Errors have code invalid_config and say what to fix.
func (c *Config) Validate() error {
	if err := validateCurrencies(c.Currencies); err != nil {
		return err
	}
	if !c.Rounding.valid() {
		return errorf(CodeInvalidConfig, "rounding: expected ceil, floor or round, got %q", c.Rounding)
	}
	if c.LowBalance < 0 {
		return errorf(CodeInvalidConfig, "low_balance: must not be negative, got %d", c.LowBalance)
	}
	for _, name := range sortedConfigKeys(c.Operations) {
		if err := c.validateOperation(name, c.Operations[name]); err != nil {
			return err
		}
	}
	defaultPlan := ""
	for _, name := range sortedConfigKeys(c.Plans) {
		p := c.Plans[name]
		if err := c.validatePlan(name, p); err != nil {
			return err
		}
		if p.Default {
			if defaultPlan != "" {
				return errorf(CodeInvalidConfig, "plans: %s and %s are both the default plan; at most one plan can be the default", defaultPlan, name)
			}
			defaultPlan = name
		}
	}
	for _, name := range sortedConfigKeys(c.Packs) {
		if err := c.validatePack(name, c.Packs[name]); err != nil {
			return err
		}
	}
	return nil
}

// currencyNameRE matches a currency name.
var currencyNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// validateCurrencies checks currency names and decimals and that no two
// currencies can be confused.
func validateCurrencies(cs []Currency) error {
	for i, cur := range cs {
		if err := checkCurrency(cur); err != nil {
			return errorf(CodeInvalidConfig, "currencies[%d]: %s", i, err)
		}
		for _, prev := range cs[:i] {
			if currenciesConfusable(prev.Name, cur.Name) {
				return errorf(CodeInvalidConfig, "currencies: %s and %s can be confused; give currencies distinct names", prev.Name, cur.Name)
			}
		}
	}
	return nil
}

// checkCurrency checks one currency and returns a message, not yet wrapped.
func checkCurrency(cur Currency) error {
	if !currencyNameRE.MatchString(cur.Name) {
		return fmt.Errorf("expected a currency name of letters, digits and underscores starting with a letter, such as credits, got %q", cur.Name)
	}
	if cur.Decimals < 0 || cur.Decimals > maxCurrencyDecimals {
		return fmt.Errorf("expected decimals from 0 to %d, got %d", maxCurrencyDecimals, cur.Decimals)
	}
	return nil
}

// currenciesConfusable reports whether two currency names would be read as the same
// word in a formula.
func currenciesConfusable(a, b string) bool {
	return strings.EqualFold(a, b) || strings.EqualFold(singularName(a), singularName(b)) ||
		strings.EqualFold(singularName(a), b) || strings.EqualFold(a, singularName(b))
}

// checkConfigName checks the name of an operation, plan or pack.
func checkConfigName(kind, name string) error {
	if name == "" {
		return errorf(CodeInvalidConfig, "%s name is empty", kind)
	}
	if strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return errorf(CodeInvalidConfig, "%s name %q contains spaces or control characters; use a word such as process_image", kind, name)
	}
	return nil
}

func (c *Config) validateOperation(name string, o *Operation) error {
	if err := checkConfigName("operation", name); err != nil {
		return err
	}
	if o == nil {
		return errorf(CodeInvalidConfig, "operations.%s: operation is nil", name)
	}
	if o.Name != "" && o.Name != name {
		return errorf(CodeInvalidConfig, "operations.%s: operation is named %q; the name must match its key", name, o.Name)
	}
	if o.Currency != "" {
		if _, ok := c.Currency(o.Currency); !ok {
			return errorf(CodeInvalidConfig, "operations.%s: unknown currency %q; configured currencies: %s", name, o.Currency, currencyNames(c.currencies()))
		}
	}
	if o.Fixed != nil && o.Fixed.Sign() < 0 {
		return errorf(CodeInvalidConfig, "operations.%s: the fixed cost must not be negative", name)
	}
	if o.Fixed != nil && !roundRatWith(o.Fixed, RoundCeil).IsInt64() {
		return errorf(CodeInvalidConfig, "operations.%s: the fixed cost is too large to fit in 64 bits", name)
	}
	for i, t := range o.Terms {
		switch {
		case t.Rate == nil || t.Rate.Sign() < 0:
			return errorf(CodeInvalidConfig, "operations.%s: term %d needs a rate of zero or more", name, i+1)
		case t.Per == nil || t.Per.Sign() <= 0:
			return errorf(CodeInvalidConfig, "operations.%s: term %d needs a per quantity more than zero", name, i+1)
		case !unitWordRE.MatchString(t.Unit):
			return errorf(CodeInvalidConfig, "operations.%s: term %d has unit %q; use one lower-case word such as mb, second or token", name, i+1, t.Unit)
		}
	}
	for _, k := range sortedConfigKeys(o.Limits) {
		if l := o.Limits[k]; l == nil || l.Sign() < 0 {
			return errorf(CodeInvalidConfig, "operations.%s.limits.%s: expected a number of zero or more", name, k)
		}
	}
	return nil
}

func (c *Config) validatePlan(name string, p *Plan) error {
	if err := checkConfigName("plan", name); err != nil {
		return err
	}
	if p == nil {
		return errorf(CodeInvalidConfig, "plans.%s: plan is nil", name)
	}
	if p.Name != "" && p.Name != name {
		return errorf(CodeInvalidConfig, "plans.%s: plan is named %q; the name must match its key", name, p.Name)
	}
	if p.Currency != "" {
		if _, ok := c.Currency(p.Currency); !ok {
			return errorf(CodeInvalidConfig, "plans.%s: unknown currency %q; configured currencies: %s", name, p.Currency, currencyNames(c.currencies()))
		}
	}
	for _, a := range []struct {
		key string
		v   Amount
	}{{"gives", p.Gives}, {"rollover cap", p.RolloverCap}, {"signup_bonus", p.SignupBonus}, {"trial_includes", p.TrialIncludes}, {"overage", p.Overage}} {
		if a.v < 0 {
			return errorf(CodeInvalidConfig, "plans.%s: %s must not be negative, got %d", name, a.key, a.v)
		}
	}
	if p.Gives > 0 || p.Every != (Period{}) {
		if !validPeriodUnit(p.Every.Unit) || p.Every.Count < 1 {
			return errorf(CodeInvalidConfig, "plans.%s: a plan that gives credits needs a period of at least 1 day, week, month or year, got %d %q", name, p.Every.Count, p.Every.Unit)
		}
	}
	switch p.UnusedCredits {
	case "", unusedExpire:
		if p.RolloverCap != 0 {
			return errorf(CodeInvalidConfig, "plans.%s: a rollover cap needs unused_credits: rollover", name)
		}
	case unusedRollover:
	default:
		return errorf(CodeInvalidConfig, "plans.%s.unused_credits: expected expire or rollover, got %q", name, p.UnusedCredits)
	}
	if p.ExpireAfter < 0 {
		return errorf(CodeInvalidConfig, "plans.%s.expire_after: must not be negative", name)
	}
	return nil
}

func (c *Config) validatePack(name string, p *Pack) error {
	if err := checkConfigName("pack", name); err != nil {
		return err
	}
	if p == nil {
		return errorf(CodeInvalidConfig, "packs.%s: pack is nil", name)
	}
	if p.Name != "" && p.Name != name {
		return errorf(CodeInvalidConfig, "packs.%s: pack is named %q; the name must match its key", name, p.Name)
	}
	if p.Gives <= 0 {
		return errorf(CodeInvalidConfig, "packs.%s.gives: a pack must give more than zero credits", name)
	}
	if p.Currency != "" {
		if _, ok := c.Currency(p.Currency); !ok {
			return errorf(CodeInvalidConfig, "packs.%s: unknown currency %q; configured currencies: %s", name, p.Currency, currencyNames(c.currencies()))
		}
	}
	if p.PriceCents < 0 {
		return errorf(CodeInvalidConfig, "packs.%s.costs: must not be negative", name)
	}
	if p.PriceCurrency != "" && !moneyCodeRE.MatchString(p.PriceCurrency) {
		return errorf(CodeInvalidConfig, "packs.%s.costs: expected an ISO 4217 currency code such as USD, got %q", name, p.PriceCurrency)
	}
	if p.ExpiresAfter < 0 {
		return errorf(CodeInvalidConfig, "packs.%s.expires_after: must not be negative", name)
	}
	return nil
}

// validPeriodUnit reports whether u is a refill period unit.
func validPeriodUnit(u string) bool {
	switch u {
	case "day", "week", "month", "year":
		return true
	}
	return false
}

// sortedConfigKeys returns the keys of m in order.
func sortedConfigKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

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
	configRootKeys      = []string{"currency", "currencies", "rounding", "low_balance", "operations", "plans", "packs"}
	configCurrencyKeys  = []string{"name", "decimals"}
	configOperationKeys = []string{"cost", "meta", "limits"}
	configPlanKeys      = []string{"default", "gives", "unused_credits", "stripe_price", "signup_bonus", "trial_includes", "expire_after", "overage"}
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
		case "operations":
			err = p.parseOperations(e.v)
		case "plans":
			err = p.parsePlans(e.v)
		case "packs":
			err = p.parsePacks(e.v)
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
		}
	}
	if op == nil {
		return nil, p.errAt(e.k, path, "missing cost; write it like cost: 20 credits")
	}
	op.Meta, op.Limits = meta, limits
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

// parsePlans reads the plans mapping.
func (p *configParser) parsePlans(n *yaml.Node) error {
	entries, err := p.mapping(n, "plans", nil, "a mapping of plan names to plans")
	if err != nil {
		return err
	}
	defaultPlan, defaultLine := "", 0
	for _, e := range entries {
		path := "plans." + e.key
		if err := checkConfigName("plan", e.key); err != nil {
			return p.errAt(e.k, path, "%s", err.(*Error).Message)
		}
		plan, defNode, err := p.parsePlan(e, path)
		if err != nil {
			return err
		}
		if plan.Default {
			if defaultPlan != "" {
				return p.errAt(defNode, path+".default", "only one plan can be the default, and %s already is (line %d)", defaultPlan, defaultLine)
			}
			defaultPlan, defaultLine = e.key, defNode.Line
		}
		p.cfg.Plans[e.key] = plan
	}
	return nil
}

// parsePlan reads one plan. It returns the node of its default key, if any.
func (p *configParser) parsePlan(e yamlEntry, path string) (*Plan, *yaml.Node, error) {
	entries, err := p.mapping(e.v, path, configPlanKeys, "a plan with keys "+strings.Join(configPlanKeys, ", "))
	if err != nil {
		return nil, nil, err
	}
	plan := &Plan{Name: e.key, UnusedCredits: unusedExpire}
	var defNode, stripeNode *yaml.Node
	curNode := (*yaml.Node)(nil)
	// sameCurrency makes every amount of the plan use one currency.
	sameCurrency := func(n *yaml.Node, fp, cur string) error {
		if plan.Currency == "" {
			plan.Currency, curNode = cur, n
			return nil
		}
		if cur != plan.Currency {
			return p.errAt(n, fp, "is in %s but the plan's other amounts are in %s (line %d); use one currency per plan", cur, plan.Currency, curNode.Line)
		}
		return nil
	}
	for _, f := range entries {
		fp := joinPath(path, f.key)
		switch f.key {
		case "default":
			s, err := p.scalar(f.v, fp, "true or false")
			if err != nil {
				return nil, nil, err
			}
			switch strings.ToLower(s) {
			case "true":
				plan.Default = true
			case "false":
			default:
				return nil, nil, p.errAt(f.v, fp, "expected true or false, got %q", s)
			}
			defNode = f.v
		case "gives":
			a, cur, period, err := p.gives(f.v, fp)
			if err != nil {
				return nil, nil, err
			}
			if err := sameCurrency(f.v, fp, cur); err != nil {
				return nil, nil, err
			}
			plan.Gives, plan.Every = a, period
		case "unused_credits":
			if err := p.unusedCredits(f.v, fp, plan, sameCurrency); err != nil {
				return nil, nil, err
			}
		case "stripe_price":
			stripeNode = yamlDeref(f.v)
			if stripeNode.Kind == yaml.ScalarNode && !yamlIsNull(stripeNode) {
				continue // keyed by the plan's period once it is known
			}
			se, err := p.mapping(stripeNode, fp, configPeriodKeys, "a Stripe price ID, or a mapping like { month: price_pro_m, year: price_pro_y }")
			if err != nil {
				return nil, nil, err
			}
			plan.StripePrice = map[string]string{}
			for _, s := range se {
				id, err := p.scalar(s.v, joinPath(fp, s.key), "a Stripe price ID such as price_pro_m")
				if err != nil {
					return nil, nil, err
				}
				plan.StripePrice[s.key] = id
			}
		case "signup_bonus", "trial_includes":
			a, cur, err := p.amount(f.v, fp, "1000 "+p.cfg.DefaultCurrency().Name)
			if err != nil {
				return nil, nil, err
			}
			if err := sameCurrency(f.v, fp, cur); err != nil {
				return nil, nil, err
			}
			if f.key == "signup_bonus" {
				plan.SignupBonus = a
			} else {
				plan.TrialIncludes = a
			}
		case "expire_after":
			d, err := p.duration(f.v, fp)
			if err != nil {
				return nil, nil, err
			}
			plan.ExpireAfter = d
		case "overage":
			if err := p.overage(f.v, fp, plan, sameCurrency); err != nil {
				return nil, nil, err
			}
		}
	}
	if stripeNode != nil && stripeNode.Kind == yaml.ScalarNode && !yamlIsNull(stripeNode) {
		unit := plan.Every.Unit
		if unit == "" {
			unit = "month"
		}
		plan.StripePrice = map[string]string{unit: strings.TrimSpace(stripeNode.Value)}
	}
	if plan.Currency == "" {
		plan.Currency = p.cfg.DefaultCurrency().Name
	}
	return plan, defNode, nil
}

// gives reads "500 credits every month" / "every 2 weeks".
func (p *configParser) gives(n *yaml.Node, path string) (Amount, string, Period, error) {
	example := fmt.Sprintf("500 %s every month", p.cfg.DefaultCurrency().Name)
	expected := fmt.Sprintf("an amount and a period like %q or %q", example, "100 "+p.cfg.DefaultCurrency().Name+" every 2 weeks")
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return 0, "", Period{}, err
	}
	f := strings.Fields(s)
	if len(f) < 4 || len(f) > 5 || !strings.EqualFold(f[2], "every") {
		return 0, "", Period{}, p.errAt(n, path, "expected %s, got %q", expected, s)
	}
	a, cur, err := p.amount(&yaml.Node{Kind: yaml.ScalarNode, Value: f[0] + " " + f[1], Line: n.Line}, path, example)
	if err != nil {
		return 0, "", Period{}, err
	}
	if a == 0 {
		return 0, "", Period{}, p.errAt(n, path, "a plan must give more than zero credits; remove gives instead")
	}
	period := Period{Count: 1}
	unit := strings.ToLower(f[len(f)-1])
	if len(f) == 5 {
		c, err := strconv.Atoi(f[3])
		if err != nil || c < 1 || c > 1000 {
			return 0, "", Period{}, p.errAt(n, path, "expected a whole number of periods from 1 to 1000 after every, got %q", f[3])
		}
		period.Count = c
	}
	period.Unit = strings.TrimSuffix(unit, "s")
	if !validPeriodUnit(period.Unit) || (period.Count == 1 && unit != period.Unit && len(f) == 4) {
		return 0, "", Period{}, p.errAt(n, path, "expected a period of day, week, month or year (like %q or %q), got %q", "every month", "every 2 weeks", strings.Join(f[2:], " "))
	}
	return a, cur, period, nil
}

// unusedCredits reads "expire", "rollover" or "rollover up to 5000 credits".
func (p *configParser) unusedCredits(n *yaml.Node, path string, plan *Plan, same func(*yaml.Node, string, string) error) error {
	expected := fmt.Sprintf("expire, rollover, or %q", "rollover up to 5000 "+p.cfg.DefaultCurrency().Name)
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return err
	}
	f := strings.Fields(strings.ToLower(s))
	switch {
	case len(f) == 1 && f[0] == unusedExpire:
		plan.UnusedCredits = unusedExpire
	case len(f) == 1 && f[0] == unusedRollover:
		plan.UnusedCredits = unusedRollover
	case len(f) == 5 && f[0] == unusedRollover && f[1] == "up" && f[2] == "to":
		orig := strings.Fields(s)
		a, cur, err := p.amount(&yaml.Node{Kind: yaml.ScalarNode, Value: orig[3] + " " + orig[4], Line: n.Line}, path, "5000 "+p.cfg.DefaultCurrency().Name)
		if err != nil {
			return err
		}
		if a == 0 {
			return p.errAt(n, path, "a rollover cap must be more than zero; write expire to roll nothing over")
		}
		if err := same(n, path, cur); err != nil {
			return err
		}
		plan.UnusedCredits, plan.RolloverCap = unusedRollover, a
	default:
		return p.errAt(n, path, "expected %s, got %q", expected, s)
	}
	return nil
}

// overage reads "none" or "up to 10000 credits".
func (p *configParser) overage(n *yaml.Node, path string, plan *Plan, same func(*yaml.Node, string, string) error) error {
	expected := fmt.Sprintf("none or %q", "up to 10000 "+p.cfg.DefaultCurrency().Name)
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return err
	}
	f := strings.Fields(s)
	switch {
	case len(f) == 1 && strings.EqualFold(f[0], "none"):
		plan.Overage, plan.OverageSet = 0, true
	case len(f) == 4 && strings.EqualFold(f[0], "up") && strings.EqualFold(f[1], "to"):
		a, cur, err := p.amount(&yaml.Node{Kind: yaml.ScalarNode, Value: f[2] + " " + f[3], Line: n.Line}, path, "10000 "+p.cfg.DefaultCurrency().Name)
		if err != nil {
			return err
		}
		if a == 0 {
			return p.errAt(n, path, "an overage limit must be more than zero; write none for no overage")
		}
		if err := same(n, path, cur); err != nil {
			return err
		}
		plan.Overage, plan.OverageSet = a, true
	default:
		return p.errAt(n, path, "expected %s, got %q", expected, s)
	}
	return nil
}

// duration reads a non-negative duration such as "30 days"; "never" is 0.
func (p *configParser) duration(n *yaml.Node, path string) (time.Duration, error) {
	expected := `a duration like "30 days", "12h" or "1 year"`
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return 0, err
	}
	if strings.EqualFold(s, "never") {
		return 0, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		var e *Error
		reason := err.Error()
		if errors.As(err, &e) {
			reason = e.Message
		}
		return 0, p.errAt(n, path, "expected %s, got %q (%s)", expected, s, reason)
	}
	if d < 0 {
		return 0, p.errAt(n, path, "expected %s, got %q: durations must not be negative", expected, s)
	}
	return d, nil
}

// parsePacks reads the packs mapping.
func (p *configParser) parsePacks(n *yaml.Node) error {
	entries, err := p.mapping(n, "packs", nil, "a mapping of pack names to packs")
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := "packs." + e.key
		if err := checkConfigName("pack", e.key); err != nil {
			return p.errAt(e.k, path, "%s", err.(*Error).Message)
		}
		pack, err := p.parsePack(e, path)
		if err != nil {
			return err
		}
		p.cfg.Packs[e.key] = pack
	}
	return nil
}

// parsePack reads one pack.
func (p *configParser) parsePack(e yamlEntry, path string) (*Pack, error) {
	entries, err := p.mapping(e.v, path, configPackKeys, "a pack like { gives: 1000 credits, costs: 49 USD }")
	if err != nil {
		return nil, err
	}
	pack := &Pack{Name: e.key}
	hasGives, hasCosts := false, false
	for _, f := range entries {
		fp := joinPath(path, f.key)
		switch f.key {
		case "gives":
			a, cur, err := p.amount(f.v, fp, "1000 "+p.cfg.DefaultCurrency().Name)
			if err != nil {
				return nil, err
			}
			if a == 0 {
				return nil, p.errAt(f.v, fp, "a pack must give more than zero credits")
			}
			pack.Gives, pack.Currency, hasGives = a, cur, true
		case "costs":
			cents, code, err := p.money(f.v, fp)
			if err != nil {
				return nil, err
			}
			pack.PriceCents, pack.PriceCurrency, hasCosts = cents, code, true
		case "expires_after":
			d, err := p.duration(f.v, fp)
			if err != nil {
				return nil, err
			}
			pack.ExpiresAfter = d
		case "stripe_price":
			s, err := p.scalar(f.v, fp, "a Stripe price ID such as price_starter")
			if err != nil {
				return nil, err
			}
			pack.StripePrice = s
		}
	}
	if !hasGives {
		return nil, p.errAt(e.k, path, "missing gives; write it like gives: 1000 %s", p.cfg.DefaultCurrency().Name)
	}
	if !hasCosts {
		return nil, p.errAt(e.k, path, "missing costs; write it like costs: 49 USD")
	}
	return pack, nil
}

// moneyCodeRE matches an ISO 4217 currency code.
var moneyCodeRE = regexp.MustCompile(`^[A-Z]{3}$`)

// FormatPrice prints the pack's price in its money currency, such as
// "49.00 USD".
func (p *Pack) FormatPrice() string {
	return FormatAmount(Amount(p.PriceCents), moneyDecimals(p.PriceCurrency), p.PriceCurrency)
}

// moneyDecimals returns the number of minor-unit digits of an ISO 4217
// currency: 0 for JPY and friends, 3 for BHD and friends, 2 otherwise.
func moneyDecimals(code string) int {
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// money reads a price such as "49 USD" or "4.99 EUR" into minor units.
func (p *configParser) money(n *yaml.Node, path string) (int64, string, error) {
	expected := `a price like "49 USD" or "4.99 EUR"`
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return 0, "", err
	}
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, "", p.errAt(n, path, "expected %s, got %q", expected, s)
	}
	code := strings.ToUpper(f[1])
	if !moneyCodeRE.MatchString(code) {
		return 0, "", p.errAt(n, path, "expected %s with an ISO 4217 currency code, got %q", expected, s)
	}
	a, err := ParseAmount(f[0], moneyDecimals(code))
	if err != nil || a < 0 {
		reason := "prices must not be negative"
		var e *Error
		if errors.As(err, &e) {
			reason = e.Message
		}
		return 0, "", p.errAt(n, path, "expected %s, got %q (%s)", expected, s, reason)
	}
	return int64(a), code, nil
}
