package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// SeedEnv names the environment variable that fixes the seed of the
// randomized property test, to replay a failure:
//
//	CREDITKIT_PROPERTY_SEED=12345 go test ./sqlite -run 'TestConformance/RandomOpsMatchModel'
const SeedEnv = "CREDITKIT_PROPERTY_SEED"

// propertySteps is how many operations one run of the property test makes.
const propertySteps = 300

// checkEvery is how often (in steps) RunOps also checks the ledger's
// invariants and reads every grant and hold one by one.
const checkEvery = 20

// maxDecodedOps bounds the operations DecodeOps makes of one input.
const maxDecodedOps = 150

// modelCustomers are the customers an operation sequence plays with.
var modelCustomers = []string{"pa", "pb", "pc"}

// OpKind is the kind of an operation in a sequence run by RunOps.
type OpKind uint8

// Operation kinds.
const (
	OpGrant      OpKind = iota // Grant Amount to Customer
	OpDebit                    // Debit Amount from Customer
	OpHold                     // Hold Amount of Customer for TTL
	OpCapture                  // Capture a hold (see Capture)
	OpRelease                  // Release a hold
	OpTransfer                 // Transfer Amount from Customer to To
	OpVoid                     // Void a grant
	OpAdvance                  // move the clock forward by Advance
	OpToDeadline               // move the clock to the next deadline, plus Advance (may be negative)
	OpRunDue                   // RunDue
	OpOverage                  // set Customer's overage limit to Amount
	OpSettle                   // settle Customer's overage debt
	numOpKinds
)

var opNames = [...]string{"grant", "debit", "hold", "capture", "release", "transfer", "void", "advance", "to-deadline", "rundue", "overage", "settle"}

// String returns the kind's name.
func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return "op(" + strconv.Itoa(int(k)) + ")"
}

// CaptureMode says how much an OpCapture captures.
type CaptureMode uint8

// Capture modes.
const (
	CaptureAll  CaptureMode = iota // no amount: all the hold holds
	CapturePart                    // Amount modulo (held+1): 0 to held
	CaptureOver                    // held+1+Amount%5: more than held, refused
)

// Op is one operation of a sequence run by RunOps. Which hold or grant it
// targets is chosen when it runs, from those created so far, so that any Op
// value is meaningful in any sequence.
type Op struct {
	Kind OpKind
	// Customer is the customer (the sender of a transfer), an index into
	// the sequence's customers (taken modulo their number).
	Customer int
	// To is the receiver of a transfer, like Customer.
	To int
	// Amount is the credits of a grant, debit, hold or transfer, and the
	// raw capture amount (see CaptureMode).
	Amount int64
	// Reason is a grant's reason, an index into the model's reasons.
	Reason int
	// EffectiveIn schedules a grant that long after now (0 is now).
	EffectiveIn time.Duration
	// ExpiresIn is a grant's life after it becomes effective (0 never).
	ExpiresIn time.Duration
	// TTL is a hold's TTL (0 is the default).
	TTL time.Duration
	// Advance is the clock jump of OpAdvance, or the offset from the
	// deadline of OpToDeadline.
	Advance time.Duration
	// Target picks a hold (capture, release) or grant (void), modulo how
	// many there are to pick from.
	Target int
	// Active picks the hold among those still active, or the grant among
	// those whose credits still count (spendable, scheduled or held).
	Active bool
	// Again makes a void pick the last grant voided, if any.
	Again bool
	// Capture says how much to capture.
	Capture CaptureMode
	// Evergreen makes transferred credits never expire.
	Evergreen bool
}

// String describes the operation before its targets are resolved.
func (o Op) String() string {
	var b strings.Builder
	b.WriteString(o.Kind.String())
	switch o.Kind {
	case OpGrant:
		fmt.Fprintf(&b, " %s %d %s", customerAt(o.Customer), o.Amount, modelReasons[index(o.Reason, len(modelReasons))].Reason)
		if o.EffectiveIn > 0 {
			fmt.Fprintf(&b, " effective_in=%s", o.EffectiveIn)
		}
		if o.ExpiresIn != 0 {
			fmt.Fprintf(&b, " expires_in=%s", o.ExpiresIn)
		}
	case OpDebit:
		fmt.Fprintf(&b, " %s %d", customerAt(o.Customer), o.Amount)
	case OpHold:
		fmt.Fprintf(&b, " %s %d ttl=%s", customerAt(o.Customer), o.Amount, o.TTL)
	case OpCapture, OpRelease:
		fmt.Fprintf(&b, " target=%d active=%v", o.Target, o.Active)
		if o.Kind == OpCapture {
			fmt.Fprintf(&b, " mode=%d amount=%d", o.Capture, o.Amount)
		}
	case OpTransfer:
		fmt.Fprintf(&b, " %s->%s %d evergreen=%v", customerAt(o.Customer), customerAt(o.To), o.Amount, o.Evergreen)
	case OpVoid:
		fmt.Fprintf(&b, " target=%d active=%v again=%v", o.Target, o.Active, o.Again)
	case OpAdvance, OpToDeadline:
		fmt.Fprintf(&b, " %s", o.Advance)
	case OpOverage:
		fmt.Fprintf(&b, " %s %d", customerAt(o.Customer), o.Amount)
	case OpSettle:
		fmt.Fprintf(&b, " %s", customerAt(o.Customer))
	}
	return b.String()
}

// index maps any int to [0, n).
func index(i, n int) int {
	i %= n
	if i < 0 {
		i += n
	}
	return i
}

func customerAt(i int) string { return modelCustomers[index(i, len(modelCustomers))] }

// RandomOps returns n random operations drawn from r.
func RandomOps(r *rand.Rand, n int) []Op {
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = randomOp(r)
	}
	return ops
}

// randomOp draws one operation: mostly grants, spends and holds, with
// captures, releases, transfers, voids, clock jumps and sweeps mixed in.
func randomOp(r *rand.Rand) Op {
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Minute }
	op := Op{Customer: r.IntN(len(modelCustomers)), Target: r.IntN(1 << 20)}
	switch w := r.IntN(100); {
	case w < 20:
		op.Kind = OpGrant
		op.Amount = 1 + r.Int64N(100)
		op.Reason = r.IntN(len(modelReasons))
		if r.IntN(2) == 0 {
			op.ExpiresIn = minutes(60, 48*60)
		}
		if r.IntN(4) == 0 {
			op.EffectiveIn = minutes(0, 24*60)
		}
	case w < 35:
		op.Kind = OpDebit
		op.Amount = 1 + r.Int64N(60)
	case w < 47:
		op.Kind = OpHold
		op.Amount = 1 + r.Int64N(60)
		op.TTL = minutes(1, 120)
	case w < 57:
		op.Kind = OpCapture
		op.Active = r.IntN(4) != 0
		op.Amount = r.Int64N(1 << 20)
		switch c := r.IntN(10); {
		case c < 3:
			op.Capture = CaptureAll
		case c < 9:
			op.Capture = CapturePart
		default:
			op.Capture = CaptureOver
		}
	case w < 63:
		op.Kind = OpRelease
		op.Active = r.IntN(4) != 0
	case w < 73:
		op.Kind = OpTransfer
		op.To = r.IntN(len(modelCustomers))
		if op.To == op.Customer && r.IntN(3) != 0 {
			op.To = (op.To + 1) % len(modelCustomers)
		}
		op.Amount = 1 + r.Int64N(60)
		op.Evergreen = r.IntN(4) == 0
	case w < 80:
		op.Kind = OpVoid
		op.Active = r.IntN(3) != 0
		op.Again = r.IntN(5) == 0
	case w < 91:
		op.Kind = OpAdvance
		if r.IntN(3) != 0 {
			op.Advance = minutes(1, 60)
		} else {
			op.Advance = minutes(1, 30*60)
		}
	case w < 95:
		op.Kind = OpToDeadline
		op.Advance = time.Duration(r.IntN(3)-1) * time.Second
	case w < 97:
		op.Kind = OpOverage
		op.Amount = r.Int64N(4) * 50
	case w < 98:
		op.Kind = OpSettle
	default:
		op.Kind = OpRunDue
	}
	return op
}

// DecodeOps turns arbitrary bytes (a fuzzer's input) into an operation
// sequence. Every input decodes to some sequence; short inputs read as if
// padded with zeros. Each operation starts with a byte whose low nibble
// (modulo the number of kinds) is its OpKind and whose high nibble (modulo
// 3) is its customer; the bytes that follow depend on the kind:
//
//	grant:       amount%101, flags (reason = flags&7; flags&0x08: then a
//	             byte b, expires_in (1+b%192)*15m; flags&0x10: then a byte
//	             b, effective_in (b%97)*15m)
//	debit:       amount%61
//	hold:        amount%61, ttl in minutes %121 (0 is the default)
//	capture:     target<<1|inactive, mode%3, amount
//	release:     target<<1|inactive
//	transfer:    evergreen<<4|receiver, amount%61
//	void:        target<<2|inactive<<1|again
//	advance:     minutes-1 as two bytes, little-endian
//	to-deadline: offset%3-1 seconds
//	rundue:      nothing
//	overage:     limit%4 × 50
//	settle:      nothing
func DecodeOps(data []byte) []Op {
	d := &byteReader{data: data}
	var ops []Op
	for len(d.data) > 0 && len(ops) < maxDecodedOps {
		k := d.byte()
		op := Op{Kind: OpKind(k&0x0f) % numOpKinds, Customer: int(k>>4) % len(modelCustomers)}
		switch op.Kind {
		case OpGrant:
			op.Amount = int64(d.byte()) % 101 // 0 is refused
			f := d.byte()
			op.Reason = int(f % 8)
			if f&0x08 != 0 {
				op.ExpiresIn = time.Duration(1+int(d.byte())%(48*4)) * 15 * time.Minute
			}
			if f&0x10 != 0 {
				op.EffectiveIn = time.Duration(d.byte()%97) * 15 * time.Minute
			}
		case OpDebit:
			op.Amount = int64(d.byte()) % 61
		case OpHold:
			op.Amount = int64(d.byte()) % 61
			op.TTL = time.Duration(d.byte()%121) * time.Minute // 0 is the default
		case OpCapture, OpRelease:
			f := d.byte()
			op.Target = int(f >> 1)
			op.Active = f&1 == 0
			if op.Kind == OpCapture {
				op.Capture = CaptureMode(d.byte() % 3)
				op.Amount = int64(d.byte())
			}
		case OpTransfer:
			f := d.byte()
			op.To = int(f&0x0f) % len(modelCustomers)
			op.Evergreen = f&0x10 != 0
			op.Amount = int64(d.byte()) % 61
		case OpVoid:
			f := d.byte()
			op.Target = int(f >> 2)
			op.Again = f&1 == 1
			op.Active = f&2 == 0
		case OpAdvance:
			// Two bytes of minutes, up to about 45 days.
			op.Advance = time.Duration(1+int(d.byte())|int(d.byte())<<8) * time.Minute
		case OpToDeadline:
			op.Advance = time.Duration(int(d.byte()%3)-1) * time.Second
		case OpOverage:
			op.Amount = int64(d.byte()%4) * 50
		}
		ops = append(ops, op)
	}
	return ops
}

// byteReader reads a fuzzer's input, giving zeros past its end.
type byteReader struct{ data []byte }

func (r *byteReader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

// testRandomOpsMatchModel runs random operation sequences against the
// ledger and the reference model and compares them after every step. Set
// CREDITKIT_PROPERTY_SEED to replay a failed run's seed.
func testRandomOpsMatchModel(t *testing.T, b *Bundle) {
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
			t.Logf("random operations seed %d: replay with %s=%d go test -run 'TestConformance/RandomOpsMatchModel'", seed, SeedEnv, seed)
		}
	})
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	RunOps(t, b, RandomOps(r, propertySteps))
}

// RunOps runs ops on the bundle's ledger and on the reference model, and
// fails the test at the first difference: an operation that fails on one
// and not the other, or with another error code; a result that differs
// (allocations, amounts, new grants); or, after each step, any customer's
// available, held or scheduled credits, any grant's remaining credits and
// state (an expired grant's once settled), or any open hold's state. Every few steps and at the end it also
// checks the ledger's invariants. On failure it logs the steps it ran.
// The bundle must be fresh, as Setup makes it: the model starts empty.
func RunOps(t *testing.T, b *Bundle, ops []Op) {
	t.Helper()
	defer guard(t)
	r := &runner{t: t, b: b, c: ctx(t), m: newModel(b.Ledger.Now()), lastVoided: -1, seen: map[string]bool{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("steps run (ledger and model, newest last):\n%s", strings.Join(r.trace, "\n"))
		}
	})
	for i, op := range ops {
		r.step = i
		r.do(op)
		r.compare(false)
		if (i+1)%checkEvery == 0 {
			r.invariants()
		}
	}
	r.invariants()
}

// runner runs one sequence against the ledger and the model.
type runner struct {
	t          *testing.T
	b          *Bundle
	c          context.Context
	m          *model
	grantIDs   []string // the ledger's ID of each model grant
	holdIDs    []string // the ledger's ID of each model hold
	lastVoided int
	step       int
	trace      []string
	// seen holds the customers a write has named: the ledger knows them,
	// and reads of the others answer customer_not_found.
	seen map[string]bool
}

// see records that a write named customers, when it reached the write path
// (it succeeded, or failed for want of credits once their wallets were
// locked).
func (r *runner) see(code creditkit.ErrorCode, customers ...string) {
	if code != "" && code != creditkit.CodeInsufficientCredits {
		return
	}
	for _, c := range customers {
		r.seen[c] = true
	}
}

// fail stops the test with a message about the current step.
func (r *runner) fail(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("step %d: %s", r.step, fmt.Sprintf(format, args...))
}

// log records what a step did, for the trace printed on failure.
func (r *runner) log(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf("%3d %s ", r.step, r.m.now.Sub(Epoch))+fmt.Sprintf(format, args...))
}

// wantCode fails unless the ledger's error has the code the model expects
// ("" for success).
func (r *runner) wantCode(what string, err error, want creditkit.ErrorCode) {
	r.t.Helper()
	if got := creditkit.ErrorCodeOf(err); got != want {
		if want == "" {
			want = "success"
		}
		r.fail("%s: ledger returned %v (code %q), model expects %s", what, err, got, want)
	}
}

// wantInsufficient checks what an insufficient_credits error reports.
func (r *runner) wantInsufficient(what string, err error, needed, have int64) {
	r.t.Helper()
	var ic *creditkit.InsufficientCreditsError
	if !errors.As(err, &ic) {
		return
	}
	if int64(ic.Needed) != needed || int64(ic.Available) != have {
		r.fail("%s: insufficient credits error says needed %d available %d, model says %d and %d", what, ic.Needed, ic.Available, needed, have)
	}
}

// wantAllocs fails unless the ledger's allocations are the model's.
func (r *runner) wantAllocs(what string, got []creditkit.Allocation, want []modelAlloc) {
	r.t.Helper()
	w := make([]string, len(want))
	for i, a := range want {
		w[i] = fmt.Sprintf("%s:%d", r.grantName(a.grant), a.amount)
	}
	g := make([]string, len(got))
	for i, a := range got {
		g[i] = fmt.Sprintf("%s:%d", r.grantNameByID(a.GrantID), a.Amount)
	}
	if !slices.Equal(g, w) {
		r.fail("%s: ledger drew %v, model draws %v", what, g, w)
	}
}

// grantName names model grant i for messages: its index and the ledger's ID.
func (r *runner) grantName(i int) string {
	if i < len(r.grantIDs) {
		return fmt.Sprintf("g%d(%s)", i, r.grantIDs[i])
	}
	return fmt.Sprintf("g%d", i)
}

func (r *runner) grantNameByID(id string) string {
	if i := slices.Index(r.grantIDs, id); i >= 0 {
		return r.grantName(i)
	}
	return "?(" + id + ")"
}

func (r *runner) holdName(i int) string { return fmt.Sprintf("h%d(%s)", i, r.holdIDs[i]) }

// do runs one operation on the ledger and the model and compares what they
// returned.
func (r *runner) do(op Op) {
	r.t.Helper()
	l, c := r.b.Ledger, r.c
	switch op.Kind {
	case OpGrant:
		cust := customerAt(op.Customer)
		reason := modelReasons[index(op.Reason, len(modelReasons))]
		opts := &creditkit.GrantOpts{Reason: reason.Reason, ExpiresIn: op.ExpiresIn}
		if op.EffectiveIn > 0 {
			opts.EffectiveAt = r.m.now.Add(op.EffectiveIn)
		}
		g, err := l.Grant(c, cust, creditkit.Amount(op.Amount), opts)
		i, code := r.m.grant(cust, op.Amount, reason.Priority, op.EffectiveIn, op.ExpiresIn)
		r.see(code, cust)
		r.log("%v -> %s", op, outcome(code, err, fmt.Sprintf("g%d", i)))
		r.wantCode(op.String(), err, code)
		if code != "" {
			return
		}
		if i != len(r.grantIDs) {
			r.fail("model made grant %d, ledger has %d", i, len(r.grantIDs))
		}
		r.grantIDs = append(r.grantIDs, g.ID)
		r.compareGrant("new grant", g, i, true)
	case OpDebit:
		cust := customerAt(op.Customer)
		e, err := l.Debit(c, cust, creditkit.Amount(op.Amount), nil)
		allocs, have, code := r.m.debit(cust, op.Amount)
		r.see(code, cust)
		r.log("%v -> %s", op, outcome(code, err, "ok"))
		r.wantCode(op.String(), err, code)
		r.wantInsufficient(op.String(), err, op.Amount, have)
		if code != "" {
			return
		}
		if int64(e.Amount) != -op.Amount {
			r.fail("%v: entry amount %d, want %d", op, e.Amount, -op.Amount)
		}
		r.wantAllocs(op.String(), e.Allocations, allocs)
		r.wantEntry(op.String(), e, creditkit.EntryCharge, cust)
	case OpHold:
		cust := customerAt(op.Customer)
		amount := creditkit.Amount(op.Amount)
		h, err := l.Hold(c, cust, "", nil, &creditkit.HoldOpts{Amount: &amount, TTL: op.TTL})
		i, have, code := r.m.hold(cust, op.Amount, op.TTL)
		r.see(code, cust)
		r.log("%v -> %s", op, outcome(code, err, fmt.Sprintf("h%d", i)))
		r.wantCode(op.String(), err, code)
		r.wantInsufficient(op.String(), err, op.Amount, have)
		if code != "" {
			return
		}
		r.holdIDs = append(r.holdIDs, h.ID)
		mh := &r.m.holds[i]
		if int64(h.Amount) != mh.amount || h.Status != creditkit.HoldActive || !h.ExpiresAt.Equal(mh.expiresAt) {
			r.fail("%v: hold %+v, model has amount %d expiring %s", op, h, mh.amount, mh.expiresAt)
		}
		r.wantAllocs(op.String(), h.Allocations, mh.allocs)
	case OpCapture, OpRelease:
		i, ok := r.pickHold(op)
		if !ok {
			r.log("%v -> skipped: no hold to pick", op)
			return
		}
		if op.Kind == OpRelease {
			h, err := l.Release(c, r.holdIDs[i], nil)
			code := r.m.release(i)
			r.log("%v -> release %s: %s", op, r.holdName(i), outcome(code, err, "ok"))
			r.wantCode("release "+r.holdName(i), err, code)
			if code == "" && (h.Status != creditkit.HoldReleased || h.Captured != 0) {
				r.fail("release %s returned %+v", r.holdName(i), h)
			}
			return
		}
		held := r.m.holds[i].amount
		var amount *int64
		switch op.Capture {
		case CapturePart:
			amount = ptr(index64(op.Amount, held+1))
		case CaptureOver:
			amount = ptr(held + 1 + index64(op.Amount, 5))
		}
		var la *creditkit.Amount
		what := fmt.Sprintf("capture %s all", r.holdName(i))
		if amount != nil {
			la = ptr(creditkit.Amount(*amount))
			what = fmt.Sprintf("capture %d of %s (holding %d)", *amount, r.holdName(i), held)
		}
		e, err := l.Capture(c, r.holdIDs[i], la, nil)
		allocs, code := r.m.capture(i, amount)
		r.log("%v -> %s: %s", op, what, outcome(code, err, "ok"))
		r.wantCode(what, err, code)
		if code != "" {
			return
		}
		if want := r.m.holds[i].captured; int64(e.Amount) != -want {
			r.fail("%s: entry amount %d, want %d", what, e.Amount, -want)
		}
		r.wantAllocs(what, e.Allocations, allocs)
		r.wantEntry(what, e, creditkit.EntryCharge, r.m.holds[i].customer)
	case OpTransfer:
		from, to := customerAt(op.Customer), customerAt(op.To)
		res, err := l.Transfer(c, from, to, creditkit.Amount(op.Amount), &creditkit.TransferOpts{Evergreen: op.Evergreen})
		allocs, created, have, code := r.m.transfer(from, to, op.Amount, op.Evergreen)
		r.see(code, from, to)
		r.log("%v -> %s", op, outcome(code, err, fmt.Sprintf("new grants %v", created)))
		r.wantCode(op.String(), err, code)
		r.wantInsufficient(op.String(), err, op.Amount, have)
		if code != "" {
			return
		}
		r.wantAllocs(op.String(), res.Out.Allocations, allocs)
		r.wantEntry(op.String()+" out", res.Out, creditkit.EntryTransfer, from)
		r.wantEntry(op.String()+" in", res.In, creditkit.EntryTransfer, to)
		if len(res.Grants) != len(created) {
			r.fail("%v: ledger made %d grants, model %d", op, len(res.Grants), len(created))
		}
		for k, g := range res.Grants {
			if created[k] != len(r.grantIDs) {
				r.fail("model made grant %d, ledger has %d", created[k], len(r.grantIDs))
			}
			r.grantIDs = append(r.grantIDs, g.ID)
			r.compareGrant("transferred grant", g, created[k], true)
		}
	case OpVoid:
		i, ok := r.pickGrant(op)
		if !ok {
			r.log("%v -> skipped: no grant", op)
			return
		}
		e, err := l.Void(c, r.grantIDs[i], nil)
		amount, code := r.m.void(i)
		what := "void " + r.grantName(i)
		r.log("%v -> %s: %s", op, what, outcome(code, err, fmt.Sprintf("voided %d", amount)))
		r.wantCode(what, err, code)
		if code != "" {
			return
		}
		r.lastVoided = i
		if int64(e.Amount) != -amount {
			r.fail("%s: entry amount %d, model voids %d", what, e.Amount, amount)
		}
		r.wantEntry(what, e, creditkit.EntryVoid, r.m.grants[i].customer)
	case OpAdvance, OpToDeadline:
		d := op.Advance
		if op.Kind == OpToDeadline {
			d = time.Minute
			if next, ok := r.m.nextDeadline(); ok {
				d = next.Add(op.Advance).Sub(r.m.now)
			}
		}
		if d <= 0 {
			d = time.Second
		}
		r.b.Clock.Advance(d)
		r.m.advance(d)
		r.log("%v -> clock +%s", op, d)
	case OpRunDue:
		res, err := l.RunDue(c)
		if err != nil {
			r.fail("RunDue: %v", err)
		}
		grants, holds := r.m.runDue()
		r.log("%v -> ledger %d grants, %d holds; model %d grants, %d holds", op, res.ExpiredGrants, res.ExpiredHolds, grants, holds)
		// How many grants a sweep writes off depends on how much earlier
		// writes wrote off on their own, which is the library's business;
		// lapsed holds are released by the first write that locks their
		// wallet, so the sweep must release exactly the others.
		if res.ExpiredHolds != holds {
			r.fail("RunDue expired %d holds, model %d", res.ExpiredHolds, holds)
		}
	case OpOverage:
		cust := customerAt(op.Customer)
		o, err := l.SetOverageLimit(c, cust, creditkit.Amount(op.Amount), nil)
		r.m.setLimit(cust, op.Amount)
		r.see("", cust)
		r.log("%v -> %s", op, outcome("", err, "ok"))
		r.wantCode(op.String(), err, "")
		if err == nil && (int64(o.Limit) != op.Amount || int64(o.Debt) != r.m.debt[cust]) {
			r.fail("%v: %+v, model debt %d", op, o, r.m.debt[cust])
		}
	case OpSettle:
		cust := customerAt(op.Customer)
		st, err := l.SettleDebt(c, cust, nil)
		credits := r.m.settleDebt(cust)
		r.see("", cust)
		r.log("%v -> %s", op, outcome("", err, fmt.Sprintf("settled %d", credits)))
		r.wantCode(op.String(), err, "")
		if err != nil {
			return
		}
		if int64(st.Credits) != credits {
			r.fail("%v: settled %d, model %d", op, st.Credits, credits)
		}
		if credits > 0 {
			r.wantEntry(op.String(), st.Entry, creditkit.EntryOverageSettlement, cust)
		}
	default:
		r.log("%v -> skipped: unknown kind", op)
	}
}

// wantEntry checks an entry's type, and that its available balance after
// is what the model can spend now, right after the write.
func (r *runner) wantEntry(what string, e *creditkit.Entry, typ creditkit.EntryType, customer string) {
	r.t.Helper()
	if e.Type != typ {
		r.fail("%s: entry type %q, want %q", what, e.Type, typ)
	}
	want := r.m.spendableNet(customer)
	if e.AvailableAfter == nil || int64(*e.AvailableAfter) != want {
		r.fail("%s: entry available_after %v, model has %d spendable", what, fmtAmountPtr(e.AvailableAfter), want)
	}
}

// fmtAmountPtr prints an optional amount for a failure message.
func fmtAmountPtr(a *creditkit.Amount) string {
	if a == nil {
		return "nil"
	}
	return fmt.Sprint(int64(*a))
}

// outcome describes a step's outcome for the trace: the model's (ok when
// it expects success), and the ledger's too when it differs.
func outcome(code creditkit.ErrorCode, err error, ok string) string {
	want := ok
	if code != "" {
		want = "error " + string(code)
	}
	if got := creditkit.ErrorCodeOf(err); got != code {
		if got == "" {
			return want + " (ledger: ok)"
		}
		return fmt.Sprintf("%s (ledger: %v)", want, err)
	}
	return want
}

func index64(v, n int64) int64 {
	v %= n
	if v < 0 {
		v += n
	}
	return v
}

// pickHold chooses the hold an operation targets: among the holds the
// model sees active now when op.Active (and there are any), else among all.
func (r *runner) pickHold(op Op) (int, bool) {
	var from []int
	if op.Active {
		for i := range r.m.holds {
			if r.m.holds[i].statusAt(r.m.now) == creditkit.HoldActive {
				from = append(from, i)
			}
		}
	}
	if len(from) == 0 {
		for i := range r.m.holds {
			from = append(from, i)
		}
	}
	if len(from) == 0 {
		return 0, false
	}
	return from[index(op.Target, len(from))], true
}

// pickGrant chooses the grant a void targets: the last grant voided when
// op.Again (and there is one); else among the grants whose credits still
// count now (spendable, scheduled or held by an active hold) when op.Active
// (and there are any); else among all.
func (r *runner) pickGrant(op Op) (int, bool) {
	if op.Again && r.lastVoided >= 0 {
		return r.lastVoided, true
	}
	var from []int
	if op.Active {
		held := map[int]bool{}
		for i := range r.m.holds {
			if h := &r.m.holds[i]; h.statusAt(r.m.now) == creditkit.HoldActive {
				for _, a := range h.allocs {
					held[a.grant] = true
				}
			}
		}
		for i := range r.m.grants {
			g := &r.m.grants[i]
			if !g.voided && !g.writtenOff && !g.expiredAt(r.m.now) && (g.remaining > 0 || held[i]) {
				from = append(from, i)
			}
		}
	}
	if len(from) == 0 {
		for i := range r.m.grants {
			from = append(from, i)
		}
	}
	if len(from) == 0 {
		return 0, false
	}
	return from[index(op.Target, len(from))], true
}

// compareGrant fails unless the ledger's grant g is model grant i. Unless
// settled (everything due was just settled on both sides), the remaining
// credits of a grant past its expiry are only checked to be within [0,
// amount]: they no longer count, and when exactly they are written off
// (with the grant, or as a hold gives them back) is the library's business.
func (r *runner) compareGrant(what string, g *creditkit.Grant, i int, settled bool) {
	r.t.Helper()
	mg := &r.m.grants[i]
	exact := settled || mg.voided || !mg.expiredAt(r.m.now)
	var diffs []string
	if g.Customer != mg.customer {
		diffs = append(diffs, fmt.Sprintf("customer %s, model %s", g.Customer, mg.customer))
	}
	if int64(g.Amount) != mg.amount {
		diffs = append(diffs, fmt.Sprintf("amount %d, model %d", g.Amount, mg.amount))
	}
	switch {
	case exact && int64(g.Remaining) != mg.remaining:
		diffs = append(diffs, fmt.Sprintf("remaining %d, model %d", g.Remaining, mg.remaining))
	case g.Remaining < 0 || g.Remaining > g.Amount:
		diffs = append(diffs, fmt.Sprintf("remaining %d outside [0, %d]", g.Remaining, g.Amount))
	}
	if g.Priority != mg.priority {
		diffs = append(diffs, fmt.Sprintf("priority %d, model %d", g.Priority, mg.priority))
	}
	if !g.EffectiveAt.Equal(mg.effectiveAt) {
		diffs = append(diffs, fmt.Sprintf("effective_at %s, model %s", g.EffectiveAt, mg.effectiveAt))
	}
	if (g.ExpiresAt == nil) != (mg.expiresAt == nil) || g.ExpiresAt != nil && !g.ExpiresAt.Equal(*mg.expiresAt) {
		diffs = append(diffs, fmt.Sprintf("expires_at %v, model %v", fmtPtr(g.ExpiresAt), fmtPtr(mg.expiresAt)))
	}
	if (g.VoidedAt != nil) != mg.voided {
		diffs = append(diffs, fmt.Sprintf("voided %v, model %v", g.VoidedAt != nil, mg.voided))
	}
	if exact && (g.ExpiredAt != nil) != mg.writtenOff {
		diffs = append(diffs, fmt.Sprintf("written off by expiry %v, model %v", g.ExpiredAt != nil, mg.writtenOff))
	}
	if len(diffs) > 0 {
		r.fail("%s %s: %s", what, r.grantName(i), strings.Join(diffs, "; "))
	}
}

func fmtPtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// compare fails unless the ledger and the model agree on every customer's
// balance, every grant and every hold still open on record. With settled
// (everything due was just settled on both sides) it compares expired
// grants exactly too, and also reads each grant with GetGrant and checks
// every hold.
func (r *runner) compare(settled bool) {
	r.t.Helper()
	l, c := r.b.Ledger, r.c
	if now := l.Now(); !now.Equal(r.m.now) {
		r.fail("ledger clock %s, model clock %s", now, r.m.now)
	}
	for _, cust := range modelCustomers {
		if !r.seen[cust] {
			_, err := l.Balance(c, cust, nil)
			r.wantCode(cust+" balance (never seen)", err, creditkit.CodeCustomerNotFound)
			_, err = l.Grants(c, cust, nil)
			r.wantCode(cust+" grants (never seen)", err, creditkit.CodeCustomerNotFound)
			continue
		}
		bal := must(l.Balance(c, cust, nil))
		want := r.m.balance(cust)
		got := modelBalance{Available: int64(bal.Available), Held: int64(bal.Held), Scheduled: int64(bal.Scheduled), Debt: int64(bal.Debt)}
		if got != want {
			r.fail("%s balance: ledger %+v, model %+v", cust, got, want)
		}
		listed := map[string]*creditkit.Grant{}
		after := ""
		for {
			page := must(l.Grants(c, cust, &creditkit.GrantFilter{Limit: 1000, After: after}))
			for _, g := range page {
				listed[g.ID] = g
			}
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
		n := 0
		for i := range r.m.grants {
			if r.m.grants[i].customer != cust {
				continue
			}
			n++
			g, ok := listed[r.grantIDs[i]]
			if !ok {
				r.fail("grant %s of %s is not in its listing", r.grantName(i), cust)
			}
			r.compareGrant("grant", g, i, settled)
		}
		if len(listed) != n {
			r.fail("%s has %d grants, model %d", cust, len(listed), n)
		}
	}
	if settled {
		for i, id := range r.grantIDs {
			r.compareGrant("got grant", must(l.GetGrant(c, id)), i, true)
		}
	}
	for i := range r.m.holds {
		mh := &r.m.holds[i]
		if !settled && mh.status != creditkit.HoldActive {
			continue
		}
		h := must(l.GetHold(c, r.holdIDs[i]))
		if want := mh.statusAt(r.m.now); h.Status != want || int64(h.Captured) != mh.captured || int64(h.Amount) != mh.amount {
			r.fail("hold %s: ledger %s amount %d captured %d, model %s amount %d captured %d",
				r.holdName(i), h.Status, h.Amount, h.Captured, want, mh.amount, mh.captured)
		}
	}
}

// invariants checks the ledger's invariants (which settles everything due,
// so the model settles too) and then compares everything.
func (r *runner) invariants() {
	r.t.Helper()
	checkInvariants(r.t, r.b.Ledger, func(c string) bool { return r.m.everLimited[c] })
	if r.t.Failed() {
		r.fail("ledger invariants broken")
	}
	grants, holds := r.m.runDue()
	r.log("invariants checked (settled %d grants, %d holds)", grants, holds)
	r.compare(true)
}
