package creditkit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/creditkit/creditkit/store"
)

// Balance alerts: credits.balance.low fires when a movement that lowers a
// wallet's available balance leaves it under a threshold, once until the
// balance is back at or above that threshold, which fires
// credits.balance.recovered. A grant that leaves the wallet still under a
// threshold fires nothing. The thresholds are the config's global
// low_balance (default currency only) plus the wallet's own, set with
// SetBalanceAlerts: absolute amounts, or a percentage of the wallet's last
// refill (its newest subscription grant).

// maxThresholds bounds a wallet's own thresholds.
const maxThresholds = 10

// Threshold is one low-balance threshold: an absolute Amount, or Percent of
// the wallet's last refill (1 to 100). Exactly one is set.
type Threshold struct {
	Amount  Amount `json:"amount,omitempty"`
	Percent int    `json:"percent,omitempty"`
}

// String describes the threshold as a user writes it: "100" or "10%".
func (t Threshold) String() string {
	if t.Percent > 0 {
		return fmt.Sprintf("%d%%", t.Percent)
	}
	return fmt.Sprintf("%d", t.Amount)
}

// BalanceAlerts are a wallet's own low-balance thresholds and their state.
type BalanceAlerts struct {
	Customer   string      `json:"customer"`
	Currency   string      `json:"currency"`
	Thresholds []Threshold `json:"thresholds"`
	// Global is the config's low_balance, which applies to the default
	// currency besides the wallet's own thresholds (0: none).
	Global Amount `json:"global,omitempty"`
	// LastRefill is the amount of the wallet's newest subscription grant,
	// which percentage thresholds are of (0: none yet, so they are idle).
	LastRefill Amount `json:"last_refill"`
	// Low lists the thresholds (as amounts) the balance is under and was
	// announced to be under, until it recovers.
	Low []Amount `json:"low"`
}

// alertState is what the wallet row keeps (store.Wallet.Alerts).
type alertState struct {
	Thresholds []Threshold `json:"thresholds,omitempty"`
	LastRefill Amount      `json:"last_refill,omitempty"`
	Low        []Amount    `json:"low,omitempty"`
}

func readAlerts(row *store.Wallet) (alertState, error) {
	var a alertState
	if len(row.Alerts) == 0 {
		return a, nil
	}
	if err := json.Unmarshal(row.Alerts, &a); err != nil {
		return a, fmt.Errorf("wallet %s/%s: decode alerts: %w", row.Customer, row.Currency, err)
	}
	return a, nil
}

func writeAlerts(ws *walletState, a alertState) error {
	var data []byte
	if len(a.Thresholds) > 0 || a.LastRefill != 0 || len(a.Low) > 0 {
		var err error
		if data, err = json.Marshal(a); err != nil {
			return fmt.Errorf("encode alerts: %w", err)
		}
	}
	ws.row.Alerts = data
	ws.rowDirty = true
	return nil
}

// checkThresholds validates a wallet's own thresholds.
func checkThresholds(ts []Threshold) error {
	if len(ts) > maxThresholds {
		return errorf(CodeInvalidRequest, "%d thresholds: at most %d per wallet", len(ts), maxThresholds)
	}
	for _, t := range ts {
		switch {
		case t.Amount != 0 && t.Percent != 0:
			return errorf(CodeInvalidRequest, "threshold sets both amount (%d) and percent (%d): give one", t.Amount, t.Percent)
		case t.Percent != 0 && (t.Percent < 1 || t.Percent > 100):
			return errorf(CodeInvalidRequest, "threshold percent %d is out of range: give 1 to 100 (percent of the last refill)", t.Percent)
		case t.Percent == 0 && t.Amount <= 0:
			return errorf(CodeInvalidAmount, "threshold amount %d must be above zero (or give a percent of the last refill)", t.Amount)
		}
	}
	return nil
}

// SetAlertsOpts are options for SetBalanceAlerts. Nil means defaults.
type SetAlertsOpts struct {
	// Currency defaults to the config's default currency.
	Currency       string
	IdempotencyKey string
	Actor          string
}

// SetBalanceAlerts replaces a wallet's own low-balance thresholds (an empty
// list removes them; the config's global low_balance still applies). A
// threshold the balance is already under is not announced until the
// balance next goes down under it.
func (l *Ledger) SetBalanceAlerts(ctx context.Context, customer string, thresholds []Threshold, opts *SetAlertsOpts) (*BalanceAlerts, error) {
	if opts == nil {
		opts = &SetAlertsOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	if err := checkThresholds(thresholds); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	cur, err := l.currency(opts.Currency)
	if err != nil {
		return nil, err
	}
	key := walletKey(customer, cur.Name)
	req := &writeReq{
		kind:        "set_alerts",
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("set_alerts", []any{key, thresholds}),
		wallets:     staticWallets(key),
		decode:      decodeAs[BalanceAlerts](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			ws := w.wallet(key)
			a, err := readAlerts(ws.row)
			if err != nil {
				return nil, err
			}
			a.Thresholds = slices.Clone(thresholds)
			w.muts++
			if err := writeAlerts(ws, a); err != nil {
				return nil, err
			}
			return w.l.alertsView(key, a), nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*BalanceAlerts), nil
}

// GetBalanceAlerts returns a wallet's thresholds and their state (currency
// "" is the default currency).
func (l *Ledger) GetBalanceAlerts(ctx context.Context, customer, currency string) (*BalanceAlerts, error) {
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	cur, err := l.currency(currency)
	if err != nil {
		return nil, err
	}
	key := walletKey(customer, cur.Name)
	var a alertState
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		row, err := tx.Wallet(ctx, key)
		if err != nil {
			return err
		}
		if row == nil {
			return requireCustomer(ctx, tx, customer)
		}
		a, err = readAlerts(row)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l.alertsView(key, a), nil
}

func (l *Ledger) alertsView(key WalletKey, a alertState) *BalanceAlerts {
	out := &BalanceAlerts{Customer: key.Customer, Currency: key.Currency, Thresholds: a.Thresholds, LastRefill: a.LastRefill, Low: a.Low}
	if out.Thresholds == nil {
		out.Thresholds = []Threshold{}
	}
	if out.Low == nil {
		out.Low = []Amount{}
	}
	if key.Currency == l.cfg.DefaultCurrency().Name {
		out.Global = l.cfg.LowBalance
	}
	return out
}

// alertLevel is one threshold resolved to an amount.
type alertLevel struct {
	at     Amount
	source string // "config" or "customer"
	t      Threshold
}

// levels resolves the thresholds that apply to a wallet, lowest first.
func (w *writeState) levels(ws *walletState, a alertState) []alertLevel {
	var out []alertLevel
	if g := w.l.cfg.LowBalance; g > 0 && ws.key.Currency == w.l.cfg.DefaultCurrency().Name {
		out = append(out, alertLevel{at: g, source: "config", t: Threshold{Amount: g}})
	}
	for _, t := range a.Thresholds {
		at := t.Amount
		if t.Percent > 0 {
			if a.LastRefill <= 0 {
				continue // no refill yet: the percentage is of nothing
			}
			// Rounded up, so 10% of 15 warns under 2, never under 1.
			at = (a.LastRefill*Amount(t.Percent) + 99) / 100
		}
		if !slices.ContainsFunc(out, func(l alertLevel) bool { return l.at == at }) {
			out = append(out, alertLevel{at: at, source: "customer", t: t})
		}
	}
	slices.SortFunc(out, func(a, b alertLevel) int { return cmp.Compare(a.at, b.at) })
	return out
}

// balanceEvents adds credits.balance.depleted, credits.balance.low (when a
// movement down leaves the wallet under a threshold not yet announced) and
// credits.balance.recovered (when the balance is back at or above one that
// was), and remembers which thresholds are announced on the wallet row.
func (w *writeState) balanceEvents(ws *walletState) error {
	after := w.available(ws)
	if ws.before > 0 && after == 0 {
		w.event(EventBalanceDepleted, ws.key, map[string]any{"available": after})
	}
	a, err := readAlerts(ws.row)
	if err != nil {
		return err
	}
	changed := false
	// Recoveries first, for every announced level (a percentage level may
	// have moved with a new refill since it was announced).
	low := a.Low[:0:0]
	for _, at := range a.Low {
		if after >= at {
			w.event(EventBalanceRecovered, ws.key, map[string]any{"available": after, "threshold": at})
			changed = true
			continue
		}
		low = append(low, at)
	}
	if after < ws.before {
		for _, lv := range w.levels(ws, a) {
			if after >= lv.at || slices.Contains(low, lv.at) {
				continue
			}
			data := map[string]any{"available": after, "threshold": lv.at, "source": lv.source}
			if lv.t.Percent > 0 {
				data["percent"] = lv.t.Percent
			}
			w.event(EventBalanceLow, ws.key, data)
			low = append(low, lv.at)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	slices.Sort(low)
	a.Low = low
	return writeAlerts(ws, a)
}

// noteRefill records a subscription grant's amount as the wallet's last
// refill, the base of its percentage thresholds.
func (w *writeState) noteRefill(ws *walletState, g *Grant) error {
	if g.Source != SourceSubscription {
		return nil
	}
	a, err := readAlerts(ws.row)
	if err != nil {
		return err
	}
	a.LastRefill = g.Amount
	return writeAlerts(ws, a)
}
