package storetest

import (
	"fmt"
	"time"

	"github.com/creditkit/creditkit"
)

// This file is a reference model of subscription schedules, written from
// docs/plans.md and not from the library's code: which plan a customer is
// on, its status and current period, and every refill the ledger must
// write, as (subscription, plan, instant). RunPlanOps compares the ledger
// with it after every step. It models no balances: what the refills,
// rollovers, expiries and settlements do to a wallet is checked by the
// ledger's invariants instead (see RunPlanOps).

// PlanConfig holds the plans the plan property test subscribes customers
// to: short periods, so that clock jumps cross many boundaries, with every
// unused_credits policy, a catch_up: latest plan, and an overage plan so
// that debt appears.
const PlanConfig = `
currencies:
  - { name: credits, decimals: 0 }
plans:
  daily:
    gives: 100 credits every day
    unused_credits: expire
    trial_includes: 20 credits
  roll:
    gives: 100 credits every day
    unused_credits: rollover up to 150 credits
  big:
    gives: 300 credits every day
    unused_credits: rollover
  lazy:
    gives: 40 credits every 2 days
    catch_up: latest
  metered:
    gives: 50 credits every day
    overage: up to 200 credits
    overage_price: 1 USD per 100 credits
`

// planSpec is what the schedule model needs of a plan of PlanConfig.
type planSpec struct {
	name    string
	gives   int64
	days    int // the refill period, in days
	overage int64
	latest  bool  // catch_up: latest
	trial   int64 // trial_includes
}

// planSpecs are the plans of PlanConfig, in the order random operations
// pick them.
var planSpecs = []planSpec{
	{name: "daily", gives: 100, days: 1, trial: 20},
	{name: "roll", gives: 100, days: 1},
	{name: "big", gives: 300, days: 1},
	{name: "lazy", gives: 40, days: 2, latest: true},
	{name: "metered", gives: 50, days: 1, overage: 200},
}

func planByName(name string) planSpec {
	for _, p := range planSpecs {
		if p.name == name {
			return p
		}
	}
	panic("storetest: unknown plan " + name)
}

// boundary is the start of period n after anchor.
func (p planSpec) boundary(anchor time.Time, n int) time.Time {
	return anchor.AddDate(0, 0, n*p.days)
}

// index is the number of the period t falls in, counted from anchor.
func (p planSpec) index(anchor, t time.Time) int {
	return int(t.Sub(anchor) / (time.Duration(p.days) * 24 * time.Hour))
}

// upgradeTo reports whether plan b gives more credits per unit of time
// than p.
func (p planSpec) upgradeTo(b planSpec) bool {
	return b.gives*int64(p.days) > p.gives*int64(b.days)
}

// planTrial is how long a trial of the plan property test lasts.
var planTrial = creditkit.Span{Days: 1}

// planRefill is one refill the ledger must write.
type planRefill struct {
	sub  string // the ledger's subscription ID
	plan string
	at   time.Time // the refill's effective instant
	// upgrade marks the refill of an upgrade: the one refill that may come
	// less than a period after the one before (the customer pays for the
	// better plan at once).
	upgrade bool
}

// refills reports whether s comes to its period ends: active or trialing.
func (s *planSub) refills() bool {
	return s.status == creditkit.SubscriptionActive || s.status == creditkit.SubscriptionTrialing
}

// planSub is a customer's subscription as the model keeps it.
type planSub struct {
	id          string
	plan        string
	status      creditkit.SubscriptionStatus
	anchor      time.Time
	periodStart time.Time
	periodEnd   time.Time
	cancelAt    *time.Time
	scheduled   string
	graceEnd    time.Time // past_due: period ends before it still refill
}

// planModel is the schedule model of every customer's subscription (one
// currency).
type planModel struct {
	now     time.Time
	subs    map[string]*planSub
	refills map[string][]planRefill // by customer
	// limit is each customer's overage limit as the subscriptions set it.
	limit map[string]int64
	// debtBound is the most a customer may owe: the highest limit in
	// force since the customer last owed nothing (debt only grows by draws
	// the limit then in force allows; a limit lowered later does not
	// lower what is already owed).
	debtBound map[string]int64
}

func newPlanModel(now time.Time) *planModel {
	return &planModel{now: now, subs: map[string]*planSub{}, refills: map[string][]planRefill{}, limit: map[string]int64{},
		debtBound: map[string]int64{}}
}

// setLimit records the overage limit a subscription change sets.
func (m *planModel) setLimit(customer string, limit int64) {
	m.limit[customer] = limit
	m.debtBound[customer] = max(m.debtBound[customer], limit)
}

// refill records plan p's refill of s at at and makes the period that
// starts there current.
func (m *planModel) refill(customer string, s *planSub, p planSpec, at time.Time) {
	m.refills[customer] = append(m.refills[customer], planRefill{sub: s.id, plan: p.name, at: at})
	k := max(p.index(s.anchor, at), 0)
	s.periodStart, s.periodEnd = at, p.boundary(s.anchor, k+1)
	m.setLimit(customer, p.overage)
}

// cancelNow ends s at at.
func (m *planModel) cancelAt(customer string, s *planSub, at time.Time) {
	s.status = creditkit.SubscriptionCanceled
	t := at
	s.cancelAt = &t
	s.scheduled = ""
	m.setLimit(customer, 0)
}

// catchUp applies every period end of a customer's subscription due now, in
// order: a cancellation at the period end, a trial's end (it converts: a
// paid period starts there, with a refill), a scheduled downgrade, else
// the refill (each missed period, or only the latest with catch_up:
// latest). A past_due subscription comes to the period ends before its
// grace's end; after it, only a cancellation at the period end still
// takes effect (at its date), and nothing else until it is paid.
func (m *planModel) catchUp(customer string) {
	s := m.subs[customer]
	for s != nil && (s.refills() || s.status == creditkit.SubscriptionPastDue) && !s.periodEnd.After(m.now) {
		b := s.periodEnd
		p := planByName(s.plan)
		if s.status == creditkit.SubscriptionPastDue && !b.Before(s.graceEnd) {
			if s.cancelAt != nil && !s.cancelAt.After(b) {
				m.cancelAt(customer, s, *s.cancelAt)
			}
			return
		}
		switch {
		case s.cancelAt != nil && !s.cancelAt.After(b):
			m.cancelAt(customer, s, *s.cancelAt)
		case s.status == creditkit.SubscriptionTrialing:
			s.status, s.anchor = creditkit.SubscriptionActive, b
			m.refill(customer, s, p, b)
		case s.scheduled != "":
			np := planByName(s.scheduled)
			s.plan, s.scheduled, s.anchor = np.name, "", b
			m.refill(customer, s, np, b)
		default:
			at := b
			if p.latest {
				if latest := p.boundary(s.anchor, p.index(s.anchor, m.now)); latest.After(at) {
					at = latest
				}
			}
			m.refill(customer, s, p, at)
		}
	}
}

// runDue catches every subscription up.
func (m *planModel) runDue() {
	for c := range m.subs {
		m.catchUp(c)
	}
}

// subscribe starts a subscription to plan, with a trial of planTrial
// (its credits are not a refill; the first refill comes when it ends)
// or with the first refill now; id is the ledger's ID of the new one. A
// live subscription to the same plan is answered as it is; to another
// plan it is invalid_request (ChangePlan moves it).
func (m *planModel) subscribe(customer, plan string, trial bool, id func() string) creditkit.ErrorCode {
	if s := m.subs[customer]; s != nil && s.status != creditkit.SubscriptionCanceled {
		if s.plan == plan {
			return ""
		}
		return creditkit.CodeInvalidRequest
	}
	p := planByName(plan)
	s := &planSub{id: id(), plan: plan, status: creditkit.SubscriptionActive, anchor: m.now}
	m.subs[customer] = s
	if trial {
		s.status, s.periodStart, s.periodEnd = creditkit.SubscriptionTrialing, m.now, planTrial.AddTo(m.now)
		return ""
	}
	m.refill(customer, s, p, m.now)
	return ""
}

// change runs a change of an existing subscription the way every change
// does: not_found without one; else the periods that fell due first, then
// the change itself. A refused change writes nothing, its catch-up
// included (one write: the next one catches up instead).
func (m *planModel) change(customer string, fn func(s *planSub) creditkit.ErrorCode) creditkit.ErrorCode {
	s := m.subs[customer]
	if s == nil {
		return creditkit.CodeNotFound
	}
	saved, refills, limit, bound := *s, len(m.refills[customer]), m.limit[customer], m.debtBound[customer]
	m.catchUp(customer)
	code := fn(s)
	if code != "" {
		*s = saved
		m.refills[customer] = m.refills[customer][:refills]
		m.limit[customer], m.debtBound[customer] = limit, bound
	}
	return code
}

// changePlan moves a subscription to plan: an upgrade at once (a new
// period with the full allowance), a downgrade at the period end; the
// current plan cancels a scheduled downgrade; a trial changes plan at once
// and goes on.
func (m *planModel) changePlan(customer, plan string) creditkit.ErrorCode {
	return m.change(customer, func(s *planSub) creditkit.ErrorCode {
		if !s.refills() {
			return creditkit.CodeInvalidRequest
		}
		old, np := planByName(s.plan), planByName(plan)
		switch {
		case plan == s.plan:
			// Drops a scheduled downgrade and renews a scheduled
			// cancellation (no plan here has expire_after).
			s.scheduled, s.cancelAt = "", nil
		case s.status == creditkit.SubscriptionTrialing:
			s.plan, s.scheduled = plan, ""
		case !old.upgradeTo(np):
			s.scheduled = plan
		default:
			s.plan, s.scheduled, s.anchor = plan, "", m.now
			m.refill(customer, s, np, m.now)
			rs := m.refills[customer]
			rs[len(rs)-1].upgrade = true
			if s.cancelAt != nil {
				// A cancellation at the period end follows the new
				// period.
				t := s.periodEnd
				s.cancelAt = &t
			}
		}
		return ""
	})
}

// cancel ends a subscription now, or at its period end (a paused one, or
// a past_due one whose period end went by unrefilled, ends now).
func (m *planModel) cancel(customer string, atPeriodEnd bool) creditkit.ErrorCode {
	return m.change(customer, func(s *planSub) creditkit.ErrorCode {
		if s.status == creditkit.SubscriptionCanceled {
			return creditkit.CodeInvalidRequest
		}
		if atPeriodEnd && s.status != creditkit.SubscriptionPaused && s.periodEnd.After(m.now) {
			if s.cancelAt == nil {
				t := s.periodEnd
				s.cancelAt = &t
				s.scheduled = ""
			}
			return ""
		}
		m.cancelAt(customer, s, m.now)
		return ""
	})
}

// pause stops an active subscription's refills.
func (m *planModel) pause(customer string) creditkit.ErrorCode {
	return m.change(customer, func(s *planSub) creditkit.ErrorCode {
		switch s.status {
		case creditkit.SubscriptionPaused:
		case creditkit.SubscriptionActive:
			s.status = creditkit.SubscriptionPaused
		default:
			return creditkit.CodeInvalidRequest
		}
		return ""
	})
}

// resume restarts a paused subscription's cadence from now (restart); any
// other subscription is left as it is.
func (m *planModel) resume(customer string) creditkit.ErrorCode {
	return m.change(customer, func(s *planSub) creditkit.ErrorCode {
		if s.status == creditkit.SubscriptionPaused {
			m.restart(customer, s)
		}
		return ""
	})
}

// markPastDue makes an active subscription past_due, refilling the period
// ends before now+grace; a past_due one keeps its first grace.
func (m *planModel) markPastDue(customer string, grace time.Duration) creditkit.ErrorCode {
	return m.change(customer, func(s *planSub) creditkit.ErrorCode {
		switch s.status {
		case creditkit.SubscriptionPastDue:
		case creditkit.SubscriptionActive:
			s.status, s.graceEnd = creditkit.SubscriptionPastDue, m.now.Add(grace)
		default:
			return creditkit.CodeInvalidRequest
		}
		return ""
	})
}

// recover makes a past_due subscription active: within its period the
// cadence goes on; after a period end it missed, the cadence restarts
// (restart). Any other subscription is left as it is.
func (m *planModel) recover(customer string) creditkit.ErrorCode {
	return m.change(customer, func(s *planSub) creditkit.ErrorCode {
		switch {
		case s.status != creditkit.SubscriptionPastDue:
		case s.periodEnd.After(m.now):
			s.status = creditkit.SubscriptionActive
		default:
			m.restart(customer, s)
		}
		return ""
	})
}

// restart restarts the cadence of a subscription whose refills stopped:
// the next period end is one period from now, and no more than one
// allowance comes per period (docs/plans.md). Before the stopped period's
// end, nothing is refilled: the period runs on from its start to one
// period after now, and a cancellation at its end moves there (so does a
// scheduled downgrade, being at the period end). At or after it, now is
// that period end: a cancellation ends the subscription now, a scheduled
// downgrade starts the new plan now with its refill; else the refill.
func (m *planModel) restart(customer string, s *planSub) {
	p := planByName(s.plan)
	s.status = creditkit.SubscriptionActive
	switch {
	case m.now.Before(s.periodEnd):
		s.anchor, s.periodEnd = m.now, p.boundary(m.now, 1)
		if s.cancelAt != nil {
			t := s.periodEnd
			s.cancelAt = &t
		}
	case s.cancelAt != nil:
		m.cancelAt(customer, s, m.now)
	case s.scheduled != "":
		np := planByName(s.scheduled)
		s.plan, s.scheduled, s.anchor = np.name, "", m.now
		m.refill(customer, s, np, m.now)
	default:
		s.anchor = m.now
		m.refill(customer, s, p, m.now)
	}
}

// allowanceGaps checks the rule that no sequence of pauses, resumes, plan
// changes, failed payments and recoveries gives more than one allowance
// per period: the refills of a subscription are each at least one period
// (of the plan of the one before) after the one before, but for an
// upgrade's. It returns a description of the first refill that breaks the
// rule, or "".
func (m *planModel) allowanceGaps(customer string) string {
	last := map[string]planRefill{}
	for _, r := range m.refills[customer] {
		prev, ok := last[r.sub]
		last[r.sub] = r
		if !ok || r.upgrade {
			continue
		}
		p := planByName(prev.plan)
		if gap := r.at.Sub(prev.at); gap < time.Duration(p.days)*24*time.Hour {
			return fmt.Sprintf("refill %s@%s only %s after the %s refill at %s", r.plan, r.at.Sub(Epoch), gap, prev.plan, prev.at.Sub(Epoch))
		}
	}
	return ""
}
