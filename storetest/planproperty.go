package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// planPropertySteps is how many operations one run of the plan property
// test makes.
const planPropertySteps = 120

// planCheckEvery is how often (in steps) RunPlanOps also runs the full
// invariant check, which settles everything due (a RunDue).
const planCheckEvery = 30

// planCustomers are the customers of a plan operation sequence: the
// first two only ever join plans without overage (so their wallets must
// never go negative), the others any plan.
var planCustomers = []string{"na", "nb", "oa", "ob"}

// planNoOverage reports whether customer c only joins plans without
// overage.
func planNoOverage(c string) bool { return strings.HasPrefix(c, "n") }

// PlanOpKind is the kind of an operation of RunPlanOps.
type PlanOpKind uint8

// Plan operation kinds.
const (
	POpSubscribe PlanOpKind = iota // StartSubscription to Plan
	POpChange                      // ChangePlan to Plan
	POpCancel                      // Cancel, at the period end when AtPeriodEnd
	POpPause                       // Pause
	POpResume                      // Resume
	POpGrant                       // Grant Amount (expiring in Expires when set)
	POpDebit                       // Debit Amount
	POpHold                        // Hold Amount for TTL
	POpResolve                     // capture (part of) or release the Target-th hold
	POpTransfer                    // Transfer Amount to To
	POpAdvance                     // move the clock forward by Advance
	POpRunDue                      // RunDue
	POpCheck                       // CheckAmount Amount
	POpPastDue                     // MarkPastDue with Grace
	POpRecover                     // RecoverPastDue
)

var planOpNames = [...]string{"subscribe", "change", "cancel", "pause", "resume", "grant", "debit", "hold", "resolve", "transfer",
	"advance", "rundue", "check", "pastdue", "recover"}

// PlanOp is one operation of a plan sequence.
type PlanOp struct {
	Kind        PlanOpKind
	Trial       bool // subscribe with a trial
	Customer    int  // into planCustomers
	To          int  // the receiver of a transfer
	Plan        int  // into the plans the customer may join
	AtPeriodEnd bool
	Amount      int64
	Expires     time.Duration
	TTL         time.Duration
	Target      int
	Capture     bool // resolve captures (Amount modulo held+1) instead of releasing
	Advance     time.Duration
	Grace       time.Duration // of a MarkPastDue
}

// customer returns the operation's customer.
func (o PlanOp) customer() string { return planCustomers[index(o.Customer, len(planCustomers))] }

// plan returns the plan the operation names, among those its customer may
// join.
func (o PlanOp) plan() string {
	n := len(planSpecs)
	if planNoOverage(o.customer()) {
		n-- // the overage plan is last
	}
	return planSpecs[index(o.Plan, n)].name
}

// String describes the operation.
func (o PlanOp) String() string {
	name := "op(" + strconv.Itoa(int(o.Kind)) + ")"
	if int(o.Kind) < len(planOpNames) {
		name = planOpNames[o.Kind]
	}
	switch o.Kind {
	case POpSubscribe:
		return fmt.Sprintf("%s %s %s trial=%v", name, o.customer(), o.plan(), o.Trial)
	case POpChange:
		return fmt.Sprintf("%s %s %s", name, o.customer(), o.plan())
	case POpCancel:
		return fmt.Sprintf("%s %s at_period_end=%v", name, o.customer(), o.AtPeriodEnd)
	case POpPause, POpResume, POpRecover:
		return fmt.Sprintf("%s %s", name, o.customer())
	case POpPastDue:
		return fmt.Sprintf("%s %s grace=%s", name, o.customer(), o.Grace)
	case POpGrant:
		return fmt.Sprintf("%s %s %d expires_in=%s", name, o.customer(), o.Amount, o.Expires)
	case POpDebit, POpCheck:
		return fmt.Sprintf("%s %s %d", name, o.customer(), o.Amount)
	case POpHold:
		return fmt.Sprintf("%s %s %d ttl=%s", name, o.customer(), o.Amount, o.TTL)
	case POpResolve:
		return fmt.Sprintf("%s target=%d capture=%v amount=%d", name, o.Target, o.Capture, o.Amount)
	case POpTransfer:
		return fmt.Sprintf("%s %s->%s %d", name, o.customer(), planCustomers[index(o.To, len(planCustomers))], o.Amount)
	case POpAdvance:
		return fmt.Sprintf("%s %s", name, o.Advance)
	}
	return name
}

// RandomPlanOps returns n random plan operations drawn from r: mostly
// spends, holds and clock jumps across period boundaries, with
// subscription changes (pauses and resumes often at one instant, failed
// payments and their recoveries among them), refills and checks mixed in.
func RandomPlanOps(r *rand.Rand, n int) []PlanOp {
	ops := make([]PlanOp, n)
	for i := range ops {
		op := PlanOp{Customer: r.IntN(len(planCustomers)), To: r.IntN(len(planCustomers)), Plan: r.IntN(len(planSpecs)),
			Target: r.IntN(1 << 20), Amount: 1 + r.Int64N(150)}
		switch w := r.IntN(100); {
		case w < 10:
			op.Kind = POpSubscribe
			op.Trial = r.IntN(3) == 0
		case w < 16:
			op.Kind = POpChange
		case w < 20:
			op.Kind = POpCancel
			op.AtPeriodEnd = r.IntN(2) == 0
		case w < 25:
			op.Kind = POpPause
		case w < 30:
			op.Kind = POpResume
		case w < 32:
			op.Kind = POpPastDue
			if r.IntN(2) == 0 {
				op.Grace = time.Duration(r.IntN(36*60)) * time.Minute
			}
		case w < 34:
			op.Kind = POpRecover
		case w < 37:
			op.Kind = POpGrant
			op.Amount = 1 + r.Int64N(80)
			if r.IntN(2) == 0 {
				op.Expires = time.Duration(1+r.IntN(48)) * time.Hour
			}
		case w < 50:
			op.Kind = POpDebit
		case w < 58:
			op.Kind = POpHold
			op.TTL = time.Duration(1+r.IntN(600)) * time.Minute
		case w < 64:
			op.Kind = POpResolve
			op.Capture = r.IntN(2) == 0
		case w < 70:
			op.Kind = POpTransfer
			op.Amount = 1 + r.Int64N(60)
		case w < 86:
			op.Kind = POpAdvance
			if r.IntN(3) == 0 {
				op.Advance = time.Duration(1+r.IntN(72*60)) * time.Minute // up to 3 days: several periods
			} else {
				op.Advance = time.Duration(1+r.IntN(12*60)) * time.Minute
			}
		case w < 93:
			op.Kind = POpRunDue
		default:
			op.Kind = POpCheck
		}
		ops[i] = op
	}
	return ops
}

// testRandomPlanOpsKeepInvariants runs random plan sequences (see
// RunPlanOps) on a ledger with PlanConfig's plans. CREDITKIT_PROPERTY_SEED
// replays a failed run, as for RandomOpsMatchModel.
func testRandomPlanOpsKeepInvariants(t *testing.T, b *Bundle) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(SeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not an unsigned integer", SeedEnv, s)
		}
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random plan operations seed %d: replay with %s=%d go test -run 'TestConformance/RandomPlanOpsKeepInvariants'", seed, SeedEnv, seed)
		}
	})
	pb := SetupWith(t, b.newStore, func(cfg *creditkit.Config) {
		pc, err := creditkit.ParseConfig("plans.yaml", []byte(PlanConfig))
		if err != nil {
			t.Fatalf("parse plan config: %v", err)
		}
		cfg.Plans = pc.Plans
	})
	r := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	RunPlanOps(t, pb, RandomPlanOps(r, planPropertySteps))
}

// RunPlanOps runs plan operations on the bundle's ledger (whose config
// must hold PlanConfig's plans) and checks after every step:
//
//   - the schedule, exactly, against the reference model (planmodel.go):
//     each customer's subscription (plan, status, anchor, period,
//     scheduled downgrade, cancellation) and the refills written, as
//     (subscription, plan, instant), so that exactly one refill exists per
//     (subscription, period) across clock jumps, catch-ups, plan changes,
//     pauses and cancellations; each operation succeeds or fails as the
//     model says;
//   - no free allowance: a subscription's refills are at least one period
//     apart (an upgrade's excepted), whatever pauses, resumes, failed
//     payments, recoveries and plan changes came between;
//   - debt bounds: a wallet owes at most the highest overage limit in
//     force since it last owed nothing, its available balance is never
//     below minus that, nor its ledger balance; a customer only ever on
//     plans without overage never owes and is never negative;
//   - the wallet's ledger balance equals the sum of its entries;
//   - a check agrees with the balance, the model's subscription, and Usage
//     since the period's start;
//
// and every planCheckEvery steps and at the end CheckInvariants (which
// settles what is due: a RunDue for the model too). The model does not
// compute balances: what refills, rollovers, caps, expiries, overage and
// settlements do to them is checked by those invariants, not to the
// credit.
func RunPlanOps(t *testing.T, b *Bundle, ops []PlanOp) {
	t.Helper()
	defer guard(t)
	r := &planRunner{t: t, b: b, c: ctx(t), m: newPlanModel(b.Ledger.Now()), seen: map[string]bool{},
		sum: map[string]creditkit.Amount{}, cursor: map[string]string{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plan steps run (newest last):\n%s", strings.Join(r.trace, "\n"))
		}
	})
	for i, op := range ops {
		r.step = i
		r.do(op)
		r.checkMoney()
		if (i+1)%planCheckEvery == 0 {
			r.invariants()
		}
	}
	r.invariants()
}

// planRunner runs one plan sequence.
type planRunner struct {
	t     *testing.T
	b     *Bundle
	c     context.Context
	m     *planModel
	holds []string
	step  int
	trace []string
	seen  map[string]bool // customers a write has named
	// sum and cursor add up each customer's entries as they come.
	sum    map[string]creditkit.Amount
	cursor map[string]string
}

func (r *planRunner) fail(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("step %d: %s", r.step, fmt.Sprintf(format, args...))
}

func (r *planRunner) log(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf("%3d %s ", r.step, r.m.now.Sub(Epoch))+fmt.Sprintf(format, args...))
}

// wantCode fails unless err has the code the model expects.
func (r *planRunner) wantCode(what string, err error, want creditkit.ErrorCode) {
	r.t.Helper()
	if got := creditkit.ErrorCodeOf(err); got != want {
		r.fail("%s: ledger returned %v (code %q), model expects %q", what, err, got, want)
	}
}

// allowCodes fails when err is not nil and has none of the codes.
func (r *planRunner) allowCodes(what string, err error, codes ...creditkit.ErrorCode) {
	r.t.Helper()
	if err != nil && !slices.Contains(codes, creditkit.ErrorCodeOf(err)) {
		r.fail("%s: %v", what, err)
	}
}

func (r *planRunner) do(op PlanOp) {
	r.t.Helper()
	l, c := r.b.Ledger, r.c
	cust := op.customer()
	switch op.Kind {
	case POpSubscribe:
		opts := &creditkit.SubscribeOpts{}
		if op.Trial {
			opts.Trial = planTrial
		}
		s, err := l.StartSubscription(c, cust, op.plan(), opts)
		code := r.m.subscribe(cust, op.plan(), op.Trial, func() string {
			if s == nil {
				return "?"
			}
			return s.ID
		})
		r.log("%v -> %v", op, err)
		r.wantCode(op.String(), err, code)
		if err == nil {
			r.seen[cust] = true
		}
		r.checkSchedule(cust)
	case POpChange, POpCancel, POpPause, POpResume, POpPastDue, POpRecover:
		var err error
		var code creditkit.ErrorCode
		switch op.Kind {
		case POpChange:
			_, err = l.ChangePlan(c, cust, op.plan(), nil)
			code = r.m.changePlan(cust, op.plan())
		case POpCancel:
			_, err = l.Cancel(c, cust, &creditkit.CancelOpts{AtPeriodEnd: op.AtPeriodEnd})
			code = r.m.cancel(cust, op.AtPeriodEnd)
		case POpPause:
			_, err = l.Pause(c, cust, nil)
			code = r.m.pause(cust)
		case POpResume:
			_, err = l.Resume(c, cust, nil)
			code = r.m.resume(cust)
		case POpPastDue:
			_, err = l.MarkPastDue(c, cust, &creditkit.PastDueOpts{Grace: op.Grace})
			code = r.m.markPastDue(cust, op.Grace)
		case POpRecover:
			_, err = l.RecoverPastDue(c, cust, nil)
			code = r.m.recover(cust)
		}
		r.log("%v -> %v", op, err)
		r.wantCode(op.String(), err, code)
		r.checkSchedule(cust)
	case POpGrant:
		_, err := l.Grant(c, cust, creditkit.Amount(op.Amount), &creditkit.GrantOpts{ExpiresIn: op.Expires})
		r.log("%v -> %v", op, err)
		r.wantCode(op.String(), err, "")
		r.seen[cust] = true
	case POpDebit:
		_, err := l.Debit(c, cust, creditkit.Amount(op.Amount), nil)
		r.log("%v -> %v", op, err)
		r.allowCodes(op.String(), err, creditkit.CodeInsufficientCredits)
		r.seen[cust] = true
	case POpHold:
		amount := creditkit.Amount(op.Amount)
		h, err := l.Hold(c, cust, "", nil, &creditkit.HoldOpts{Amount: &amount, TTL: op.TTL})
		r.log("%v -> %v", op, err)
		r.allowCodes(op.String(), err, creditkit.CodeInsufficientCredits)
		r.seen[cust] = true
		if err == nil {
			r.holds = append(r.holds, h.ID)
		}
	case POpResolve:
		if len(r.holds) == 0 {
			r.log("%v -> skipped: no hold", op)
			return
		}
		id := r.holds[index(op.Target, len(r.holds))]
		var err error
		if op.Capture {
			h := must(l.GetHold(c, id))
			amount := creditkit.Amount(index64(op.Amount, int64(h.Amount)+1))
			_, err = l.Capture(c, id, &amount, nil)
		} else {
			_, err = l.Release(c, id, nil)
		}
		r.log("%v -> %s: %v", op, id, err)
		r.allowCodes(op.String(), err, creditkit.CodeHoldNotActive)
	case POpTransfer:
		to := planCustomers[index(op.To, len(planCustomers))]
		if to == cust {
			r.log("%v -> skipped: same customer", op)
			return
		}
		_, err := l.Transfer(c, cust, to, creditkit.Amount(op.Amount), nil)
		r.log("%v -> %v", op, err)
		r.allowCodes(op.String(), err, creditkit.CodeInsufficientCredits)
		r.seen[cust], r.seen[to] = true, true
	case POpAdvance:
		r.b.Clock.Advance(op.Advance)
		r.m.now = r.m.now.Add(op.Advance)
		r.log("%v", op)
	case POpRunDue:
		res, err := l.RunDue(c)
		if err != nil {
			r.fail("RunDue: %v", err)
		}
		before := r.refillCount()
		r.m.runDue()
		r.log("%v -> %d refills, model %d", op, res.Refills, r.refillCount()-before)
		if res.Refills != r.refillCount()-before {
			r.fail("RunDue wrote %d refills, model %d", res.Refills, r.refillCount()-before)
		}
		for _, cu := range planCustomers {
			r.checkSchedule(cu)
		}
	case POpCheck:
		r.check(op)
	}
}

// refillCount is how many refills the model has recorded.
func (r *planRunner) refillCount() int {
	n := 0
	for _, rs := range r.m.refills {
		n += len(rs)
	}
	return n
}

// check runs a check and compares it with the balance and the model's
// subscription.
func (r *planRunner) check(op PlanOp) {
	r.t.Helper()
	l, c := r.b.Ledger, r.c
	cust := op.customer()
	ch, err := l.CheckAmount(c, cust, creditkit.Amount(op.Amount), "")
	r.log("%v -> %v", op, err)
	if err != nil {
		r.fail("%v: %v", op, err)
	}
	if !r.seen[cust] {
		if ch.Available != 0 || ch.Plan != nil {
			r.fail("%v: a customer never seen: %+v", op, ch)
		}
		return
	}
	bal := must(l.Balance(c, cust, nil))
	if ch.Available != bal.Available || ch.Held != bal.Held || ch.Debt != bal.Debt {
		r.fail("%v: check %+v, balance %+v", op, ch, bal)
	}
	allowed := ch.Overage == 0 || (ch.OverageLimit > 0 && ch.Debt+ch.Overage <= ch.OverageLimit)
	if ch.Allowed != allowed || ch.Overage != max(ch.Cost-max(ch.Available+ch.Debt, 0), 0) {
		r.fail("%v: check's numbers do not add up: %+v", op, ch)
	}
	s := r.m.subs[cust]
	if s == nil || s.status == creditkit.SubscriptionCanceled {
		if ch.Plan != nil {
			r.fail("%v: check shows plan %+v, model has no live subscription", op, ch.Plan)
		}
		return
	}
	p := ch.Plan
	allowance := planByName(s.plan).gives
	if s.status == creditkit.SubscriptionTrialing {
		allowance = planByName(s.plan).trial
	}
	if p == nil || p.Name != s.plan || p.Status != s.status || !p.PeriodStart.Equal(s.periodStart) || !p.PeriodEnd.Equal(s.periodEnd) ||
		p.Allowance != creditkit.Amount(allowance) {
		r.fail("%v: check's plan %+v, model %+v", op, p, s)
	}
	var used creditkit.Amount
	for _, u := range must(l.Usage(c, cust, &creditkit.UsageQuery{Since: s.periodStart})) {
		used += u.Amount
	}
	if p.Used != used {
		r.fail("%v: check's used %d, usage since the period start %d", op, p.Used, used)
	}
	refills := s.refills() && (s.cancelAt == nil || s.cancelAt.After(s.periodEnd))
	if (p.NextRefillAt != nil) != refills || refills && !p.NextRefillAt.Equal(s.periodEnd) {
		r.fail("%v: check's next refill %v, model %+v", op, p.NextRefillAt, s)
	}
}

// checkSchedule compares a customer's subscription and refills with the
// model.
func (r *planRunner) checkSchedule(cust string) {
	r.t.Helper()
	l, c := r.b.Ledger, r.c
	s := r.m.subs[cust]
	got, err := l.GetSubscription(c, cust, nil)
	if s == nil {
		if creditkit.ErrorCodeOf(err) != creditkit.CodeNotFound {
			r.fail("%s: subscription %+v (%v), model has none", cust, got, err)
		}
		return
	}
	if err != nil {
		r.fail("%s: subscription: %v", cust, err)
	}
	var diffs []string
	want := fmt.Sprintf("%s %s %s anchor=%s period=%s..%s scheduled=%q cancel_at=%s", s.id, s.plan, s.status,
		s.anchor.Sub(Epoch), s.periodStart.Sub(Epoch), s.periodEnd.Sub(Epoch), s.scheduled, fmtSince(s.cancelAt))
	have := fmt.Sprintf("%s %s %s anchor=%s period=%s..%s scheduled=%q cancel_at=%s", got.ID, got.Plan, got.Status,
		got.Anchor.Sub(Epoch), got.PeriodStart.Sub(Epoch), got.PeriodEnd.Sub(Epoch), got.ScheduledPlan, fmtSince(got.CancelAt))
	if want != have {
		diffs = append(diffs, fmt.Sprintf("subscription\n  ledger %s\n  model  %s", have, want))
	}
	// The refills, in the order they were written (grant IDs sort by
	// creation), as (subscription, plan, instant).
	var ledger, model []string
	for _, g := range allGrants(r.t, l, cust) {
		if g.Source == creditkit.SourceSubscription && g.Reason == creditkit.CategorySubscription {
			ledger = append(ledger, fmt.Sprintf("%s/%s@%s", g.Metadata["subscription_id"], g.Metadata["plan"], g.EffectiveAt.Sub(Epoch)))
		}
	}
	for _, f := range r.m.refills[cust] {
		model = append(model, fmt.Sprintf("%s/%s@%s", f.sub, f.plan, f.at.Sub(Epoch)))
	}
	slices.Sort(ledger)
	slices.Sort(model)
	if !slices.Equal(ledger, model) {
		diffs = append(diffs, fmt.Sprintf("refills\n  ledger %v\n  model  %v", ledger, model))
	} else if bad := r.m.allowanceGaps(cust); bad != "" {
		// The ledger wrote the model's refills: they must keep the rule.
		diffs = append(diffs, "more than one allowance in a period: "+bad)
	}
	if len(diffs) > 0 {
		r.fail("%s: %s", cust, strings.Join(diffs, "\n"))
	}
}

func fmtSince(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Sub(Epoch).String()
}

// allGrants lists every grant of a customer.
func allGrants(t *testing.T, l *creditkit.Ledger, customer string) []*creditkit.Grant {
	t.Helper()
	var out []*creditkit.Grant
	after := ""
	for {
		page := must(l.Grants(ctx(t), customer, &creditkit.GrantFilter{Limit: 1000, After: after}))
		out = append(out, page...)
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ID
	}
}

// checkMoney checks the debt bounds and that each wallet's ledger balance
// is the sum of its entries, in real time (without settling anything).
func (r *planRunner) checkMoney() {
	r.t.Helper()
	l, c := r.b.Ledger, r.c
	for _, cust := range planCustomers {
		if !r.seen[cust] {
			continue
		}
		var row *store.Wallet
		if err := l.Store().View(c, func(ctx context.Context, tx store.ReadTx) (err error) {
			row, err = tx.Wallet(ctx, store.WalletKey{Customer: cust, Currency: "credits"})
			return err
		}); err != nil {
			r.fail("read wallet %s: %v", cust, err)
		}
		if row == nil {
			continue
		}
		for {
			page := must(l.History(c, cust, &creditkit.HistoryFilter{After: r.cursor[cust], Limit: 1000}))
			for _, e := range page {
				r.sum[cust] += e.Amount
				r.cursor[cust] = e.ID
			}
			if len(page) < 1000 {
				break
			}
		}
		bound := r.m.debtBound[cust]
		bal := must(l.Balance(c, cust, nil))
		switch {
		case creditkit.Amount(row.LedgerBalance) != r.sum[cust]:
			r.fail("%s: wallet row says %d, entries sum to %d", cust, row.LedgerBalance, r.sum[cust])
		case row.Debt < 0 || row.Debt > bound || bal.Debt > creditkit.Amount(row.Debt):
			r.fail("%s: owes %d (balance %+v), bound %d", cust, row.Debt, bal, bound)
		case bal.Available < -creditkit.Amount(bound) || row.LedgerBalance < -bound:
			r.fail("%s: below -%d: ledger balance %d, %+v", cust, bound, row.LedgerBalance, bal)
		case planNoOverage(cust) && (bound != 0 || row.Debt != 0 || bal.Available < 0 || row.LedgerBalance < 0):
			r.fail("%s (never on overage) is negative or owes: ledger balance %d, %+v", cust, row.LedgerBalance, bal)
		}
		if row.Debt == 0 {
			// Owing nothing, the customer may owe again only what the
			// limit in force from now on allows.
			r.m.debtBound[cust] = r.m.limit[cust]
		}
	}
}

// invariants runs CheckInvariants (which settles everything due with a
// RunDue, so the model catches up too) and compares the schedules.
func (r *planRunner) invariants() {
	r.t.Helper()
	CheckInvariants(r.t, r.b.Ledger)
	if r.t.Failed() {
		r.fail("ledger invariants broken")
	}
	r.m.runDue()
	r.log("invariants checked")
	for _, cust := range planCustomers {
		r.checkSchedule(cust)
	}
	r.checkMoney()
}
