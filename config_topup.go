package creditkit

import (
	"errors"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configAutoTopUpKeys are the keys of the config's auto_topup mapping.
var configAutoTopUpKeys = []string{"threshold", "pack", "target_balance", "monthly_cap", "cooldown", "enabled"}

// validateAutoTopUp checks the config's default auto top-up (a config built
// in Go; a YAML one was checked line by line as it was read).
func (c *Config) validateAutoTopUp() error {
	if c.AutoTopUp == nil {
		return nil
	}
	a := *c.AutoTopUp
	a.Enabled = true // check every field, even of a default that is off
	pack, ok := c.Packs[a.Pack]
	cur := c.DefaultCurrency().Name
	if ok {
		cur = packCurrency(c, pack)
	}
	if _, err := c.checkAutoTopUp(&a, cur); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return errorf(CodeInvalidConfig, "auto_topup: %s", e.Message)
		}
		return err
	}
	return nil
}

// AutoTopUpDefault returns the config's default auto top-up settings, or
// the zero settings (off) when it has none: what a customer's settings
// start from when they leave a field out.
func (c *Config) AutoTopUpDefault() AutoTopUp {
	if c.AutoTopUp == nil {
		return AutoTopUp{Cooldown: DefaultTopUpCooldown}
	}
	a := *c.AutoTopUp
	if a.Cooldown == 0 {
		a.Cooldown = DefaultTopUpCooldown
	}
	return a
}

// parseAutoTopUp reads
//
//	auto_topup: { threshold: 100 credits, pack: starter, target_balance: 1000 credits,
//	              monthly_cap: 200 USD, cooldown: 1h, enabled: true }
//
// packs is the config's packs node (nil when it has none), read first when
// it comes later in the file, so that the pack can be checked here, with
// its line.
func (p *configParser) parseAutoTopUp(n, packs *yaml.Node) error {
	const path = "auto_topup"
	entries, err := p.mapping(n, path, configAutoTopUpKeys, "a mapping like { threshold: 100 credits, pack: starter, monthly_cap: 200 USD, cooldown: 1h }")
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if packs != nil && len(p.cfg.Packs) == 0 {
		if err := p.parsePacks(packs); err != nil {
			return err
		}
	}
	a := &AutoTopUp{Enabled: true, Cooldown: DefaultTopUpCooldown}
	var (
		thresholdCur, targetCur string
		capCode                 string
		nodes                   = map[string]*yaml.Node{}
	)
	for _, e := range entries {
		fp := joinPath(path, e.key)
		nodes[e.key] = e.v
		switch e.key {
		case "threshold", "target_balance":
			amt, cur, err := p.amount(e.v, fp, "100 "+p.cfg.DefaultCurrency().Name)
			if err != nil {
				return err
			}
			if e.key == "threshold" {
				if amt == 0 {
					return p.errAt(e.v, fp, "must be above zero: a spend that leaves the available balance under it buys credits")
				}
				a.Threshold, thresholdCur = amt, cur
			} else {
				a.TargetBalance, targetCur = amt, cur
			}
		case "pack":
			s, err := p.scalar(e.v, fp, "the name of one of the config's packs")
			if err != nil {
				return err
			}
			a.Pack = s
		case "monthly_cap":
			cents, code, err := p.money(e.v, fp)
			if err != nil {
				return err
			}
			a.MonthlyCapCents, capCode = cents, code
		case "cooldown":
			s, err := p.scalar(e.v, fp, `a duration like "1h" or "30m"`)
			if err != nil {
				return err
			}
			d, err := ParseDuration(s)
			if err != nil || d < MinTopUpCooldown {
				return p.errAt(e.v, fp, "expected a duration of at least %s like \"1h\" or \"30m\", got %q (it also spaces the retries of a failing charge)", MinTopUpCooldown, s)
			}
			a.Cooldown = d
		case "enabled":
			s, err := p.scalar(e.v, fp, "true or false")
			if err != nil {
				return err
			}
			switch strings.ToLower(s) {
			case "true", "yes", "on":
				a.Enabled = true
			case "false", "no", "off":
				a.Enabled = false
			default:
				return p.errAt(e.v, fp, "expected true or false, got %q", s)
			}
		}
	}
	if a.Threshold == 0 {
		return p.errAt(n, path, "missing threshold; write it like threshold: 100 %s", p.cfg.DefaultCurrency().Name)
	}
	if a.Pack == "" {
		return p.errAt(n, path, "missing pack; name the pack to buy (and whose price prices target_balance), one of: %s", p.cfg.packNames())
	}
	pack, ok := p.cfg.Packs[a.Pack]
	if !ok {
		return p.errAt(nodes["pack"], path+".pack", "no pack named %q; configured packs: %s", a.Pack, p.cfg.packNames())
	}
	cur := packCurrency(p.cfg, pack)
	if thresholdCur != cur {
		return p.errAt(nodes["threshold"], path+".threshold", "expected an amount in %s, the currency pack %s gives, got %q", cur, a.Pack, yamlDeref(nodes["threshold"]).Value)
	}
	if targetCur != "" && targetCur != cur {
		return p.errAt(nodes["target_balance"], path+".target_balance", "expected an amount in %s, the currency pack %s gives, got %q", cur, a.Pack, yamlDeref(nodes["target_balance"]).Value)
	}
	if capCode != "" && capCode != pack.PriceCurrency {
		return p.errAt(nodes["monthly_cap"], path+".monthly_cap", "expected money in %s, the currency of pack %s's price, got %q", pack.PriceCurrency, a.Pack, yamlDeref(nodes["monthly_cap"]).Value)
	}
	check := *a
	check.Enabled = true
	if _, err := p.cfg.checkAutoTopUp(&check, cur); err != nil {
		var e *Error
		at := n
		for _, k := range []string{"target_balance", "monthly_cap", "pack"} {
			msg := err.Error()
			if nodes[k] != nil && (strings.Contains(msg, k) || strings.Contains(msg, strings.ReplaceAll(k, "_", " "))) {
				at = nodes[k]
				break
			}
		}
		if errors.As(err, &e) {
			return p.errAt(at, path, "%s", e.Message)
		}
		return err
	}
	p.cfg.AutoTopUp = a
	return nil
}

// ParseMoney reads money such as "200 USD" or "4.99 EUR" into minor units
// of its ISO 4217 currency.
func ParseMoney(s string) (int64, string, error) {
	f := strings.Fields(s)
	if len(f) != 2 || !moneyCodeRE.MatchString(strings.ToUpper(f[1])) {
		return 0, "", errorf(CodeInvalidRequest, "expected money like \"200 USD\" or \"4.99 EUR\", got %q", s)
	}
	code := strings.ToUpper(f[1])
	a, err := ParseAmount(f[0], moneyDecimals(code))
	if err != nil || a < 0 {
		return 0, "", errorf(CodeInvalidRequest, "expected money like \"200 USD\" or \"4.99 EUR\", got %q: the amount must be a number of at most %d decimals, not negative", s, moneyDecimals(code))
	}
	return int64(a), code, nil
}
