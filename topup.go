package creditkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/creditkit/creditkit/store"
)

// Auto top-up: when a spend leaves a wallet's available balance under a
// threshold, buy a pack (or the credits that bring the balance back to a
// target, at the pack's unit price) off-session with the customer's saved
// payment method. At most one purchase is in flight per wallet, across
// goroutines and processes: an attempt is claimed by a conditional save of
// the wallet's state row (store.TopUpStore.SaveTopUpState), then charged
// with the attempt's ID as the idempotency key, then fulfilled by Purchase
// on the payment's ID, exactly once. A cooldown separates attempts,
// succeeded or failed, and a monthly cap bounds the money spent.

// Event types of auto top-up, written to the outbox in the same
// transaction as the state change they describe.
const (
	// EventTopUpSucceeded says an auto top-up was charged and its credits
	// granted: data has the attempt, pack, credits, money and payment.
	EventTopUpSucceeded = "credits.topup.succeeded"
	// EventTopUpFailed says an auto top-up's charge failed (declined, no
	// saved payment method...): data has the attempt, the error and when
	// the next attempt may start. One per failed attempt.
	EventTopUpFailed = "credits.topup.failed"
)

// ActorAutoTopUp is the actor of the purchases auto top-up makes.
const ActorAutoTopUp = "auto_topup"

// Defaults of auto top-up settings and of the runner.
const (
	// DefaultTopUpCooldown is the cooldown of settings that give none.
	DefaultTopUpCooldown = time.Hour
	// MinTopUpCooldown is the shortest cooldown: it also spaces the
	// retries of a failing charge, so it cannot be zero.
	MinTopUpCooldown = time.Minute
	// DefaultTopUpStaleAfter is how long an attempt may stay in flight
	// before the runner resumes it.
	DefaultTopUpStaleAfter = 10 * time.Minute
	// topUpMaxResumeAge bounds the age of an attempt the runner re-charges:
	// Stripe keeps an idempotency key for 24 hours, after which the same
	// key could charge twice.
	topUpMaxResumeAge = 23 * time.Hour
)

// ErrChargeOutcomeUnknown is wrapped by a TopUpCharger's error when the
// charge may or may not have happened (a timeout, a broken connection, a
// 5xx, the same idempotency key still in progress). The attempt then stays
// in flight and is resumed later with the same idempotency key, which
// answers the first charge's result instead of charging again.
var ErrChargeOutcomeUnknown = errors.New("the charge's outcome is unknown")

// TopUpCharger charges a customer's saved payment method off-session. The
// Stripe adapter (stripe.OffSessionCharger) is one; an app that takes
// payments elsewhere can give its own.
type TopUpCharger interface {
	// ChargeOffSession charges req.AmountCents once per
	// req.IdempotencyKey: a second call with the same key and request
	// answers the first one's result. An error means the charge did not
	// succeed, unless it wraps ErrChargeOutcomeUnknown.
	ChargeOffSession(ctx context.Context, req ChargeRequest) (*ChargeResult, error)
}

// ChargeRequest is one off-session charge.
type ChargeRequest struct {
	// Customer is the creditkit customer ID.
	Customer string
	// AmountCents is the money to charge, in minor units of MoneyCurrency.
	AmountCents int64
	// MoneyCurrency is an ISO 4217 code, such as USD.
	MoneyCurrency string
	// IdempotencyKey is the attempt's ID: the same for every try of one
	// attempt.
	IdempotencyKey string
	// Description is shown to the customer on the payment.
	Description string
	// Metadata is attached to the payment (creditkit_customer,
	// creditkit_attempt, pack, credits).
	Metadata map[string]string
}

// ChargeResult is a charge that went through.
type ChargeResult struct {
	// Provider names the payment provider ("stripe"); the purchase is
	// unique per (Provider, PaymentIntentID).
	Provider        string
	PaymentIntentID string
	ChargeID        string
	// Status is the provider's status; only "succeeded" grants credits.
	Status string
}

// AutoTopUp is a wallet's auto top-up settings.
type AutoTopUp struct {
	// Enabled turns auto top-up on. Saving settings with Enabled false
	// turns it off for the wallet, whatever the config's default says.
	Enabled bool
	// Threshold: a spend that leaves the available balance under it
	// starts a top-up. Above zero.
	Threshold Amount
	// Pack is the config's pack to buy, in the wallet's currency, with a
	// price above zero.
	Pack string
	// TargetBalance, when above zero, buys the credits that bring the
	// available balance back to it, at the pack's unit price (rounded half
	// up to the minor unit, Pack.PriceFor), instead of the pack itself. It must be above
	// Threshold.
	TargetBalance Amount
	// MonthlyCapCents bounds the money auto top-up spends per calendar
	// month (UTC), in minor units of the pack's price currency; 0 means no
	// cap.
	MonthlyCapCents int64
	// Cooldown is the least time between two attempts, succeeded or
	// failed. Defaults to DefaultTopUpCooldown; at least MinTopUpCooldown.
	Cooldown time.Duration
}

// AutoTopUpOpts are options for SetAutoTopUp. Nil means defaults.
type AutoTopUpOpts struct {
	// Currency is the wallet's credit currency; defaults to the default
	// currency.
	Currency string
}

// Values of AutoTopUpStatus.Source.
const (
	TopUpSourceCustomer = "customer"
	TopUpSourceConfig   = "config"
	TopUpSourceNone     = "none"
)

// AutoTopUpStatus is a wallet's effective auto top-up settings and state.
type AutoTopUpStatus struct {
	Customer string `json:"customer"`
	Currency string `json:"currency"`
	// Source says where the settings come from: the customer's own
	// (customer), the config's default (config), or none.
	Source          string `json:"source" enum:"customer,config,none"`
	Enabled         bool   `json:"enabled"`
	Threshold       Amount `json:"threshold"`
	Pack            string `json:"pack,omitempty"`
	TargetBalance   Amount `json:"target_balance,omitempty"`
	MonthlyCapCents int64  `json:"monthly_cap_cents"`
	// MoneyCurrency is the pack's price currency, the cap's currency.
	MoneyCurrency string `json:"money_currency,omitempty"`
	// Cooldown as a duration string, such as "1h0m0s".
	Cooldown string `json:"cooldown"`
	// MonthSpentCents is what auto top-up spent this month (UTC).
	MonthSpentCents int64 `json:"month_spent_cents"`
	// InFlight is the attempt in flight, if any.
	InFlight       *TopUpAttempt `json:"in_flight,omitempty"`
	LastAttemptAt  *time.Time    `json:"last_attempt_at,omitempty"`
	LastPurchaseAt *time.Time    `json:"last_purchase_at,omitempty"`
	LastFailure    string        `json:"last_failure,omitempty"`
	LastFailureAt  *time.Time    `json:"last_failure_at,omitempty"`
	// NextAttemptAfter is when the cooldown ends.
	NextAttemptAfter *time.Time `json:"next_attempt_after,omitempty"`
}

// TopUpAttempt is an auto top-up in flight.
type TopUpAttempt struct {
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	Pack          string    `json:"pack"`
	Credits       Amount    `json:"credits"`
	AmountCents   int64     `json:"amount_cents"`
	MoneyCurrency string    `json:"money_currency"`
}

// topUpStore returns the store's auto top-up tables.
func (l *Ledger) topUpStore() (store.TopUpStore, error) {
	ts, ok := l.store.(store.TopUpStore)
	if !ok {
		return nil, errorf(CodeInvalidRequest, "this store keeps no auto top-up settings: use the SQLite or PostgreSQL store")
	}
	return ts, nil
}

// checkAutoTopUp checks settings for a wallet of currency cur, filling in
// the default cooldown, and returns the pack.
func (c *Config) checkAutoTopUp(a *AutoTopUp, cur string) (*Pack, error) {
	if a.Cooldown == 0 {
		a.Cooldown = DefaultTopUpCooldown
	}
	if !a.Enabled {
		return nil, nil
	}
	if a.Threshold <= 0 {
		return nil, errorf(CodeInvalidRequest, "auto top-up threshold must be above zero, such as 100: a spend that leaves the available balance under it buys credits")
	}
	if a.Pack == "" {
		return nil, errorf(CodeInvalidRequest, "auto top-up needs a pack to buy (or to price target_balance): name one of the config's packs: %s", c.packNames())
	}
	pack, ok := c.Packs[a.Pack]
	if !ok {
		return nil, errorf(CodeInvalidRequest, "auto top-up pack %q is not in the config; configured packs: %s", a.Pack, c.packNames())
	}
	if pc := packCurrency(c, pack); pc != cur {
		return nil, errorf(CodeInvalidRequest, "auto top-up pack %q gives %s, not %s: choose a pack in the wallet's currency", a.Pack, pc, cur)
	}
	if pack.PriceCents <= 0 || pack.PriceCurrency == "" {
		return nil, errorf(CodeInvalidRequest, "auto top-up pack %q has no price: give it costs, such as 49 USD", a.Pack)
	}
	if a.TargetBalance < 0 {
		return nil, errorf(CodeInvalidRequest, "auto top-up target_balance must not be negative")
	}
	if a.TargetBalance > 0 && a.TargetBalance <= a.Threshold {
		return nil, errorf(CodeInvalidRequest, "auto top-up target_balance %d must be above the threshold %d (or 0 to buy the pack itself)", a.TargetBalance, a.Threshold)
	}
	if a.TargetBalance > 0 {
		// A top-up buys at most the target (from an empty wallet; debt
		// adds at most the overage limit, checked when it runs): refuse a
		// target whose price no purchase can record, now rather than at
		// the first spend.
		if price := pack.PriceFor(a.TargetBalance); price < 0 || price > MaxPurchaseCents {
			return nil, errorf(CodeInvalidAmount, "auto top-up target_balance %d would cost more than a purchase records (at most %s): give a smaller target",
				a.TargetBalance, FormatMoney(MaxPurchaseCents, pack.PriceCurrency))
		}
	}
	if a.MonthlyCapCents < 0 {
		return nil, errorf(CodeInvalidRequest, "auto top-up monthly cap must not be negative (0 means no cap)")
	}
	if a.MonthlyCapCents > 0 && a.TargetBalance == 0 && a.MonthlyCapCents < pack.PriceCents {
		return nil, errorf(CodeInvalidRequest, "auto top-up monthly cap %s is less than the pack's price %s, so it could never buy it",
			FormatMoney(a.MonthlyCapCents, pack.PriceCurrency), pack.FormatPrice())
	}
	if a.Cooldown < MinTopUpCooldown {
		return nil, errorf(CodeInvalidRequest, "auto top-up cooldown %s is too short: give at least %s (it also spaces the retries of a failing charge)", a.Cooldown, MinTopUpCooldown)
	}
	return pack, nil
}

// packCurrency is the credit currency a pack gives.
func packCurrency(c *Config, p *Pack) string {
	if p.Currency == "" {
		return c.DefaultCurrency().Name
	}
	return p.Currency
}

// SetAutoTopUp saves a wallet's own auto top-up settings, which replace
// the config's default for it. Settings with Enabled false turn auto
// top-up off for the wallet.
func (l *Ledger) SetAutoTopUp(ctx context.Context, customer string, a AutoTopUp, opts *AutoTopUpOpts) (*AutoTopUpStatus, error) {
	if opts == nil {
		opts = &AutoTopUpOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	cur, err := l.currency(opts.Currency)
	if err != nil {
		return nil, err
	}
	if _, err := l.cfg.checkAutoTopUp(&a, cur.Name); err != nil {
		return nil, err
	}
	ts, err := l.topUpStore()
	if err != nil {
		return nil, err
	}
	now := l.Now()
	row := &store.TopUpSettings{Customer: customer, Currency: cur.Name, Enabled: a.Enabled, Threshold: int64(a.Threshold), Pack: a.Pack,
		TargetBalance: int64(a.TargetBalance), MonthlyCapCents: a.MonthlyCapCents, Cooldown: a.Cooldown, CreatedAt: now, UpdatedAt: now}
	if err := ts.SaveTopUpSettings(ctx, row); err != nil {
		return nil, fmt.Errorf("save auto top-up settings of %s: %w", customer, err)
	}
	return l.GetAutoTopUp(ctx, customer, cur.Name)
}

// DisableAutoTopUp turns auto top-up off for a wallet, including the
// config's default. An attempt already in flight still completes.
func (l *Ledger) DisableAutoTopUp(ctx context.Context, customer, currency string) (*AutoTopUpStatus, error) {
	a, _, err := l.autoTopUp(ctx, customer, currency)
	if err != nil {
		return nil, err
	}
	a.Enabled = false
	return l.SetAutoTopUp(ctx, customer, a, &AutoTopUpOpts{Currency: currency})
}

// GetAutoTopUp returns a wallet's effective auto top-up settings (its own,
// else the config's default) and its state.
func (l *Ledger) GetAutoTopUp(ctx context.Context, customer, currency string) (*AutoTopUpStatus, error) {
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	cur, err := l.currency(currency)
	if err != nil {
		return nil, err
	}
	a, source, err := l.autoTopUp(ctx, customer, cur.Name)
	if err != nil {
		return nil, err
	}
	ts, err := l.topUpStore()
	if err != nil {
		return nil, err
	}
	st, err := ts.TopUpState(ctx, customer, cur.Name)
	if err != nil {
		return nil, fmt.Errorf("read auto top-up state of %s: %w", customer, err)
	}
	out := &AutoTopUpStatus{Customer: customer, Currency: cur.Name, Source: source, Enabled: a.Enabled, Threshold: a.Threshold,
		Pack: a.Pack, TargetBalance: a.TargetBalance, MonthlyCapCents: a.MonthlyCapCents, Cooldown: a.Cooldown.String()}
	if p, ok := l.cfg.Packs[a.Pack]; ok {
		out.MoneyCurrency = p.PriceCurrency
	}
	if st != nil {
		now := l.Now()
		out.MonthSpentCents = monthSpent(st, now)
		out.LastAttemptAt, out.LastPurchaseAt = st.LastAttemptAt, st.LastPurchaseAt
		out.LastFailure, out.LastFailureAt = st.LastFailure, st.LastFailureAt
		if st.LastAttemptAt != nil {
			next := st.LastAttemptAt.Add(a.Cooldown)
			if next.After(now) {
				out.NextAttemptAfter = &next
			}
		}
		if st.AttemptID != "" {
			out.InFlight = &TopUpAttempt{ID: st.AttemptID, Pack: st.AttemptPack, Credits: Amount(st.AttemptCredits),
				AmountCents: st.AttemptCents, MoneyCurrency: st.AttemptMoneyCurrency}
			if st.AttemptStartedAt != nil {
				out.InFlight.StartedAt = *st.AttemptStartedAt
			}
		}
	}
	return out, nil
}

// autoTopUp returns a wallet's effective settings and where they come from.
func (l *Ledger) autoTopUp(ctx context.Context, customer, currency string) (AutoTopUp, string, error) {
	cur, err := l.currency(currency)
	if err != nil {
		return AutoTopUp{}, "", err
	}
	ts, err := l.topUpStore()
	if err != nil {
		return AutoTopUp{}, "", err
	}
	row, err := ts.TopUpSettings(ctx, customer, cur.Name)
	if err != nil {
		return AutoTopUp{}, "", fmt.Errorf("read auto top-up settings of %s: %w", customer, err)
	}
	if row != nil {
		return AutoTopUp{Enabled: row.Enabled, Threshold: Amount(row.Threshold), Pack: row.Pack, TargetBalance: Amount(row.TargetBalance),
			MonthlyCapCents: row.MonthlyCapCents, Cooldown: row.Cooldown}, TopUpSourceCustomer, nil
	}
	if d := l.cfg.AutoTopUp; d != nil {
		if p, ok := l.cfg.Packs[d.Pack]; ok && packCurrency(l.cfg, p) == cur.Name {
			a := *d
			if a.Cooldown == 0 {
				a.Cooldown = DefaultTopUpCooldown
			}
			return a, TopUpSourceConfig, nil
		}
	}
	return AutoTopUp{Cooldown: DefaultTopUpCooldown}, TopUpSourceNone, nil
}

// monthKey names the calendar month (UTC) of t, such as "2026-12".
func monthKey(t time.Time) string { return t.UTC().Format("2006-01") }

// monthSpent is what the state says auto top-up spent in now's month.
func monthSpent(st *store.TopUpState, now time.Time) int64 {
	if st.MonthKey != monthKey(now) {
		return 0
	}
	return st.MonthSpentCents
}

// topUpPrice returns the credits a top-up buys and their price: the pack,
// or in target mode the credits up to the target at the pack's unit price
// (Pack.PriceFor, rounded half up to the minor unit, as every purchase of
// a part of a pack is priced).
func topUpPrice(a AutoTopUp, pack *Pack, available Amount) (Amount, int64, error) {
	if a.TargetBalance <= 0 {
		return pack.Gives, pack.PriceCents, nil
	}
	credits, err := subAmounts(a.TargetBalance, available)
	if err != nil || credits <= 0 {
		return 0, 0, errorf(CodeInvalidRequest, "auto top-up: cannot buy up to %d from an available balance of %d", a.TargetBalance, available)
	}
	cents := pack.PriceFor(credits)
	if cents < 0 {
		return 0, 0, errorf(CodeInvalidAmount, "auto top-up: the price of %d credits overflows", credits)
	}
	return credits, cents, nil
}

// TopUpOutcome says what one auto top-up check did.
type TopUpOutcome string

// Outcomes of TopUpRunner.Check.
const (
	// TopUpPurchased: charged and granted.
	TopUpPurchased TopUpOutcome = "purchased"
	// TopUpFailed: the charge failed; credits.topup.failed was written.
	TopUpFailed TopUpOutcome = "failed"
	// TopUpDisabled: the wallet has no auto top-up.
	TopUpDisabled TopUpOutcome = "disabled"
	// TopUpNotNeeded: the available balance is at or above the threshold.
	TopUpNotNeeded TopUpOutcome = "not_needed"
	// TopUpInFlight: an attempt is in flight (here or in another process),
	// or this one's outcome is unknown and it will be resumed.
	TopUpInFlight TopUpOutcome = "in_flight"
	// TopUpCoolingDown: the last attempt ended less than the cooldown ago.
	TopUpCoolingDown TopUpOutcome = "cooldown"
	// TopUpMonthlyCap: the purchase would pass the monthly cap.
	TopUpMonthlyCap TopUpOutcome = "monthly_cap"
	// TopUpLostRace: another process claimed the wallet first.
	TopUpLostRace TopUpOutcome = "lost_race"
)

// TopUpRunnerOpts tune a TopUpRunner. Nil means defaults.
type TopUpRunnerOpts struct {
	// Workers is how many wallets are topped up at once. Defaults to 4.
	Workers int
	// StaleAfter is how long an attempt may stay in flight (a crash
	// between charge and purchase, an unknown charge outcome) before
	// ResumeStale charges it again with the same idempotency key. Defaults
	// to DefaultTopUpStaleAfter.
	StaleAfter time.Duration
	// SweepEvery is how often Start's loop runs ResumeStale. Defaults to
	// one minute.
	SweepEvery time.Duration
	// Logger defaults to the ledger's.
	Logger *slog.Logger
}

// TopUpRunner runs auto top-ups: it listens to the ledger's events
// (Ledger.Subscribe), and after a committed spend checks the wallet in a
// worker of its own, never in the spend's transaction nor its caller's
// goroutine. Events of one wallet that arrive while it waits or is being
// checked coalesce into one more check, so a burst of spends costs a few
// checks, not one each.
type TopUpRunner struct {
	l       *Ledger
	charger TopUpCharger
	opts    TopUpRunnerOpts
	logger  *slog.Logger

	mu      sync.Mutex
	queue   []WalletKey
	pending map[WalletKey]bool // queued
	active  map[WalletKey]bool // being checked
	again   map[WalletKey]bool // queued again while active
	waiters []chan struct{}
	wake    chan struct{}

	stop func()
	done sync.WaitGroup
}

// NewTopUpRunner returns a runner that charges through charger. Call Start
// to run it.
func NewTopUpRunner(l *Ledger, charger TopUpCharger, opts *TopUpRunnerOpts) *TopUpRunner {
	o := TopUpRunnerOpts{}
	if opts != nil {
		o = *opts
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultTopUpStaleAfter
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = time.Minute
	}
	logger := o.Logger
	if logger == nil {
		logger = l.logger
	}
	return &TopUpRunner{l: l, charger: charger, opts: o, logger: logger.With("component", "auto_topup"),
		pending: map[WalletKey]bool{}, active: map[WalletKey]bool{}, again: map[WalletKey]bool{}, wake: make(chan struct{}, 1)}
}

// Start subscribes to the ledger's events and starts the workers and the
// sweep that resumes stale attempts (once at once, then every SweepEvery),
// until ctx ends or Stop is called.
func (r *TopUpRunner) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	unsub := r.l.Subscribe(r.onEvent)
	r.stop = func() { unsub(); cancel() }
	for range r.opts.Workers {
		r.done.Add(1)
		go func() {
			defer r.done.Done()
			r.work(ctx)
		}()
	}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(r.opts.SweepEvery)
		defer t.Stop()
		for {
			if _, err := r.ResumeStale(ctx); err != nil && ctx.Err() == nil {
				r.logger.Error("resume stale auto top-ups", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop unsubscribes and waits for the workers to finish the wallet they
// are checking.
func (r *TopUpRunner) Stop() {
	if r.stop != nil {
		r.stop()
	}
	r.done.Wait()
}

// onEvent queues the wallet of a spend (or of a balance that went low or
// empty). It never blocks.
func (r *TopUpRunner) onEvent(e Event) {
	switch e.Type {
	case EventCreditsSpent, EventBalanceLow, EventBalanceDepleted:
	default:
		return
	}
	r.Enqueue(WalletKey{Customer: e.Customer, Currency: e.Currency})
}

// Enqueue asks for a check of a wallet by a worker.
func (r *TopUpRunner) Enqueue(key WalletKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.active[key]:
		r.again[key] = true
		return
	case r.pending[key]:
		return
	}
	r.pending[key] = true
	r.queue = append(r.queue, key)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Flush waits until every wallet queued before the call has been checked.
func (r *TopUpRunner) Flush(ctx context.Context) error {
	r.mu.Lock()
	if len(r.queue) == 0 && len(r.active) == 0 {
		r.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	r.waiters = append(r.waiters, ch)
	r.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// work checks queued wallets until ctx ends.
func (r *TopUpRunner) work(ctx context.Context) {
	for {
		r.mu.Lock()
		var key WalletKey
		found := false
		for i, k := range r.queue {
			if !r.active[k] {
				key, found = k, true
				r.queue = append(r.queue[:i:i], r.queue[i+1:]...)
				delete(r.pending, k)
				r.active[k] = true
				break
			}
		}
		if !found && len(r.queue) == 0 && len(r.active) == 0 {
			for _, w := range r.waiters {
				close(w)
			}
			r.waiters = nil
		}
		r.mu.Unlock()
		if !found {
			select {
			case <-ctx.Done():
				return
			case <-r.wake:
				continue
			}
		}
		if out, err := r.Check(ctx, key.Customer, key.Currency); err != nil && ctx.Err() == nil {
			r.logger.Error("auto top-up", "customer", key.Customer, "currency", key.Currency, "outcome", out, "err", err)
		}
		r.mu.Lock()
		delete(r.active, key)
		requeue := r.again[key]
		delete(r.again, key)
		r.mu.Unlock()
		if requeue {
			r.Enqueue(key)
		}
		// Another worker may be waiting for this wallet, or for the queue
		// to drain to wake Flush's waiters.
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// Check looks at one wallet now and starts a top-up if it needs one: its
// auto top-up is on, no attempt is in flight, the cooldown has passed, the
// available balance is under the threshold and the monthly cap allows the
// price. The attempt is claimed by a conditional save of the wallet's state
// row, so of several runners (goroutines or processes) exactly one starts
// it. It then charges and grants, and reports what it did.
func (r *TopUpRunner) Check(ctx context.Context, customer, currency string) (TopUpOutcome, error) {
	l := r.l
	if r.charger == nil {
		return TopUpDisabled, errors.New("auto top-up runner has no charger: give NewTopUpRunner a TopUpCharger (stripe.OffSessionCharger)")
	}
	ts, err := l.topUpStore()
	if err != nil {
		return TopUpDisabled, err
	}
	a, _, err := l.autoTopUp(ctx, customer, currency)
	if err != nil {
		return TopUpDisabled, err
	}
	if !a.Enabled {
		return TopUpDisabled, nil
	}
	cur, _ := l.currency(currency)
	pack, err := l.cfg.checkAutoTopUp(&a, cur.Name)
	if err != nil {
		// The config changed under stored settings (a pack removed).
		return TopUpDisabled, fmt.Errorf("auto top-up settings of %s no longer hold: %w", customer, err)
	}
	now := l.Now()
	// The state is read before the balance: a purchase commits before its
	// attempt is cleared, so a balance read after a state without an
	// attempt sees every purchase before it, and the conditional save
	// fails if the state changed since.
	st, err := ts.TopUpState(ctx, customer, cur.Name)
	if err != nil {
		return TopUpInFlight, fmt.Errorf("read auto top-up state: %w", err)
	}
	if st == nil {
		st = &store.TopUpState{Customer: customer, Currency: cur.Name}
	}
	if st.AttemptID != "" {
		return TopUpInFlight, nil
	}
	if st.LastAttemptAt != nil && now.Before(st.LastAttemptAt.Add(a.Cooldown)) {
		return TopUpCoolingDown, nil
	}
	bal, err := l.Balance(ctx, customer, &BalanceOpts{Currency: cur.Name})
	if err != nil {
		return TopUpNotNeeded, err
	}
	if bal.Available >= a.Threshold {
		return TopUpNotNeeded, nil
	}
	credits, cents, err := topUpPrice(a, pack, bal.Available)
	if err != nil {
		return TopUpNotNeeded, err
	}
	if a.MonthlyCapCents > 0 && monthSpent(st, now)+cents > a.MonthlyCapCents {
		r.logger.Info("auto top-up refused by the monthly cap", "customer", customer, "currency", cur.Name,
			"spent_cents", monthSpent(st, now), "price_cents", cents, "cap_cents", a.MonthlyCapCents)
		return TopUpMonthlyCap, nil
	}
	next := *st
	next.Version = st.Version + 1
	next.AttemptID = l.ids.New("topup")
	next.AttemptStartedAt = &now
	next.AttemptPack, next.AttemptCredits, next.AttemptCents, next.AttemptMoneyCurrency = pack.Name, int64(credits), cents, pack.PriceCurrency
	next.UpdatedAt = now
	ok, err := ts.SaveTopUpState(ctx, &next, st.Version, nil)
	if err != nil {
		return TopUpLostRace, fmt.Errorf("claim auto top-up: %w", err)
	}
	if !ok {
		return TopUpLostRace, nil
	}
	return r.charge(ctx, &next, a.Cooldown)
}

// charge charges a claimed attempt, grants its credits and clears it. An
// unknown charge outcome or a failed grant leaves the attempt in flight,
// to be resumed with the same idempotency key.
func (r *TopUpRunner) charge(ctx context.Context, st *store.TopUpState, cooldown time.Duration) (TopUpOutcome, error) {
	l := r.l
	req := ChargeRequest{Customer: st.Customer, AmountCents: st.AttemptCents, MoneyCurrency: st.AttemptMoneyCurrency,
		IdempotencyKey: st.AttemptID,
		Description:    fmt.Sprintf("Auto top-up: %d %s (pack %s)", st.AttemptCredits, st.Currency, st.AttemptPack),
		Metadata: map[string]string{"creditkit_customer": st.Customer, "creditkit_attempt": st.AttemptID, "creditkit_pack": st.AttemptPack,
			"creditkit_credits": strconv.FormatInt(st.AttemptCredits, 10), "creditkit_currency": st.Currency}}
	res, err := r.charger.ChargeOffSession(ctx, req)
	if err == nil && res != nil && res.Status != "succeeded" {
		err = fmt.Errorf("payment %s is %q, not succeeded: an off-session top-up needs a card that pays at once", res.PaymentIntentID, res.Status)
	}
	if err == nil && res == nil {
		err = errors.New("the charger answered no payment")
	}
	if err != nil {
		if errors.Is(err, ErrChargeOutcomeUnknown) || ctx.Err() != nil {
			return TopUpInFlight, fmt.Errorf("charge of auto top-up %s (resumed later with the same idempotency key): %w", st.AttemptID, err)
		}
		return r.fail(ctx, st, cooldown, err)
	}
	p, err := l.Purchase(ctx, st.Customer, PurchaseOpts{Pack: st.AttemptPack, Provider: res.Provider, ExternalID: res.PaymentIntentID,
		Credits: Amount(st.AttemptCredits), AmountPaid: st.AttemptCents, MoneyCurrency: st.AttemptMoneyCurrency, ChargeID: res.ChargeID,
		PaymentIntentID: res.PaymentIntentID, PurchasedAt: l.Now(), Metadata: map[string]string{"auto_topup": st.AttemptID},
		Actor: ActorAutoTopUp})
	if err != nil {
		return TopUpInFlight, fmt.Errorf("grant of auto top-up %s, charged as %s (resumed later): %w", st.AttemptID, res.PaymentIntentID, err)
	}
	now := l.Now()
	next := *st
	next.Version = st.Version + 1
	clearAttempt(&next)
	next.LastAttemptAt, next.LastPurchaseAt = &now, &now
	next.MonthSpentCents = monthSpent(st, now) + st.AttemptCents
	next.MonthKey = monthKey(now)
	next.LastFailure, next.LastFailureAt, next.Failures = "", nil, 0
	next.UpdatedAt = now
	ev := &Event{ID: l.ids.New("evt"), Type: EventTopUpSucceeded, Customer: st.Customer, Currency: st.Currency, At: now,
		Data: map[string]any{"attempt_id": st.AttemptID, "pack": st.AttemptPack, "credits": Amount(st.AttemptCredits),
			"amount_cents": st.AttemptCents, "money_currency": st.AttemptMoneyCurrency, "provider": res.Provider,
			"payment_intent_id": res.PaymentIntentID, "purchase_id": p.ID}}
	if err := r.save(ctx, &next, st.Version, ev); err != nil {
		return TopUpPurchased, err
	}
	return TopUpPurchased, nil
}

// fail records a failed attempt and its one credits.topup.failed event,
// in one transaction, if the attempt is still this one.
func (r *TopUpRunner) fail(ctx context.Context, st *store.TopUpState, cooldown time.Duration, cause error) (TopUpOutcome, error) {
	l := r.l
	now := l.Now()
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	next := *st
	next.Version = st.Version + 1
	clearAttempt(&next)
	next.LastAttemptAt, next.LastFailureAt = &now, &now
	next.LastFailure = msg
	next.Failures = st.Failures + 1
	next.UpdatedAt = now
	retry := now.Add(cooldown)
	ev := &Event{ID: l.ids.New("evt"), Type: EventTopUpFailed, Customer: st.Customer, Currency: st.Currency, At: now,
		Data: map[string]any{"attempt_id": st.AttemptID, "pack": st.AttemptPack, "credits": Amount(st.AttemptCredits),
			"amount_cents": st.AttemptCents, "money_currency": st.AttemptMoneyCurrency, "error": msg,
			"failures": next.Failures, "next_attempt_after": retry}}
	r.logger.Warn("auto top-up failed", "customer", st.Customer, "currency", st.Currency, "attempt", st.AttemptID, "err", cause)
	if err := r.save(ctx, &next, st.Version, ev); err != nil {
		return TopUpFailed, err
	}
	return TopUpFailed, nil
}

// save writes the state with its event if the state is still at prev, and
// hands the event to the ledger's subscribers after the commit. Losing the
// race means another runner resumed the attempt and finishes it.
func (r *TopUpRunner) save(ctx context.Context, next *store.TopUpState, prev int64, ev *Event) error {
	ts, err := r.l.topUpStore()
	if err != nil {
		return err
	}
	ok, err := ts.SaveTopUpState(context.WithoutCancel(ctx), next, prev, []*store.Event{eventToRow(ev)})
	if err != nil {
		return fmt.Errorf("save auto top-up state: %w", err)
	}
	if ok {
		r.l.publish([]Event{*ev})
	}
	return nil
}

// clearAttempt empties a state's attempt fields.
func clearAttempt(st *store.TopUpState) {
	st.AttemptID, st.AttemptStartedAt, st.AttemptPack = "", nil, ""
	st.AttemptCredits, st.AttemptCents, st.AttemptMoneyCurrency = 0, 0, ""
}

// ResumeStale finishes attempts left in flight longer than StaleAfter (a
// process that died between the charge and the grant, or a charge whose
// outcome was unknown): it takes each over by a conditional save, charges
// it again with the same idempotency key, which answers the first
// payment rather than charging twice, and grants it once on that
// payment's ID. An attempt older than 23 hours is not charged again
// (Stripe forgets idempotency keys after 24) but failed, naming it, for
// an operator to check. It returns how many attempts it took over.
func (r *TopUpRunner) ResumeStale(ctx context.Context) (int, error) {
	l := r.l
	if r.charger == nil {
		return 0, errors.New("auto top-up runner has no charger: give NewTopUpRunner a TopUpCharger (stripe.OffSessionCharger)")
	}
	ts, err := l.topUpStore()
	if err != nil {
		return 0, err
	}
	now := l.Now()
	stale, err := ts.StaleTopUps(ctx, now.Add(-r.opts.StaleAfter), 100)
	if err != nil {
		return 0, fmt.Errorf("list stale auto top-ups: %w", err)
	}
	n := 0
	var errs []error
	for _, st := range stale {
		next := *st
		next.Version = st.Version + 1
		next.UpdatedAt = now
		ok, err := ts.SaveTopUpState(ctx, &next, st.Version, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		n++
		a, _, err := l.autoTopUp(ctx, st.Customer, st.Currency)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a.Cooldown == 0 {
			a.Cooldown = DefaultTopUpCooldown
		}
		if st.AttemptStartedAt != nil && now.Sub(*st.AttemptStartedAt) > topUpMaxResumeAge {
			_, err := r.fail(ctx, &next, a.Cooldown, fmt.Errorf("attempt %s started %s ago and was never finished; it is not charged again, since the payment provider may have forgotten its idempotency key: look for a payment with metadata creditkit_attempt=%s and, if it succeeded, record it with Purchase",
				st.AttemptID, now.Sub(*st.AttemptStartedAt).Round(time.Minute), st.AttemptID))
			errs = append(errs, err)
			continue
		}
		r.logger.Info("resuming auto top-up", "customer", st.Customer, "currency", st.Currency, "attempt", st.AttemptID)
		if _, err := r.charge(ctx, &next, a.Cooldown); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}
