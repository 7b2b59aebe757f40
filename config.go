package creditkit

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
	// UsageWindow bounds how far from now a charge's OccurredAt (a usage
	// event's timestamp) may lie. Zero fields mean the defaults: 5 minutes
	// ahead, 35 days back.
	UsageWindow UsageWindow
	// Operations are the priced operations, by name.
	Operations map[string]*Operation
	// Plans are the subscription plans, by name.
	Plans map[string]*Plan
	// Packs are the one-time credit packs, by name.
	Packs map[string]*Pack
	// RefundDebt says what a refund does with credits already spent:
	// RefundDebtAllow (record them as debt) or RefundDebtForbid (claw back
	// what remains, report the shortfall). "" means RefundDebtAllow.
	RefundDebt string
	// AutoTopUp is the auto top-up every customer gets in its pack's
	// currency unless it has settings of its own (see SetAutoTopUp); nil
	// means none. Enabled false gives only the defaults of settings saved
	// without them.
	AutoTopUp *AutoTopUp
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

// rounding returns the configured rounding, or the default.
func (c *Config) rounding() Rounding {
	if c.Rounding == "" {
		return RoundCeil
	}
	return c.Rounding
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
	if err := c.validateAutoTopUp(); err != nil {
		return err
	}
	return c.validatePayments()
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
	for i, t := range o.Terms {
		for j, prev := range o.Terms[:i] {
			if sameQuantity(unitOf(prev.Unit), unitOf(t.Unit)) {
				return errorf(CodeInvalidConfig, "operations.%s: terms %d (per %s) and %d (per %s) measure the same quantity, so one param would pay for both; write one term per quantity", name, j+1, prev.Unit, i+1, t.Unit)
			}
		}
	}
	for _, k := range sortedConfigKeys(o.Limits) {
		if l := o.Limits[k]; l == nil || l.Sign() < 0 {
			return errorf(CodeInvalidConfig, "operations.%s.limits.%s: expected a number of zero or more", name, k)
		}
	}
	for i, k := range o.Params {
		if msg := o.checkRecordParam(k, o.Params[:i]); msg != "" {
			return errorf(CodeInvalidConfig, "operations.%s.params: %s", name, msg)
		}
	}
	return nil
}

// checkRecordParam checks a param declared for the record, given the ones
// declared before it, and says what is wrong with it; "" when nothing is.
func (o *Operation) checkRecordParam(name string, before []string) string {
	switch {
	case name == "" || utf8.RuneCountInString(name) > maxParamKeyLen:
		return fmt.Sprintf("param name %q must be 1 to %d characters", name, maxParamKeyLen)
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Sprintf("param name %q contains spaces or control characters; use a word such as model", name)
	case slices.Contains(before, name):
		return fmt.Sprintf("%s is listed twice; remove one", name)
	case o.paidBy(name):
		return fmt.Sprintf("%s measures what the price is paid by, so it is accepted already and would be charged for; remove it from params", name)
	}
	return ""
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
