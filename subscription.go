package creditkit

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/creditkit/creditkit/store"
)

// SubscriptionStatus is where a subscription is in its life.
type SubscriptionStatus string

// Subscription statuses.
const (
	// SubscriptionTrialing is a trial: the plan's trial_includes credits,
	// no refills until the trial ends (and converts).
	SubscriptionTrialing SubscriptionStatus = "trialing"
	// SubscriptionActive refills at every period end.
	SubscriptionActive SubscriptionStatus = "active"
	// SubscriptionPaused refills nothing until Resume.
	SubscriptionPaused SubscriptionStatus = "paused"
	// SubscriptionPastDue is set by a payment provider (not by the ledger)
	// when a payment failed (MarkPastDue): the refills that fall due
	// during its grace still come; after it, it refills nothing, like a
	// pause, until the payment succeeds (RecoverPastDue).
	SubscriptionPastDue SubscriptionStatus = "past_due"
	// SubscriptionCanceled ended; its row stays, so that a resubscribe
	// knows what the customer already had (the signup bonus).
	SubscriptionCanceled SubscriptionStatus = "canceled"
)

// Subscription puts a customer on a plan: the plan's credits are refilled
// at the end of every period, counted from Anchor. A customer has at most
// one subscription per credit currency.
type Subscription struct {
	ID       string             `json:"id"`
	Customer string             `json:"customer"`
	Currency string             `json:"currency"`
	Plan     string             `json:"plan"`
	Status   SubscriptionStatus `json:"status" enum:"trialing,active,paused,past_due,canceled"`
	// Anchor is the instant the periods count from: the start, or the
	// last upgrade, downgrade, trial conversion or resume.
	Anchor time.Time `json:"anchor"`
	// PeriodStart and PeriodEnd bound the current period; PeriodEnd is
	// when the next refill comes (for a trial, when it ends). A resume
	// within a period keeps its start (the allowance it carries came
	// then) and moves its end to one period after the resume. While
	// paused, PeriodEnd (and a CancelAt at the period end) keep the
	// paused period's end until the resume moves them.
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	// TrialEnd is when the trial ends (or ended), if there was one.
	TrialEnd *time.Time `json:"trial_end,omitempty"`
	// CancelAt is when a cancellation takes (or took) effect.
	CancelAt *time.Time `json:"cancel_at,omitempty"`
	// CanceledAt is when the subscription was canceled, once it is.
	CanceledAt *time.Time `json:"canceled_at,omitempty"`
	// PausedAt is when a paused subscription was paused. For a past_due
	// subscription it is when its grace ends: period ends before it still
	// refill, later ones wait for the payment.
	PausedAt *time.Time `json:"paused_at,omitempty"`
	// ScheduledPlan is a downgrade that takes effect at PeriodEnd.
	ScheduledPlan string    `json:"scheduled_plan,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// SubscribeOpts are options for StartSubscription. Nil means defaults.
type SubscribeOpts struct {
	// Trial starts the subscription with a trial this long: the plan's
	// trial_includes credits, and the first refill when it ends. Zero
	// means no trial.
	Trial Span
	// At is the subscription's start (its anchor). Defaults to now; it may
	// not be in the future. A start in the past refills each period since
	// then, in order, stamped with its own time.
	At time.Time
	// IdempotencyKey makes the call safe to retry.
	IdempotencyKey string
	// Actor names who asked, for the audit trail.
	Actor string
}

// SubscriptionOpts are options for ChangePlan, Pause, Resume and
// GetSubscription. Nil means defaults.
type SubscriptionOpts struct {
	// Currency picks the subscription of a customer who has several (one
	// per credit currency). Defaults to the only one.
	Currency string
	// Trial, for ChangePlan only (other calls ignore it): move to the new
	// plan at once with a trial this long, as StartSubscription's trial
	// (trialing status, the plan's trial_includes credits, the first
	// refill when it ends). It applies only to an active subscription on a
	// plan without a price (the default free plan, say): a customer who
	// pays already gets no trial, and such a request fails with
	// invalid_request rather than dropping the trial.
	Trial Span
	// IdempotencyKey makes the call safe to retry.
	IdempotencyKey string
	// Actor names who asked, for the audit trail.
	Actor string
}

// CancelOpts are options for Cancel. Nil means cancel now.
type CancelOpts struct {
	// AtPeriodEnd cancels when the current period ends, instead of now:
	// the period's credits stay usable until then and no refill follows.
	AtPeriodEnd bool
	// Currency picks the subscription of a customer who has several.
	Currency string
	// IdempotencyKey makes the call safe to retry.
	IdempotencyKey string
	// Actor names who asked, for the audit trail.
	Actor string
}

// Reasons (ledger categories) of the grants a subscription writes.
const (
	CategorySubscription = "subscription"
	CategorySignupBonus  = "signup_bonus"
	CategoryTrial        = "trial"
)

// subscriptionMeta is the grant metadata key that ties a grant to the
// subscription that wrote it: its refills, and the credits they roll over.
const subscriptionMeta = "subscription_id"

// StartSubscription puts a customer on a plan: it writes the first refill
// (or, with a trial, the plan's trial_includes credits) and, the first
// time the customer subscribes in that currency, the plan's signup_bonus.
// A customer already subscribed to the plan gets the subscription back as
// it is; one subscribed to another plan must use ChangePlan. (Ledger.Subscribe
// is taken by event subscribers.)
func (l *Ledger) StartSubscription(ctx context.Context, customer, plan string, opts *SubscribeOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscribeOpts{}
	}
	if err := checkID("customer", customer); err != nil {
		return nil, err
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	p, err := l.subscriptionPlan(plan)
	if err != nil {
		return nil, err
	}
	if err := checkTrial(opts.Trial); err != nil {
		return nil, err
	}
	if err := checkInstant("at", opts.At); err != nil {
		return nil, err
	}
	if !opts.At.IsZero() && opts.At.After(l.Now()) {
		return nil, errorf(CodeInvalidRequest, "at %s is in the future: a subscription starts now or in the past", fmtTime(opts.At))
	}
	key := walletKey(customer, p.Currency)
	req := &writeReq{
		kind:        "subscribe",
		choosesPlan: true,
		route:       customer,
		idemKey:     opts.IdempotencyKey,
		fingerprint: fingerprint("subscribe", []any{customer, plan, opts.Trial, opts.At}),
		wallets:     staticWallets(key),
		decode:      decodeAs[Subscription](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			return w.subscribe(ctx, key, p, opts)
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Subscription), nil
}

// startSubscription fills in a new subscription from its anchor and
// writes its first credits: the signup bonus (once per customer and
// currency, ever), then the trial's credits or the first refill, then the
// refills of any periods already over.
func (w *writeState) startSubscription(ctx context.Context, ws *walletState, sub *store.Subscription, p *Plan, trial Span, actor string) error {
	if err := w.signupBonus(ws, sub, p, sub.Anchor, actor); err != nil {
		return err
	}
	if !trial.IsZero() {
		if err := w.startTrial(ws, sub, p, trial, actor); err != nil {
			return err
		}
	} else {
		sub.Status = string(SubscriptionActive)
		if err := w.refill(ws, sub, p, sub.Anchor, actor); err != nil {
			return err
		}
	}
	_, err := w.advanceSubscription(ctx, ws, sub, actor)
	return err
}

// signupBonus gives plan p's signup_bonus at instant at, unless the
// customer had a signup bonus in the subscription's currency already
// (sub.BonusGiven: once per customer and currency, ever, whichever plan
// gave it).
func (w *writeState) signupBonus(ws *walletState, sub *store.Subscription, p *Plan, at time.Time, actor string) error {
	if p.SignupBonus <= 0 || sub.BonusGiven {
		return nil
	}
	sub.BonusGiven = true
	return w.subscriptionGrant(ws, sub, p.SignupBonus, SourceBonus, CategorySignupBonus, at, nil, nil, actor)
}

// startTrial starts a trial of plan p from sub.Anchor: trialing until the
// trial ends (the period's end), with the plan's trial_includes credits
// expiring then.
func (w *writeState) startTrial(ws *walletState, sub *store.Subscription, p *Plan, trial Span, actor string) error {
	end := trial.AddTo(sub.Anchor)
	if err := checkInstant("trial end", end); err != nil {
		return err
	}
	sub.Status = string(SubscriptionTrialing)
	sub.TrialEnd = &end
	sub.PeriodStart = sub.Anchor
	sub.PeriodEnd = end
	if p.TrialIncludes > 0 {
		return w.subscriptionGrant(ws, sub, p.TrialIncludes, SourceTrial, CategoryTrial, sub.Anchor, &end, nil, actor)
	}
	return nil
}

// subscribe starts the subscription of the customer of wallet key to plan
// p inside a write: StartSubscription's body, and CreateCustomer's with a
// plan. Subscribing again to the current plan answers the subscription.
func (w *writeState) subscribe(ctx context.Context, key WalletKey, p *Plan, opts *SubscribeOpts) (*Subscription, error) {
	customer := key.Customer
	old, err := w.subscription(ctx, key)
	if err != nil {
		return nil, err
	}
	if old != nil && old.Status != string(SubscriptionCanceled) {
		if old.Plan == p.Name {
			return subscriptionFromRow(old), nil
		}
		return nil, errorf(CodeInvalidRequest, "customer %q is already subscribed to plan %q: use ChangePlan (PUT .../subscription) to move to %q", customer, old.Plan, p.Name)
	}
	anchor := w.now
	if !opts.At.IsZero() {
		anchor = opts.At.UTC()
	}
	sub := &store.Subscription{ID: w.l.ids.New("sub"), Customer: customer, Currency: p.Currency, Plan: p.Name,
		Anchor: anchor, PeriodStart: anchor, CreatedAt: w.now}
	if old != nil {
		sub.BonusGiven = old.BonusGiven
	}
	ws := w.wallet(key)
	if err := w.startSubscription(ctx, ws, sub, p, opts.Trial, opts.Actor); err != nil {
		return nil, err
	}
	w.saveSubscription(sub)
	w.event(EventSubscriptionCreated, key, map[string]any{"subscription_id": sub.ID, "plan": p.Name, "status": sub.Status,
		"period_end": sub.PeriodEnd})
	return subscriptionFromRow(sub), nil
}

// ChangePlan moves a customer's subscription to another plan of the same
// currency. An upgrade (a plan that gives more credits per unit of time)
// applies at once: the old plan's remaining subscription credits follow its
// unused_credits (expire now, or roll over, capped as it says) and a new
// period starts now with the new plan's full allowance. With the new
// plan's on_upgrade: prorate (and the same period), the period goes on and
// the customer gets the prorated difference for the rest of it instead. A
// downgrade takes effect at the end of the current period. Changing to the
// current plan cancels a scheduled downgrade and renews a subscription
// whose cancellation at period end is scheduled (as KeepSubscription). A
// trial changes plan at once and stays a trial. A cancellation scheduled at
// the period end follows an upgrade's new period to its end.
//
// The new plan's signup_bonus comes with the change (with a downgrade,
// when it takes effect) unless the customer had a signup bonus in that
// currency already, from any plan: once per customer, ever. With
// opts.Trial, a subscription on a plan without a price (the default free
// plan, say) moves to the new plan at once with a trial of that length,
// whether the new plan gives more or less; the old plan's remaining
// credits follow its unused_credits, as on an upgrade. A trial asked of a
// subscription that cannot start one fails with invalid_request.
func (l *Ledger) ChangePlan(ctx context.Context, customer, plan string, opts *SubscriptionOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscriptionOpts{}
	}
	if err := checkIdemKey(opts.IdempotencyKey); err != nil {
		return nil, err
	}
	np, err := l.subscriptionPlan(plan)
	if err != nil {
		return nil, err
	}
	if err := checkTrial(opts.Trial); err != nil {
		return nil, err
	}
	cur := opts.Currency
	if cur == "" {
		cur = np.Currency
	}
	if cur != np.Currency {
		return nil, errorf(CodeInvalidRequest, "plan %q gives %s, not %s: cancel the %s subscription and subscribe to it instead", np.Name, np.Currency, cur, cur)
	}
	key := walletKey(customer, cur)
	args := []any{plan}
	if !opts.Trial.IsZero() {
		args = append(args, opts.Trial)
	}
	return l.subscriptionWrite(ctx, "change_plan", key, args, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, old *Plan) error {
			switch SubscriptionStatus(sub.Status) {
			case SubscriptionActive, SubscriptionTrialing:
			default:
				return errorf(CodeInvalidRequest, "the subscription of %q is %s: only an active or trialing subscription changes plan (resume it, or subscribe anew)", customer, sub.Status)
			}
			if !opts.Trial.IsZero() {
				switch {
				case np.Name == sub.Plan:
					return errorf(CodeInvalidRequest, "customer %q is on plan %q already: a trial starts only with a move to another plan", customer, sub.Plan)
				case sub.Status != string(SubscriptionActive):
					return errorf(CodeInvalidRequest, "the subscription of %q is %s: a trial starts only from an active subscription (drop the trial to change plan)", customer, sub.Status)
				case old.Price != nil:
					return errorf(CodeInvalidRequest, "customer %q pays for plan %q: a trial starts only from a plan without a price (drop the trial to change plan)", customer, sub.Plan)
				}
			}
			data := map[string]any{"subscription_id": sub.ID, "from": sub.Plan, "to": np.Name}
			switch {
			case !opts.Trial.IsZero():
				if err := w.applyUnused(ws, sub, old, w.now, opts.Actor); err != nil {
					return err
				}
				sub.Plan, sub.ScheduledPlan = np.Name, ""
				sub.Anchor = w.now
				if err := w.signupBonus(ws, sub, np, w.now, opts.Actor); err != nil {
					return err
				}
				if err := w.startTrial(ws, sub, np, opts.Trial, opts.Actor); err != nil {
					return err
				}
				data["change"] = "trial"
				data["trial_end"] = sub.TrialEnd
			case np.Name == sub.Plan:
				if sub.ScheduledPlan == "" && sub.CancelAt == nil {
					return errUnchanged
				}
				if sub.ScheduledPlan != "" {
					data["canceled_change"] = sub.ScheduledPlan
					sub.ScheduledPlan = ""
				}
				if sub.CancelAt != nil {
					data["change"] = "renewed"
					data["canceled_cancel_at"] = *sub.CancelAt
					w.keepSubscription(ws, sub, old)
				}
			case sub.Status == string(SubscriptionTrialing):
				sub.Plan = np.Name
				sub.ScheduledPlan = ""
				data["change"] = "trial"
				if err := w.signupBonus(ws, sub, np, w.now, opts.Actor); err != nil {
					return err
				}
			case !isUpgrade(old, np):
				sub.ScheduledPlan = np.Name
				data["change"] = "downgrade"
				data["effective_at"] = sub.PeriodEnd
			case np.OnUpgrade == UpgradeProrate && np.Every == old.Every:
				extra := prorated(np.Gives-old.Gives, w.now, sub.PeriodStart, sub.PeriodEnd)
				sub.Plan, sub.ScheduledPlan = np.Name, ""
				data["change"] = "upgrade"
				data["prorated"] = extra
				if err := w.signupBonus(ws, sub, np, w.now, opts.Actor); err != nil {
					return err
				}
				if extra > 0 {
					var exp *time.Time
					if np.UnusedCredits != unusedRollover {
						end := sub.PeriodEnd
						exp = &end
					}
					if err := w.subscriptionGrant(ws, sub, extra, SourceSubscription, CategorySubscription, w.now, exp, w.l.cfg.RefillCostBasis(np), opts.Actor); err != nil {
						return err
					}
				}
			default:
				if err := w.applyUnused(ws, sub, old, w.now, opts.Actor); err != nil {
					return err
				}
				if sub.CancelAt != nil && !old.ExpireAfter.IsZero() {
					// The credits rolled over kept the expiry the
					// scheduled cancellation gave them; it moves below,
					// so they lose it (and get the new plan's, if any).
					was := old.ExpireAfter.AddTo(*sub.CancelAt)
					for _, g := range w.lineage(ws, sub) {
						if g.ExpiresAt != nil && g.ExpiresAt.Equal(was) {
							g.ExpiresAt = nil
							w.markGrant(ws, g)
						}
					}
				}
				sub.Plan, sub.ScheduledPlan = np.Name, ""
				sub.Anchor = w.now
				if err := w.signupBonus(ws, sub, np, w.now, opts.Actor); err != nil {
					return err
				}
				if err := w.refill(ws, sub, np, w.now, opts.Actor); err != nil {
					return err
				}
				if sub.CancelAt != nil {
					// A cancellation at the period end follows the
					// period the upgrade starts.
					w.moveCancel(ws, sub, np)
					data["cancel_at"] = *sub.CancelAt
				}
				data["change"] = "upgrade"
			}
			data["plan"] = sub.Plan
			w.event(EventSubscriptionUpdated, key, data)
			return nil
		})
}

// Cancel ends a customer's subscription, now or (with opts.AtPeriodEnd)
// at the end of the current period; no refill follows. With the plan's
// expire_after, the subscription's remaining credits (its refills and what
// they rolled over) expire that long after the cancellation takes effect;
// without it they keep the expiry they had (a refill of an expire plan
// still expires at its period end). Bonus, trial and pack credits are not
// the subscription's and stay. A paused subscription, or a past_due one
// whose period ended unrefilled, has no running period: cancelling it at
// the period end cancels it now.
func (l *Ledger) Cancel(ctx context.Context, customer string, opts *CancelOpts) (*Subscription, error) {
	if opts == nil {
		opts = &CancelOpts{}
	}
	return l.subscriptionChange(ctx, "cancel", customer, opts.Currency, []any{opts.AtPeriodEnd}, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error {
			if sub.Status == string(SubscriptionCanceled) {
				return errorf(CodeInvalidRequest, "the subscription of %q was canceled already", customer)
			}
			// A paused subscription has no running period to end, nor
			// has a past_due one whose period ended unrefilled: both
			// end now.
			running := sub.Status != string(SubscriptionPaused) && sub.PeriodEnd.After(w.now)
			if opts.AtPeriodEnd && running {
				if sub.CancelAt != nil {
					return errUnchanged
				}
				at := sub.PeriodEnd
				sub.CancelAt = &at
				sub.ScheduledPlan = ""
				w.expireAfterCancel(ws, sub, p, at)
				w.event(EventSubscriptionUpdated, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "cancel_at": at})
				return nil
			}
			return w.cancelSubscription(ws, sub, p, w.now)
		})
}

// KeepSubscription takes back a cancellation scheduled at the period end
// (Cancel with AtPeriodEnd): the subscription renews at its period end as
// if it had never been canceled, and credits.subscription.updated says so
// (change "renewed"). The credits whose expiry the cancellation moved to
// the plan's expire_after get back the expiry their plan gives them (the
// period's end, or none on a rollover plan). A subscription without a
// scheduled cancellation is left as it is; one canceled already is an
// invalid_request (subscribe anew).
func (l *Ledger) KeepSubscription(ctx context.Context, customer string, opts *SubscriptionOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscriptionOpts{}
	}
	return l.subscriptionChange(ctx, "keep", customer, opts.Currency, nil, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error {
			if sub.Status == string(SubscriptionCanceled) {
				return errorf(CodeInvalidRequest, "the subscription of %q was canceled already: subscribe it anew", customer)
			}
			if sub.CancelAt == nil {
				return errUnchanged
			}
			at := *sub.CancelAt
			w.keepSubscription(ws, sub, p)
			w.event(EventSubscriptionUpdated, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "change": "renewed",
				"canceled_cancel_at": at})
			return nil
		})
}

// keepSubscription clears a subscription's scheduled cancellation and
// gives the credits whose expiry it moved to plan p's expire_after the
// expiry p gives them. The caller writes the event.
func (w *writeState) keepSubscription(ws *walletState, sub *store.Subscription, p *Plan) {
	at := *sub.CancelAt
	sub.CancelAt = nil
	if p.ExpireAfter.IsZero() {
		return
	}
	moved := p.ExpireAfter.AddTo(at)
	for _, g := range w.lineage(ws, sub) {
		if g.ExpiresAt == nil || !g.ExpiresAt.Equal(moved) {
			continue
		}
		if p.UnusedCredits == unusedRollover {
			g.ExpiresAt = nil
		} else {
			end := sub.PeriodEnd
			g.ExpiresAt = &end
		}
		w.markGrant(ws, g)
	}
}

// Pause stops an active subscription's refills until Resume. The current
// period's credits keep their expiry; a downgrade or cancellation
// scheduled at the period end waits for the resume (see Resume).
func (l *Ledger) Pause(ctx context.Context, customer string, opts *SubscriptionOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscriptionOpts{}
	}
	return l.subscriptionChange(ctx, "pause", customer, opts.Currency, nil, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error {
			switch SubscriptionStatus(sub.Status) {
			case SubscriptionPaused:
				return errUnchanged
			case SubscriptionActive:
			default:
				return errorf(CodeInvalidRequest, "the subscription of %q is %s: only an active subscription pauses", customer, sub.Status)
			}
			now := w.now
			sub.Status = string(SubscriptionPaused)
			sub.PausedAt = &now
			w.event(EventSubscriptionPaused, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan})
			return nil
		})
}

// Resume restarts a paused subscription. The cadence restarts from the
// resume instant: the next refill is one period after the resume (not on
// the old schedule). A resume never gives more than one allowance per
// period (see restartCadence): within the paused period it carries what
// is left of the period's allowance to the new period end; after the
// period's end it is that period end, moved to the resume (unused_credits
// applies, then a scheduled downgrade or cancellation takes effect, or
// the full allowance comes). Resuming a subscription that is not paused
// changes nothing.
func (l *Ledger) Resume(ctx context.Context, customer string, opts *SubscriptionOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscriptionOpts{}
	}
	return l.subscriptionChange(ctx, "resume", customer, opts.Currency, nil, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error {
			if sub.Status != string(SubscriptionPaused) {
				return errUnchanged
			}
			allowance, err := w.restartCadence(ws, sub, p, opts.Actor)
			if err != nil || sub.Status == string(SubscriptionCanceled) {
				return err
			}
			w.event(EventSubscriptionResumed, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "period_end": sub.PeriodEnd,
				"allowance": allowance})
			return nil
		})
}

// Allowances of a restarted cadence (restartCadence).
const (
	allowanceCarried = "carried"
	allowanceGranted = "granted"
)

// restartCadence restarts, at the write's now, the cadence of a
// subscription whose refills stopped (paused, or past_due past its grace),
// and makes it active: the next period end is one period from now. It
// never gives more than one allowance per period: the refills of a
// subscription stay at least one period apart.
//
//   - Within the stopped period (now before its end, so less than one
//     period since its allowance came): no allowance. The period runs on
//     from its start to one period after now, with what is left of its
//     allowance; credits that were to expire at the old period end expire
//     at the new one, and what was scheduled for the period's end (a
//     downgrade, a cancellation, with its expire_after) moves there too.
//   - At or after the period's end: now is that period end. What was
//     scheduled for it takes effect now: a cancellation ends the
//     subscription (no allowance), a downgrade starts the new plan; else
//     the plan's unused_credits applies and the new period starts with the
//     full allowance.
//
// It returns allowanceCarried or allowanceGranted ("" when the
// subscription ended).
func (w *writeState) restartCadence(ws *walletState, sub *store.Subscription, p *Plan, actor string) (string, error) {
	now := w.now
	sub.PausedAt = nil
	if now.Before(sub.PeriodEnd) {
		end := p.Every.Boundary(now, 1)
		if err := checkInstant("next refill", end); err != nil {
			return "", err
		}
		old := sub.PeriodEnd
		for _, g := range w.lineage(ws, sub) {
			if g.ExpiresAt != nil && g.ExpiresAt.Equal(old) {
				t := end
				g.ExpiresAt = &t
				w.markGrant(ws, g)
			}
		}
		sub.Status = string(SubscriptionActive)
		sub.Anchor, sub.PeriodEnd = now, end
		if sub.CancelAt != nil {
			w.moveCancel(ws, sub, p)
		}
		return allowanceCarried, nil
	}
	switch {
	case sub.CancelAt != nil:
		return "", w.cancelSubscription(ws, sub, p, now)
	case sub.ScheduledPlan != "":
		np, err := w.l.subscriptionPlan(sub.ScheduledPlan)
		if err != nil {
			return "", err
		}
		if err := w.applyUnused(ws, sub, p, now, actor); err != nil {
			return "", err
		}
		from := sub.Plan
		sub.Plan, sub.ScheduledPlan = np.Name, ""
		sub.Status = string(SubscriptionActive)
		sub.Anchor = now
		if err := w.refill(ws, sub, np, now, actor); err != nil {
			return "", err
		}
		w.event(EventSubscriptionUpdated, ws.key, map[string]any{"subscription_id": sub.ID, "from": from, "to": np.Name, "plan": np.Name,
			"change": "downgrade", "effective_at": now})
	default:
		if err := w.applyUnused(ws, sub, p, now, actor); err != nil {
			return "", err
		}
		sub.Status = string(SubscriptionActive)
		sub.Anchor = now
		if err := w.refill(ws, sub, p, now, actor); err != nil {
			return "", err
		}
	}
	return allowanceGranted, nil
}

// moveCancel moves a cancellation scheduled at the period end to the
// subscription's current period end (which a resume or an upgrade moved),
// and the expire_after of its credits with it.
func (w *writeState) moveCancel(ws *walletState, sub *store.Subscription, p *Plan) {
	at := sub.PeriodEnd
	sub.CancelAt = &at
	w.expireAfterCancel(ws, sub, p, at)
}

// PastDueOpts are options for MarkPastDue. Nil means defaults.
type PastDueOpts struct {
	// Grace is how long after the failed payment the subscription still
	// refills at its period ends. Zero stops refills at once.
	Grace time.Duration
	// Currency picks the subscription of a customer who has several.
	Currency string
	// IdempotencyKey makes the call safe to retry.
	IdempotencyKey string
	// Actor names who asked, for the audit trail.
	Actor string
}

// MarkPastDue records that the payment of an active subscription failed
// (a payment provider calls it: Stripe's invoice.payment_failed). The
// subscription turns past_due: refills still come at period ends within
// opts.Grace, and none after it until RecoverPastDue. Marking a past_due
// subscription again changes nothing (its grace keeps its first end).
func (l *Ledger) MarkPastDue(ctx context.Context, customer string, opts *PastDueOpts) (*Subscription, error) {
	if opts == nil {
		opts = &PastDueOpts{}
	}
	if opts.Grace < 0 {
		return nil, errorf(CodeInvalidRequest, "grace must not be negative, got %s", showDuration(opts.Grace))
	}
	return l.subscriptionChange(ctx, "past_due", customer, opts.Currency, []any{opts.Grace}, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error {
			switch SubscriptionStatus(sub.Status) {
			case SubscriptionPastDue:
				return errUnchanged
			case SubscriptionActive:
			default:
				return errorf(CodeInvalidRequest, "the subscription of %q is %s: only an active subscription becomes past_due", customer, sub.Status)
			}
			end := w.now.Add(opts.Grace)
			if err := checkInstant("grace end", end); err != nil {
				return err
			}
			sub.Status = string(SubscriptionPastDue)
			sub.PausedAt = &end
			w.event(EventSubscriptionUpdated, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "change": "past_due",
				"status": sub.Status, "grace_ends": end})
			return nil
		})
}

// RecoverPastDue records that a past_due subscription was paid (Stripe's
// invoice.paid): it turns active again. Within its grace the cadence goes
// on; after it (refills stopped) a new period starts now with the full
// allowance, as on Resume. A subscription that is not past_due is left as
// it is.
func (l *Ledger) RecoverPastDue(ctx context.Context, customer string, opts *SubscriptionOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscriptionOpts{}
	}
	return l.subscriptionChange(ctx, "recover", customer, opts.Currency, nil, opts.IdempotencyKey,
		func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error {
			if sub.Status != string(SubscriptionPastDue) {
				return errUnchanged
			}
			data := map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "change": "recovered"}
			if sub.PeriodEnd.After(w.now) {
				// No period end went by unrefilled: the cadence goes on.
				sub.Status = string(SubscriptionActive)
				sub.PausedAt = nil
			} else {
				// The grace ran out and a period end went unrefilled: the
				// cadence restarts now, as on Resume (the catch-up above
				// already ended a subscription canceled at that period
				// end).
				allowance, err := w.restartCadence(ws, sub, p, opts.Actor)
				if err != nil {
					return err
				}
				data["plan"], data["period_end"], data["allowance"] = sub.Plan, sub.PeriodEnd, allowance
			}
			data["status"] = sub.Status
			w.event(EventSubscriptionUpdated, ws.key, data)
			return nil
		})
}

// GetSubscription returns a customer's subscription (the one in
// opts.Currency when the customer has several), canceled or not, or a
// not_found error when the customer never subscribed.
func (l *Ledger) GetSubscription(ctx context.Context, customer string, opts *SubscriptionOpts) (*Subscription, error) {
	if opts == nil {
		opts = &SubscriptionOpts{}
	}
	key, err := l.subscriptionKey(ctx, customer, opts.Currency)
	if err != nil {
		return nil, err
	}
	var out *Subscription
	err = l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		row, err := tx.Subscription(ctx, key.Customer, key.Currency)
		if err != nil {
			return err
		}
		if row == nil {
			return subscriptionNotFound(customer)
		}
		out = subscriptionFromRow(row)
		return nil
	})
	return out, err
}

// errUnchanged tells subscriptionWrite that the request changes nothing:
// it answers with the subscription as it is.
var errUnchanged = fmt.Errorf("creditkit: subscription unchanged")

// subscriptionWrite runs a change of an existing subscription as one
// write: it re-reads the subscription under the wallet's lock, brings it up
// to date (refills that fell due come first), applies change to a copy and
// saves it.
// subscriptionChange is subscriptionWrite for a change that names the
// customer and currency of an existing subscription: it checks the key
// and finds the wallet first.
func (l *Ledger) subscriptionChange(ctx context.Context, kind, customer, currency string, args []any, idemKey string,
	change func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error) (*Subscription, error) {
	if err := checkIdemKey(idemKey); err != nil {
		return nil, err
	}
	key, err := l.subscriptionKey(ctx, customer, currency)
	if err != nil {
		return nil, err
	}
	return l.subscriptionWrite(ctx, kind, key, args, idemKey, change)
}

func (l *Ledger) subscriptionWrite(ctx context.Context, kind string, key WalletKey, args []any, idemKey string,
	change func(ctx context.Context, w *writeState, ws *walletState, sub *store.Subscription, p *Plan) error) (*Subscription, error) {
	req := &writeReq{
		kind:        kind,
		route:       key.Customer,
		idemKey:     idemKey,
		fingerprint: fingerprint(kind, append([]any{key.Customer, key.Currency}, args...)),
		wallets:     staticWallets(key),
		decode:      decodeAs[Subscription](),
		apply: func(ctx context.Context, w *writeState) (any, error) {
			row, err := w.subscription(ctx, key)
			if err != nil {
				return nil, err
			}
			if row == nil {
				return nil, subscriptionNotFound(key.Customer)
			}
			sub := *row
			ws := w.wallet(key)
			if _, err := w.advanceSubscription(ctx, ws, &sub, "system"); err != nil {
				return nil, err
			}
			p, err := w.l.subscriptionPlan(sub.Plan)
			if err != nil {
				return nil, err
			}
			switch err := change(ctx, w, ws, &sub, p); {
			case err == errUnchanged:
				// The change itself changes nothing, but the catch-up
				// above may have refilled: save the period it advanced,
				// or the next RunDue would refill it again.
				if sub != *row {
					w.saveSubscription(&sub)
				}
			case err != nil:
				return nil, err
			default:
				w.saveSubscription(&sub)
			}
			return subscriptionFromRow(&sub), nil
		},
	}
	res, err := l.exec(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.(*Subscription), nil
}

// subscriptionKey finds the wallet of a customer's subscription: the one
// in currency, or the customer's only one.
func (l *Ledger) subscriptionKey(ctx context.Context, customer, currency string) (WalletKey, error) {
	if err := checkID("customer", customer); err != nil {
		return WalletKey{}, err
	}
	if currency != "" {
		if _, ok := l.cfg.Currency(currency); !ok {
			return WalletKey{}, errorf(CodeInvalidRequest, "unknown currency %q", currency)
		}
		return walletKey(customer, currency), nil
	}
	var rows []*store.Subscription
	err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		var err error
		rows, err = tx.CustomerSubscriptions(ctx, customer)
		return err
	})
	if err != nil {
		return WalletKey{}, err
	}
	switch len(rows) {
	case 0:
		return WalletKey{}, subscriptionNotFound(customer)
	case 1:
		return walletKey(customer, rows[0].Currency), nil
	}
	return WalletKey{}, errorf(CodeInvalidRequest, "customer %q has subscriptions in %d currencies: name the currency", customer, len(rows))
}

// subscriptionPlan returns a configured plan that refills, with its
// currency filled in.
func (l *Ledger) subscriptionPlan(name string) (*Plan, error) {
	p, ok := l.cfg.Plans[name]
	if !ok || p == nil {
		return nil, errorf(CodeInvalidRequest, "unknown plan %q: the configured plans are %s", name, l.cfg.planNames())
	}
	if p.Every.Count < 1 {
		return nil, errorf(CodeInvalidRequest, "plan %q refills nothing (it has no period): nothing to subscribe to", name)
	}
	if p.Currency == "" || p.Name == "" {
		c := *p
		if c.Currency == "" {
			c.Currency = l.cfg.DefaultCurrency().Name
		}
		c.Name = name
		p = &c
	}
	return p, nil
}

// subscription returns the subscription row of a wallet as this write sees
// it: saved earlier in the write, or stored; nil when there is none. The
// caller changes a copy and saves it with saveSubscription.
func (w *writeState) subscription(ctx context.Context, key WalletKey) (*store.Subscription, error) {
	for i := len(w.changes.Subscriptions) - 1; i >= 0; i-- {
		if s := w.changes.Subscriptions[i]; s.Customer == key.Customer && s.Currency == key.Currency {
			c := *s
			return &c, nil
		}
	}
	return w.tx.Subscription(ctx, key.Customer, key.Currency)
}

// saveSubscription writes a subscription row with the write.
func (w *writeState) saveSubscription(sub *store.Subscription) {
	w.muts++
	sub.UpdatedAt = w.now
	c := *sub
	w.changes.Subscriptions = append(w.changes.Subscriptions, &c)
}

// cancelSubscription ends a subscription at instant at.
func (w *writeState) cancelSubscription(ws *walletState, sub *store.Subscription, p *Plan, at time.Time) error {
	sub.Status = string(SubscriptionCanceled)
	sub.CanceledAt = &at
	sub.CancelAt = &at
	sub.ScheduledPlan = ""
	sub.PausedAt = nil
	w.expireAfterCancel(ws, sub, p, at)
	// A canceled subscription allows no more overage; debt already owed
	// stays until it is settled or repaid.
	w.setOverageLimit(ws, 0)
	w.event(EventSubscriptionCanceled, ws.key, map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "canceled_at": at})
	return nil
}

// expireAfterCancel sets the expiry of the subscription's remaining
// credits to the plan's expire_after past the cancellation at at; without
// expire_after it changes nothing.
func (w *writeState) expireAfterCancel(ws *walletState, sub *store.Subscription, p *Plan, at time.Time) {
	if p.ExpireAfter.IsZero() {
		return
	}
	exp := p.ExpireAfter.AddTo(at)
	for _, g := range w.lineage(ws, sub) {
		if g.ExpiresAt != nil && g.ExpiresAt.Equal(exp) {
			continue
		}
		t := exp
		g.ExpiresAt = &t
		w.markGrant(ws, g)
	}
}

// isUpgrade reports whether plan b gives more credits per unit of time
// than plan a.
func isUpgrade(a, b *Plan) bool {
	// Credits per a-period: b.Gives × (a's period ÷ b's period).
	rb := new(big.Rat).Mul(new(big.Rat).SetInt64(int64(b.Gives)), ratio(a.Every, b.Every))
	return rb.Cmp(new(big.Rat).SetInt64(int64(a.Gives))) > 0
}

// prorated returns the part of diff for what is left of the period
// [start, end) at now, rounded down.
func prorated(diff Amount, now, start, end time.Time) Amount {
	total := end.Sub(start)
	left := end.Sub(now)
	if diff <= 0 || total <= 0 || left <= 0 {
		return 0
	}
	r := new(big.Int).Mul(big.NewInt(int64(diff)), big.NewInt(int64(left)))
	r.Quo(r, big.NewInt(int64(total)))
	return Amount(r.Int64())
}

func subscriptionNotFound(customer string) error {
	return errorf(CodeNotFound, "customer %q has no subscription: subscribe it to a plan first", customer)
}

func subscriptionFromRow(r *store.Subscription) *Subscription {
	return &Subscription{ID: r.ID, Customer: r.Customer, Currency: r.Currency, Plan: r.Plan, Status: SubscriptionStatus(r.Status),
		Anchor: r.Anchor, PeriodStart: r.PeriodStart, PeriodEnd: r.PeriodEnd, TrialEnd: r.TrialEnd, CancelAt: r.CancelAt,
		CanceledAt: r.CanceledAt, PausedAt: r.PausedAt, ScheduledPlan: r.ScheduledPlan, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// defaultPlan returns the config's default plan, if it refills.
// meetOnDefaultPlan creates a customer never seen, and so puts it on the
// default plan, when the config has a default plan in currency: a write
// that changes nothing else, whose lock creates the wallet (see
// seeCustomers). A customer with a wallet in currency is left alone. It
// reports whether it wrote.
func (l *Ledger) meetOnDefaultPlan(ctx context.Context, customer, currency string) (bool, error) {
	if p := l.defaultPlan(); p == nil || p.Currency != currency {
		return false, nil
	}
	if err := checkID("customer", customer); err != nil {
		return false, err
	}
	key := walletKey(customer, currency)
	var row *store.Wallet
	if err := l.store.View(ctx, func(ctx context.Context, tx store.ReadTx) (err error) {
		row, err = tx.Wallet(ctx, key)
		return err
	}); err != nil || row != nil {
		return false, err
	}
	_, err := l.exec(ctx, &writeReq{kind: "meet", route: customer, wallets: staticWallets(key),
		apply: func(context.Context, *writeState) (any, error) { return nil, nil }})
	return err == nil, err
}

func (l *Ledger) defaultPlan() *Plan {
	for name, p := range l.cfg.Plans {
		if p != nil && p.Default {
			if sp, err := l.subscriptionPlan(name); err == nil {
				return sp
			}
		}
	}
	return nil
}

// joinDefaultPlan puts the customers of the wallets this write created on
// the default plan before any request applies, so that a brand-new
// customer's first spend already sees the plan's credits. A wallet whose
// customer a request of the batch subscribes to a plan of its choice is
// left to that request (and, should it fail, to seeCustomers).
func (w *writeState) joinDefaultPlan(live []*pending, results []outcome) {
	choosers := map[string]bool{}
	for i, p := range live {
		if p.req.choosesPlan && results[i].err == nil {
			choosers[p.req.route] = true // its route is its customer
		}
	}
	for _, k := range w.order {
		if ws := w.wallets[k]; ws.created && !choosers[k.Customer] {
			w.subscribeDefault(ws)
		}
	}
}

// subscribeDefault puts the customer of a wallet this write created on the
// default plan, when the wallet is in that plan's currency and no request
// of the write subscribed it already: its signup bonus and first refill
// come in the same transaction as the write that first named the customer.
// It cannot fail but for a period past the year 9999; then it logs and
// leaves the customer without a subscription.
func (w *writeState) subscribeDefault(ws *walletState) {
	p := w.l.defaultPlan()
	if p == nil || p.Currency != ws.key.Currency {
		return
	}
	for _, s := range w.changes.Subscriptions {
		if s.Customer == ws.key.Customer && s.Currency == ws.key.Currency {
			return
		}
	}
	sub := &store.Subscription{ID: w.l.ids.New("sub"), Customer: ws.key.Customer, Currency: p.Currency, Plan: p.Name,
		Status: string(SubscriptionActive), Anchor: w.now, PeriodStart: w.now, CreatedAt: w.now}
	if p.SignupBonus > 0 {
		sub.BonusGiven = true
		if err := w.subscriptionGrant(ws, sub, p.SignupBonus, SourceBonus, CategorySignupBonus, w.now, nil, nil, "system"); err != nil {
			w.l.logger.Error("default plan: signup bonus failed", "customer", ws.key.Customer, "err", err)
			return
		}
	}
	if err := w.refill(ws, sub, p, w.now, "system"); err != nil {
		w.l.logger.Error("default plan: first refill failed", "customer", ws.key.Customer, "err", err)
		return
	}
	w.saveSubscription(sub)
	w.event(EventSubscriptionCreated, ws.key, map[string]any{"subscription_id": sub.ID, "plan": p.Name, "status": sub.Status,
		"period_end": sub.PeriodEnd, "default": true})
}
