package creditkit

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
	// ExpireAfter is how long credits stay usable after cancellation, on the
	// calendar ("1 month" is a calendar month); empty means no particular
	// limit.
	ExpireAfter Span
	// Overage is how far into debt a customer may go, billed at period end;
	// 0 means none.
	Overage Amount
	// OverageSet reports whether the config said anything about overage
	// ("none" or "up to N credits").
	OverageSet bool
	// StripePrice maps a billing period ("month", "year") to a Stripe price ID.
	StripePrice map[string]string
	// Price is what the plan costs per billing interval, if it has a price:
	// the cost basis of its refill credits. Its interval may differ from the
	// refill period (a yearly price with monthly refills).
	Price *Price
	// OveragePrice is what overage credits cost when debt is settled.
	OveragePrice *OveragePrice
	// OnUpgrade is what an upgrade to this plan gives: "full" (the default:
	// a new period with the full allowance at once) or "prorate" (the
	// prorated difference for the rest of the current period).
	OnUpgrade string
	// CatchUp is how refills missed while nothing ran are applied: "all"
	// (the default: each missed period, in order) or "latest" (only the
	// latest period).
	CatchUp string
}

// Price is money per billing interval, such as 100 USD every month.
type Price struct {
	// Cents is the amount in minor units of Currency (cents for USD).
	Cents int64
	// Currency is the ISO 4217 code, such as "USD".
	Currency string
	// Every is the billing interval.
	Every Period
}

// OveragePrice is money per a number of credits, such as 1 USD per 100
// credits.
type OveragePrice struct {
	// Cents is the amount in minor units of Currency.
	Cents int64
	// Currency is the ISO 4217 code, such as "USD".
	Currency string
	// Per is how many credits (smallest units) Cents buys; at least 1.
	Per Amount
}

// Values of Plan.OnUpgrade and Plan.CatchUp.
const (
	UpgradeFull    = "full"
	UpgradeProrate = "prorate"
	CatchUpAll     = "all"
	CatchUpLatest  = "latest"
)

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
	// ExpiresAfter is how long the credits stay usable, on the calendar
	// ("1 year" is a calendar year); empty means they never expire.
	ExpiresAfter Span
	// StripePrice is the Stripe price ID of the pack, if any.
	StripePrice string
}

// Values of Plan.UnusedCredits.
const (
	unusedExpire   = "expire"
	unusedRollover = "rollover"
)

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
	if p.ExpireAfter.IsNegative() {
		return errorf(CodeInvalidConfig, "plans.%s.expire_after: must not be negative", name)
	}
	switch p.OnUpgrade {
	case "", UpgradeFull, UpgradeProrate:
	default:
		return errorf(CodeInvalidConfig, "plans.%s.on_upgrade: expected full or prorate, got %q", name, p.OnUpgrade)
	}
	switch p.CatchUp {
	case "", CatchUpAll, CatchUpLatest:
	default:
		return errorf(CodeInvalidConfig, "plans.%s.catch_up: expected all or latest, got %q", name, p.CatchUp)
	}
	if pr := p.Price; pr != nil {
		if pr.Cents < 0 || !moneyCodeRE.MatchString(pr.Currency) || !validPeriodUnit(pr.Every.Unit) || pr.Every.Count < 1 {
			return errorf(CodeInvalidConfig, "plans.%s.price: expected a price like 100 USD every month, got %+v", name, *pr)
		}
	}
	if op := p.OveragePrice; op != nil {
		if op.Cents < 0 || op.Per < 1 || !moneyCodeRE.MatchString(op.Currency) {
			return errorf(CodeInvalidConfig, "plans.%s.overage_price: expected a price like 1 USD per 100 credits, got %+v", name, *op)
		}
		if p.Overage == 0 {
			return errorf(CodeInvalidConfig, "plans.%s.overage_price: the plan allows no overage; add overage: up to N credits", name)
		}
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
	if p.ExpiresAfter.IsNegative() {
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
		case "price":
			pr, err := p.planPrice(f.v, fp)
			if err != nil {
				return nil, nil, err
			}
			plan.Price = pr
		case "overage_price":
			op, err := p.overagePrice(f.v, fp, sameCurrency)
			if err != nil {
				return nil, nil, err
			}
			plan.OveragePrice = op
		case "on_upgrade":
			if plan.OnUpgrade, err = p.oneOf(f.v, fp, UpgradeFull, UpgradeProrate); err != nil {
				return nil, nil, err
			}
		case "catch_up":
			if plan.CatchUp, err = p.oneOf(f.v, fp, CatchUpAll, CatchUpLatest); err != nil {
				return nil, nil, err
			}
		}
	}
	if plan.OveragePrice != nil && plan.Overage == 0 {
		return nil, nil, p.errAt(e.k, path+".overage_price", "the plan allows no overage; add overage: up to N credits, or remove overage_price")
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
	period, err := p.period(n, path, f[3:])
	if err != nil {
		return 0, "", Period{}, err
	}
	return a, cur, period, nil
}

// period reads the words after "every": "month", "2 weeks", "quarter",
// "15 days". A quarter is 3 months.
func (p *configParser) period(n *yaml.Node, path string, words []string) (Period, error) {
	bad := func() (Period, error) {
		return Period{}, p.errAt(n, path, "expected a period of day, week, month, quarter or year (like %q or %q), got %q",
			"every month", "every 15 days", "every "+strings.Join(words, " "))
	}
	period := Period{Count: 1}
	switch len(words) {
	case 1:
	case 2:
		c, err := strconv.Atoi(words[0])
		if err != nil || c < 1 || c > 1000 {
			return Period{}, p.errAt(n, path, "expected a whole number of periods from 1 to 1000 after every, got %q", words[0])
		}
		period.Count = c
	default:
		return bad()
	}
	unit := strings.ToLower(words[len(words)-1])
	period.Unit = strings.TrimSuffix(unit, "s")
	if len(words) == 1 && unit != period.Unit {
		return bad() // "every months"
	}
	if period.Unit == "quarter" {
		period.Count, period.Unit = 3*period.Count, "month"
	}
	if !validPeriodUnit(period.Unit) {
		return bad()
	}
	return period, nil
}

// planPrice reads "100 USD every month".
func (p *configParser) planPrice(n *yaml.Node, path string) (*Price, error) {
	expected := `a price per billing interval like "100 USD every month" or "1000 USD every year"`
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(s)
	if len(f) < 4 || len(f) > 5 || !strings.EqualFold(f[2], "every") {
		return nil, p.errAt(n, path, "expected %s, got %q", expected, s)
	}
	cents, code, err := p.money(&yaml.Node{Kind: yaml.ScalarNode, Value: f[0] + " " + f[1], Line: n.Line, Column: n.Column}, path)
	if err != nil {
		return nil, err
	}
	every, err := p.period(n, path, f[3:])
	if err != nil {
		return nil, err
	}
	return &Price{Cents: cents, Currency: code, Every: every}, nil
}

// overagePrice reads "1 USD per 100 credits" (or "0.01 USD per credit").
func (p *configParser) overagePrice(n *yaml.Node, path string, same func(*yaml.Node, string, string) error) (*OveragePrice, error) {
	expected := fmt.Sprintf("a price like %q", "1 USD per 100 "+p.cfg.DefaultCurrency().Name)
	s, err := p.scalar(n, path, expected)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(s)
	if (len(f) != 4 && len(f) != 5) || !strings.EqualFold(f[2], "per") {
		return nil, p.errAt(n, path, "expected %s, got %q", expected, s)
	}
	cents, code, err := p.money(&yaml.Node{Kind: yaml.ScalarNode, Value: f[0] + " " + f[1], Line: n.Line, Column: n.Column}, path)
	if err != nil {
		return nil, err
	}
	credits := f[3]
	if len(f) == 4 {
		credits = "1 " + f[3] // "per credit"
	} else {
		credits = f[3] + " " + f[4]
	}
	per, cur, err := p.amount(&yaml.Node{Kind: yaml.ScalarNode, Value: credits, Line: n.Line, Column: n.Column}, path, "100 "+p.cfg.DefaultCurrency().Name)
	if err != nil {
		return nil, err
	}
	if per < 1 {
		return nil, p.errAt(n, path, "expected %s: the number of credits must be at least 1, got %q", expected, s)
	}
	if err := same(n, path, cur); err != nil {
		return nil, err
	}
	return &OveragePrice{Cents: cents, Currency: code, Per: per}, nil
}

// oneOf reads one of a few words.
func (p *configParser) oneOf(n *yaml.Node, path string, words ...string) (string, error) {
	s, err := p.scalar(n, path, strings.Join(words, " or "))
	if err != nil {
		return "", err
	}
	for _, w := range words {
		if strings.EqualFold(s, w) {
			return w, nil
		}
	}
	return "", p.errAt(n, path, "expected %s, got %q", strings.Join(words, " or "), s)
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
	return FormatMoney(p.PriceCents, p.PriceCurrency)
}

// FormatMoney writes an amount of money in minor units of an ISO 4217
// currency, such as "49.00 USD".
func FormatMoney(minor int64, code string) string {
	return FormatAmount(Amount(minor), moneyDecimals(code), code)
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
