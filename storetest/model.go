package storetest

import (
	"slices"
	"time"

	"github.com/creditkit/creditkit"
)

// This file is a small reference model of the ledger's semantics for one
// currency, written from the rules of the design (burn-down order, holds,
// expiry, voids, transfers) and not from the library's code. RunOps drives
// the real Ledger and the model with the same operations and compares them
// after every step.
//
// The model keeps what the library stores, including its lazy settling: a
// wallet's lapsed holds give their credits back, and its expired grants are
// written off, at the start of every write that locks the wallet (and by
// RunDue for every wallet). Until then an expired grant keeps its remaining
// credits on record. Reads (balance, hold status) are computed in real time
// from that record, as the design requires. What an expired grant has on
// record before it is settled is the library's business, so RunOps compares
// it only right after everything due was settled on both sides.
//
// A write refused on its inputs alone (a bad amount, a transfer to the same
// wallet) touches nothing. A write refused once its wallets are locked
// (insufficient credits, a hold no longer active, a capture above the held
// amount, a grant already voided) moves no credit either, but the settling
// it did when it locked them is committed, as the write path does.

// modelReason is a grant reason and the burn-down priority it implies.
type modelReason struct {
	Reason   string
	Priority int
}

// modelReasons are the grant reasons the model knows, with their default
// priorities: bonuses, trials and manual adjustments first, then
// subscriptions, then packs.
var modelReasons = []modelReason{
	{"signup_bonus", 10},
	{"bonus", 10},
	{"trial", 10},
	{"manual_adjustment", 10},
	{"subscription", 20},
	{"pack", 30},
}

// modelDefaultHoldTTL is how long a hold lives when no TTL is given.
const modelDefaultHoldTTL = 10 * time.Minute

// modelMaxHoldTTL is the longest TTL a hold may have.
const modelMaxHoldTTL = 7 * 24 * time.Hour

// modelGrant is one bucket of credits. Its index in model.grants is its
// creation order, the last burn-down tie-breaker.
type modelGrant struct {
	customer    string
	amount      int64
	remaining   int64
	priority    int
	effectiveAt time.Time
	expiresAt   *time.Time // nil never expires; never mutated once set
	voided      bool
	// writtenOff is set when the grant expired with credits left and those
	// were written off. A grant that was empty when it expired is not
	// written off, so credits a hold gives back to it later still land in
	// remaining (where they no longer count) until the next settle.
	writtenOff bool
}

// spendableAt reports whether credits may be drawn from g at t.
func (g *modelGrant) spendableAt(t time.Time) bool {
	return !g.voided && !g.writtenOff && g.remaining > 0 && !t.Before(g.effectiveAt) && !g.expiredAt(t)
}

// expiredAt reports whether g is past its expiry at t.
func (g *modelGrant) expiredAt(t time.Time) bool {
	return g.expiresAt != nil && !t.Before(*g.expiresAt)
}

// modelAlloc is an amount drawn from one grant, by the grant's index.
type modelAlloc struct {
	grant  int
	amount int64
}

// modelHold is credits reserved for an operation in flight.
type modelHold struct {
	customer  string
	amount    int64
	captured  int64
	expiresAt time.Time
	status    creditkit.HoldStatus // as recorded; see statusAt for the real-time view
	allocs    []modelAlloc         // never mutated once set
	debt      int64                // the part reserved as overage debt
}

// statusAt returns the hold's status as a reader sees it at t: an active
// hold past its TTL reads as expired even before it is settled.
func (h *modelHold) statusAt(t time.Time) creditkit.HoldStatus {
	if h.status == creditkit.HoldActive && !t.Before(h.expiresAt) {
		return creditkit.HoldExpired
	}
	return h.status
}

// modelBalance is a wallet's balance as the model computes it.
type modelBalance struct {
	Available, Held, Scheduled, Debt int64
}

// model is the reference model of one currency's wallets.
type model struct {
	now    time.Time
	grants []modelGrant
	holds  []modelHold
	// limit and debt are each customer's overage limit and debt.
	limit, debt map[string]int64
	// everLimited holds the customers whose overage limit was ever above
	// 0: a hold taken into debt may outlive a limit lowered since.
	everLimited map[string]bool
}

// newModel returns an empty model whose clock reads now.
func newModel(now time.Time) *model {
	return &model{now: now, limit: map[string]int64{}, debt: map[string]int64{}, everLimited: map[string]bool{}}
}

// advance moves the model's clock forward by d.
func (m *model) advance(d time.Duration) { m.now = m.now.Add(d) }

// settle does what fell due in a customer's wallet: lapsed holds give their
// credits back, then grants past their expiry with credits left are written
// off. It returns how many grants it wrote off and how many holds expired.
func (m *model) settle(customer string) (grants, holds int) {
	for i := range m.holds {
		h := &m.holds[i]
		if h.customer != customer || h.status != creditkit.HoldActive || m.now.Before(h.expiresAt) {
			continue
		}
		m.giveBack(h, 0)
		h.status = creditkit.HoldExpired
		holds++
	}
	for i := range m.grants {
		g := &m.grants[i]
		if g.customer != customer || g.remaining == 0 || g.voided || g.writtenOff || !g.expiredAt(m.now) {
			continue
		}
		g.remaining = 0
		g.writtenOff = true
		grants++
	}
	return grants, holds
}

// giveBack returns a hold's credits to their grants, except the first
// captured ones, which stay spent. Credits that go back to a voided grant,
// or to one already written off by expiry, are written off.
func (m *model) giveBack(h *modelHold, captured int64) {
	keep := captured
	for _, a := range h.allocs {
		back := a.amount
		used := min(keep, back)
		keep -= used
		back -= used
		g := &m.grants[a.grant]
		if back == 0 || g.voided || g.writtenOff {
			continue
		}
		g.remaining += back
	}
	// The debt part is captured after the grants' part; the rest is owed
	// no more.
	m.debt[h.customer] -= h.debt - min(keep, h.debt)
}

// heldDebt is the debt a customer's active holds reserve.
func (m *model) heldDebt(customer string) int64 {
	var d int64
	for i := range m.holds {
		if h := &m.holds[i]; h.customer == customer && h.status == creditkit.HoldActive {
			d += h.debt
		}
	}
	return d
}

// repay makes new grant i pay its customer's debt first (but not the debt
// active holds reserve), when it is spendable now.
func (m *model) repay(i int) {
	g := &m.grants[i]
	owed := m.debt[g.customer] - m.heldDebt(g.customer)
	if owed <= 0 || g.remaining <= 0 || !g.spendableAt(m.now) {
		return
	}
	r := min(owed, g.remaining)
	g.remaining -= r
	m.debt[g.customer] -= r
}

// drawCharge is draw for a charge or a hold: beyond the spendable credits
// it draws the rest as debt when the customer's overage limit allows. It
// returns the allocations and the debt part; on insufficient_credits,
// what was spendable.
func (m *model) drawCharge(customer string, amount int64) ([]modelAlloc, int64, int64, creditkit.ErrorCode) {
	have := m.spendable(customer)
	if have >= amount {
		allocs, have, code := m.draw(customer, amount)
		return allocs, 0, have, code
	}
	need, lim, d := amount-have, m.limit[customer], m.debt[customer]
	if lim <= 0 || d > lim || need > lim-d {
		return nil, 0, have, creditkit.CodeInsufficientCredits
	}
	allocs, _, _ := m.draw(customer, have)
	m.debt[customer] += need
	return allocs, need, 0, ""
}

// setLimit sets a customer's overage limit.
func (m *model) setLimit(customer string, limit int64) {
	m.settle(customer)
	m.limit[customer] = limit
	if limit > 0 {
		m.everLimited[customer] = true
	}
}

// settleDebt settles a customer's debt but what active holds reserve, and
// returns the credits settled.
func (m *model) settleDebt(customer string) int64 {
	m.settle(customer)
	credits := m.debt[customer] - m.heldDebt(customer)
	m.debt[customer] -= credits
	return credits
}

// spendableNet is what a customer's grants can spend now less its debt,
// as entries' available_after report it.
func (m *model) spendableNet(customer string) int64 {
	return m.spendable(customer) - m.debt[customer]
}

// customers returns every customer that owns a grant or a hold.
func (m *model) customers() []string {
	var out []string
	for _, g := range m.grants {
		if !slices.Contains(out, g.customer) {
			out = append(out, g.customer)
		}
	}
	for _, h := range m.holds {
		if !slices.Contains(out, h.customer) {
			out = append(out, h.customer)
		}
	}
	return out
}

// burnsBefore reports whether grant a is drawn from before grant b: lower
// priority first, then the soonest expiry (never-expiring last), then the
// earliest effective, then the first created.
func (m *model) burnsBefore(a, b int) bool {
	ga, gb := &m.grants[a], &m.grants[b]
	if ga.priority != gb.priority {
		return ga.priority < gb.priority
	}
	switch {
	case ga.expiresAt != nil && gb.expiresAt == nil:
		return true
	case ga.expiresAt == nil && gb.expiresAt != nil:
		return false
	case ga.expiresAt != nil && !ga.expiresAt.Equal(*gb.expiresAt):
		return ga.expiresAt.Before(*gb.expiresAt)
	}
	if !ga.effectiveAt.Equal(gb.effectiveAt) {
		return ga.effectiveAt.Before(gb.effectiveAt)
	}
	return a < b
}

// spendable returns the sum of a customer's spendable credits now.
func (m *model) spendable(customer string) int64 {
	var sum int64
	for i := range m.grants {
		if g := &m.grants[i]; g.customer == customer && g.spendableAt(m.now) {
			sum += g.remaining
		}
	}
	return sum
}

// draw takes amount from a customer's spendable grants in burn-down order.
// If they hold less than amount it changes nothing and returns
// insufficient_credits with what was spendable.
func (m *model) draw(customer string, amount int64) ([]modelAlloc, int64, creditkit.ErrorCode) {
	var usable []int
	for i := range m.grants {
		if g := &m.grants[i]; g.customer == customer && g.spendableAt(m.now) {
			usable = append(usable, i)
		}
	}
	if have := m.spendable(customer); have < amount {
		return nil, have, creditkit.CodeInsufficientCredits
	}
	slices.SortFunc(usable, func(a, b int) int {
		switch {
		case a == b:
			return 0
		case m.burnsBefore(a, b):
			return -1
		}
		return 1
	})
	var allocs []modelAlloc
	left := amount
	for _, i := range usable {
		if left == 0 {
			break
		}
		take := min(left, m.grants[i].remaining)
		m.grants[i].remaining -= take
		allocs = append(allocs, modelAlloc{grant: i, amount: take})
		left -= take
	}
	return allocs, 0, ""
}

// grant gives a customer amount credits with a priority, effective
// effectiveIn from now (0 is now) and expiring expiresIn after it becomes
// effective (0 never). It returns the new grant's index.
func (m *model) grant(customer string, amount int64, priority int, effectiveIn, expiresIn time.Duration) (int, creditkit.ErrorCode) {
	if amount <= 0 {
		return -1, creditkit.CodeInvalidAmount
	}
	if expiresIn < 0 {
		return -1, creditkit.CodeInvalidRequest
	}
	m.settle(customer)
	g := modelGrant{customer: customer, amount: amount, remaining: amount, priority: priority, effectiveAt: m.now}
	if effectiveIn > 0 {
		g.effectiveAt = m.now.Add(effectiveIn)
	}
	if expiresIn > 0 {
		t := g.effectiveAt.Add(expiresIn)
		g.expiresAt = &t
	}
	m.grants = append(m.grants, g)
	m.repay(len(m.grants) - 1)
	return len(m.grants) - 1, ""
}

// debit removes amount credits from a customer in burn-down order. On
// insufficient_credits it also returns what was spendable.
func (m *model) debit(customer string, amount int64) ([]modelAlloc, int64, creditkit.ErrorCode) {
	if amount <= 0 {
		return nil, 0, creditkit.CodeInvalidAmount
	}
	m.settle(customer)
	allocs, _, have, code := m.drawCharge(customer, amount)
	if code != "" {
		return nil, have, code
	}
	return allocs, 0, ""
}

// hold reserves amount credits of a customer for ttl (0 is the default
// TTL). It returns the new hold's index; on insufficient_credits, what was
// spendable.
func (m *model) hold(customer string, amount int64, ttl time.Duration) (int, int64, creditkit.ErrorCode) {
	if amount <= 0 {
		return -1, 0, creditkit.CodeInvalidAmount
	}
	if ttl == 0 {
		ttl = modelDefaultHoldTTL
	}
	if ttl < 0 || ttl > modelMaxHoldTTL {
		return -1, 0, creditkit.CodeInvalidRequest
	}
	m.settle(customer)
	allocs, debt, have, code := m.drawCharge(customer, amount)
	if code != "" {
		return -1, have, code
	}
	m.holds = append(m.holds, modelHold{customer: customer, amount: amount, expiresAt: m.now.Add(ttl),
		status: creditkit.HoldActive, allocs: allocs, debt: debt})
	return len(m.holds) - 1, 0, ""
}

// capture charges amount credits of hold h (nil means all it holds): the
// hold's first amount credits stay spent and the rest go back. It returns
// the allocations charged.
func (m *model) capture(h int, amount *int64) ([]modelAlloc, creditkit.ErrorCode) {
	if amount != nil && *amount < 0 {
		return nil, creditkit.CodeInvalidAmount
	}
	hold := &m.holds[h]
	m.settle(hold.customer)
	if hold.status != creditkit.HoldActive {
		return nil, creditkit.CodeHoldNotActive
	}
	captured := hold.amount
	if amount != nil {
		captured = *amount
	}
	if captured > hold.amount {
		return nil, creditkit.CodeInvalidAmount
	}
	var allocs []modelAlloc
	keep := captured
	for _, a := range hold.allocs {
		if keep == 0 {
			break
		}
		take := min(keep, a.amount)
		allocs = append(allocs, modelAlloc{grant: a.grant, amount: take})
		keep -= take
	}
	m.giveBack(hold, captured)
	hold.status = creditkit.HoldCaptured
	hold.captured = captured
	return allocs, ""
}

// release cancels hold h: all its credits go back.
func (m *model) release(h int) creditkit.ErrorCode {
	hold := &m.holds[h]
	m.settle(hold.customer)
	if hold.status != creditkit.HoldActive {
		return creditkit.CodeHoldNotActive
	}
	m.giveBack(hold, 0)
	hold.status = creditkit.HoldReleased
	return ""
}

// transfer moves amount credits from one customer to another: it draws from
// the sender like a debit (but never more than the sender has net of its
// debt, and never into debt) and gives the receiver one new grant per bucket
// drawn from, effective now, with that bucket's priority and expiry (or no
// expiry when evergreen). It returns the drawn allocations and the new
// grants' indexes; on insufficient_credits, what was spendable.
func (m *model) transfer(from, to string, amount int64, evergreen bool) ([]modelAlloc, []int, int64, creditkit.ErrorCode) {
	if from == to {
		return nil, nil, 0, creditkit.CodeInvalidRequest
	}
	if amount <= 0 {
		return nil, nil, 0, creditkit.CodeInvalidAmount
	}
	m.settle(from)
	m.settle(to)
	// A wallet in debt transfers only what it has net of the debt: the
	// credits it holds while it owes are the debt's.
	if m.debt[from] > 0 {
		if net := m.spendableNet(from); amount > net {
			return nil, nil, max(net, 0), creditkit.CodeInsufficientCredits
		}
	}
	allocs, have, code := m.draw(from, amount)
	if code != "" {
		return nil, nil, have, code
	}
	var created []int
	for _, a := range allocs {
		src := m.grants[a.grant]
		g := modelGrant{customer: to, amount: a.amount, remaining: a.amount, priority: src.priority, effectiveAt: m.now}
		if !evergreen {
			g.expiresAt = src.expiresAt
		}
		m.grants = append(m.grants, g)
		m.repay(len(m.grants) - 1)
		created = append(created, len(m.grants)-1)
	}
	return allocs, created, 0, ""
}

// void removes what is left of grant g and returns how much that was. A
// grant already voided, or expired (written off or past its expiry), is no
// longer active and cannot be voided.
func (m *model) void(g int) (int64, creditkit.ErrorCode) {
	grant := &m.grants[g]
	m.settle(grant.customer)
	if grant.voided || grant.writtenOff || grant.expiredAt(m.now) {
		return 0, creditkit.CodeGrantNotActive
	}
	amount := grant.remaining
	grant.remaining = 0
	grant.voided = true
	return amount, ""
}

// runDue settles every wallet and returns how many grants it wrote off and
// how many holds expired.
func (m *model) runDue() (grants, holds int) {
	for _, c := range m.customers() {
		g, h := m.settle(c)
		grants += g
		holds += h
	}
	return grants, holds
}

// balance returns a customer's balance now, in real time: credits of holds
// past their TTL count as given back (to grants still spendable), expired
// grants count for nothing whether or not they were written off, and grants
// not yet effective count as scheduled.
func (m *model) balance(customer string) modelBalance {
	var b modelBalance
	var released int64
	remaining := make([]int64, len(m.grants))
	for i := range m.grants {
		remaining[i] = m.grants[i].remaining
	}
	for i := range m.holds {
		h := &m.holds[i]
		if h.customer != customer || h.status != creditkit.HoldActive {
			continue
		}
		if m.now.Before(h.expiresAt) {
			b.Held += h.amount
			continue
		}
		for _, a := range h.allocs {
			remaining[a.grant] += a.amount
		}
		released += h.debt
	}
	for i := range m.grants {
		g := &m.grants[i]
		switch {
		case g.customer != customer, g.voided, g.writtenOff, g.expiredAt(m.now):
		case m.now.Before(g.effectiveAt):
			b.Scheduled += remaining[i]
		default:
			b.Available += remaining[i]
		}
	}
	b.Debt = max(m.debt[customer]-released, 0)
	b.Available -= b.Debt
	return b
}

// nextDeadline returns the first instant after now at which something
// changes on its own: a grant starts or expires, or a hold lapses.
func (m *model) nextDeadline() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(m.now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for i := range m.grants {
		g := &m.grants[i]
		if g.voided || g.writtenOff {
			continue
		}
		consider(g.effectiveAt)
		if g.expiresAt != nil {
			consider(*g.expiresAt)
		}
	}
	for i := range m.holds {
		if h := &m.holds[i]; h.status == creditkit.HoldActive {
			consider(h.expiresAt)
		}
	}
	return next, !next.IsZero()
}
