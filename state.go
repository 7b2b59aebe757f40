package creditkit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/creditkit/creditkit/store"
)

// writeState is what one write transaction sees and does: the locked
// wallets with their live grants and active holds, loaded once, and the
// changes and events it accumulates. Requests apply to it in memory; finish
// turns it into one store.Changes. Stamping every row with the one now of
// the write happens here.
type writeState struct {
	l       *Ledger
	tx      store.WriteTx
	now     time.Time
	wallets map[WalletKey]*walletState
	order   []WalletKey
	changes *store.Changes
	events  []Event
	// muts counts changes to the state, so the batcher can tell whether a
	// failed request left anything behind.
	muts int
	// reversed caches, per charge entry ID, what each of its grants got
	// back through reversals (see reversedOf).
	reversed map[string]map[string]Amount
	// newCustomers are the customers CreateCustomer made in this write.
	newCustomers map[string]*store.Customer
	// err is a failure of a step that cannot return one (addGrant's debt
	// repayment), which finish returns.
	err error
}

// walletState is one locked wallet in a write.
type walletState struct {
	key    WalletKey
	row    *store.Wallet
	before Amount // available at load, ignoring expiry (see loadWriteState)
	grants []*Grant
	holds  []*Hold
	// grantByID indexes grants, including non-live ones loaded on demand.
	grantByID map[string]*Grant
	newGrants map[string]bool
	dirty     map[string]bool // grants changed by this write
	newHolds  map[string]bool
	dirtyHold map[string]bool
	touched   bool // credits moved
	rowDirty  bool
	created   bool // this write created the wallet row (its customer may be new too)
	// settled counts what loading settled here, for the first RunDue
	// request of the batch on this wallet to claim (claimSettled).
	settled DueResult
}

// loadWriteState locks the wallets (in key order) and loads their live
// grants and active holds, then settles what fell due: expired holds give
// their credits back and expired grants are written off. So every write sees
// the wallet exactly as it is at now.
func (l *Ledger) loadWriteState(ctx context.Context, tx store.WriteTx, keys []WalletKey, cache *walletCache) (*writeState, error) {
	now := l.Now()
	keys = sortWalletKeys(keys)
	w := &writeState{l: l, tx: tx, now: now, wallets: make(map[WalletKey]*walletState, len(keys)), order: keys, changes: &store.Changes{},
		newCustomers: map[string]*store.Customer{}}
	if len(keys) == 0 {
		return w, nil
	}
	var (
		missing    []WalletKey
		grantRows  []*store.Grant
		holdRows   []*store.Hold
		grants     []*Grant
		holds      []*Hold
		rowsByKey  = make(map[WalletKey]*store.Wallet, len(keys))
		fromCache  = 0
		loadedRows []*store.Wallet
		created    = map[WalletKey]bool{}
	)
	for _, k := range keys {
		if cache != nil {
			if row, gs, hs, ok := cache.load(k); ok {
				rowsByKey[k] = row
				grants = append(grants, gs...)
				holds = append(holds, hs...)
				fromCache++
				continue
			}
		}
		missing = append(missing, k)
	}
	if len(missing) > 0 {
		var err error
		if loadedRows, err = tx.LockWallets(ctx, missing, now); err != nil {
			return nil, err
		}
		for i, k := range missing {
			rowsByKey[k] = loadedRows[i]
			if loadedRows[i].Created {
				created[k] = true
			}
		}
		if grantRows, err = tx.LiveGrants(ctx, missing); err != nil {
			return nil, err
		}
		if holdRows, err = tx.ActiveHolds(ctx, missing); err != nil {
			return nil, err
		}
	}
	for _, r := range grantRows {
		g, err := grantFromRow(r)
		if err != nil {
			return nil, err
		}
		grants = append(grants, g)
	}
	for _, r := range holdRows {
		h, err := holdFromRow(r)
		if err != nil {
			return nil, err
		}
		holds = append(holds, h)
	}
	for _, k := range keys {
		w.wallets[k] = &walletState{key: k, row: rowsByKey[k], grantByID: map[string]*Grant{}, newGrants: map[string]bool{},
			dirty: map[string]bool{}, newHolds: map[string]bool{}, dirtyHold: map[string]bool{}, created: created[k]}
	}
	for _, g := range grants {
		ws := w.wallets[walletKey(g.Customer, g.Currency)]
		ws.grants = append(ws.grants, g)
		ws.grantByID[g.ID] = g
		if !now.Before(g.EffectiveAt) {
			ws.before += g.Remaining
		}
	}
	for _, h := range holds {
		ws := w.wallets[walletKey(h.Customer, h.Currency)]
		ws.holds = append(ws.holds, h)
	}
	for _, k := range keys {
		if err := w.settleDue(ctx, w.wallets[k]); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// settleDue releases the wallet's expired holds and writes off its expired
// grants.
func (w *writeState) settleDue(ctx context.Context, ws *walletState) error {
	first := len(w.events)
	defer func() {
		for _, e := range w.events[first:] {
			switch e.Type {
			case EventGrantExpired:
				ws.settled.ExpiredGrants++
			case EventHoldExpired:
				ws.settled.ExpiredHolds++
			}
		}
	}()
	for _, h := range ws.holds {
		if h.Status != HoldActive || w.now.Before(h.ExpiresAt) {
			continue
		}
		if err := w.returnHold(ctx, ws, h, 0, HoldExpired); err != nil {
			return err
		}
		w.event(EventHoldExpired, ws.key, map[string]any{"hold_id": h.ID, "amount": h.Amount, "operation": h.Operation})
	}
	for _, g := range ws.grants {
		if g.Remaining == 0 || g.ExpiresAt == nil || w.now.Before(*g.ExpiresAt) || g.ExpiredAt != nil || g.VoidedAt != nil {
			continue
		}
		if err := w.expireGrant(ws, g, ""); err != nil {
			return err
		}
	}
	return nil
}

// claimSettled returns what loading settled on wallet k, once: a batch may
// hold several RunDue requests for one wallet, and only the first reports
// the settlement.
func (w *writeState) claimSettled(k WalletKey) DueResult {
	ws := w.wallets[k]
	if ws == nil {
		return DueResult{}
	}
	r := ws.settled
	ws.settled = DueResult{}
	return r
}

// expireGrant writes off a grant's remaining credits at its expiry time.
// actor is who made it expire: "" (the system) when its time came, the
// caller when a write expires it (a plan change's unused credits).
func (w *writeState) expireGrant(ws *walletState, g *Grant, actor string) error {
	if actor == "" {
		actor = "system"
	}
	amount := g.Remaining
	at := *g.ExpiresAt
	g.Remaining = 0
	g.ExpiredAt = &at
	w.markGrant(ws, g)
	if _, err := w.addEntry(ws, &Entry{
		Type: EntryExpiration, Category: CategoryExpiration, Amount: -amount, At: at, Actor: actor,
		Details:     map[string]any{"grant_id": g.ID, "reason": g.Reason, "expired_at": at},
		Allocations: []Allocation{{GrantID: g.ID, Amount: amount}},
	}); err != nil {
		return err
	}
	w.event(EventGrantExpired, ws.key, map[string]any{"grant_id": g.ID, "amount": amount, "expired_at": at})
	return nil
}

// returnHold resolves a hold: the first captured credits of its allocations
// stay spent, the rest go back to their grants. Credits that return to a
// grant that has since expired or been voided are written off at once.
func (w *writeState) returnHold(ctx context.Context, ws *walletState, h *Hold, captured Amount, status HoldStatus) error {
	keep := captured
	defer w.returnHoldDebt(ws, h, &keep)
	for _, a := range h.Allocations {
		back := a.Amount
		if keep > 0 {
			used := min(keep, back)
			keep -= used
			back -= used
		}
		if back == 0 {
			continue
		}
		g, err := w.grant(ctx, ws, a.GrantID)
		if err != nil {
			return err
		}
		if err := w.giveBack(ws, g, back, "hold_id", h.ID, "released hold"); err != nil {
			return err
		}
	}
	now := w.now
	h.Status = status
	h.Captured = captured
	h.ResolvedAt = &now
	w.markHold(ws, h)
	ws.touched = true
	return nil
}

// giveBack returns credits that were drawn from grant g (by a hold that is
// released, or a charge that is reversed) to it. Credits that come back to
// a grant that has since been voided or has expired are written off at
// once, with a void or expiration entry that names ref (the hold or the
// reversal they came back through): they never become spendable again.
func (w *writeState) giveBack(ws *walletState, g *Grant, back Amount, refKey, refID, what string) error {
	switch {
	case g.VoidedAt != nil:
		if _, err := w.addEntry(ws, &Entry{Type: EntryVoid, Category: CategoryVoid, Amount: -back, At: w.now, Actor: "system",
			Details:     map[string]any{"grant_id": g.ID, refKey: refID, "reason": what + " on a voided grant"},
			Allocations: []Allocation{{GrantID: g.ID, Amount: back}}}); err != nil {
			return err
		}
	case g.ExpiredAt != nil || (g.ExpiresAt != nil && !w.now.Before(*g.ExpiresAt)):
		// The grant expired while its credits were away: they expire as
		// they come back, now (at the expiry instant they were still held
		// or spent, so that is when they stop counting).
		first := g.ExpiredAt == nil
		if first && g.Remaining > 0 {
			// Write off what the grant itself still has, at its expiry.
			if err := w.expireGrant(ws, g, ""); err != nil {
				return err
			}
			first = false
		}
		if g.ExpiredAt == nil {
			at := *g.ExpiresAt
			g.ExpiredAt = &at
			w.markGrant(ws, g)
		}
		if _, err := w.addEntry(ws, &Entry{Type: EntryExpiration, Category: CategoryExpiration, Amount: -back, At: w.now, Actor: "system",
			Details:     map[string]any{"grant_id": g.ID, refKey: refID, "reason": what + " on an expired grant"},
			Allocations: []Allocation{{GrantID: g.ID, Amount: back}}}); err != nil {
			return err
		}
		if first {
			w.event(EventGrantExpired, ws.key, map[string]any{"grant_id": g.ID, "amount": back, "expired_at": *g.ExpiredAt})
		}
	default:
		g.Remaining += back
		w.markGrant(ws, g)
		if !slices.Contains(ws.grants, g) {
			ws.grants = append(ws.grants, g)
		}
	}
	return nil
}

// grant returns a grant of the wallet, loading it if it is not live.
func (w *writeState) grant(ctx context.Context, ws *walletState, id string) (*Grant, error) {
	if g, ok := ws.grantByID[id]; ok {
		return g, nil
	}
	r, err := w.tx.Grant(ctx, id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("grant %s of a hold is missing", id)
	}
	g, err := grantFromRow(r)
	if err != nil {
		return nil, err
	}
	ws.grantByID[id] = g
	return g, nil
}

// wallet returns a locked wallet of the write.
func (w *writeState) wallet(key WalletKey) *walletState {
	ws, ok := w.wallets[key]
	if !ok {
		panic(fmt.Sprintf("creditkit: wallet %v used but not locked", key))
	}
	return ws
}

// available returns the credits spendable now in a wallet.
func (w *writeState) available(ws *walletState) Amount {
	var sum Amount
	for _, g := range ws.grants {
		if g.spendableAt(w.now) {
			sum += g.Remaining
		}
	}
	return sum
}

// plan chooses the grants an amount is drawn from, in burn-down order,
// without changing anything. It fails with *InsufficientCreditsError when
// the wallet cannot cover the amount.
func (w *writeState) plan(ws *walletState, amount Amount) ([]Allocation, error) {
	var usable []*Grant
	for _, g := range ws.grants {
		if g.spendableAt(w.now) {
			usable = append(usable, g)
		}
	}
	slices.SortFunc(usable, func(a, b *Grant) int {
		if burnsBefore(a, b) {
			return -1
		}
		return 1
	})
	var allocs []Allocation
	left := amount
	for _, g := range usable {
		if left == 0 {
			break
		}
		take := min(left, g.Remaining)
		allocs = append(allocs, Allocation{GrantID: g.ID, Amount: take})
		left -= take
	}
	if left > 0 {
		cur, _ := w.l.cfg.Currency(ws.key.Currency)
		return nil, &InsufficientCreditsError{Customer: ws.key.Customer, Currency: ws.key.Currency, Needed: amount, Available: amount - left, Decimals: cur.Decimals}
	}
	return allocs, nil
}

// draw takes planned allocations out of their grants.
func (w *writeState) draw(ws *walletState, allocs []Allocation) {
	w.muts++
	for _, a := range allocs {
		g := ws.grantByID[a.GrantID]
		g.Remaining -= a.Amount
		w.markGrant(ws, g)
		if g.Remaining == 0 && a.Amount > 0 {
			// Spent or held to the last credit (a released hold may
			// refill it, and a later draw empty it again).
			w.event(EventGrantDepleted, ws.key, map[string]any{"grant_id": g.ID, "amount": g.Amount, "source": string(g.Source)})
		}
	}
	ws.touched = true
}

// addGrant adds a new grant to a wallet. A grant spendable now pays the
// wallet's overage debt first (repayDebt); finish reports a failure of it.
func (w *writeState) addGrant(ws *walletState, g *Grant) {
	w.muts++
	ws.grants = append(ws.grants, g)
	ws.grantByID[g.ID] = g
	ws.newGrants[g.ID] = true
	ws.touched = true
	if err := w.repayDebt(ws, g); err != nil && w.err == nil {
		w.err = err
	}
}

// addHold adds a new hold to a wallet.
func (w *writeState) addHold(ws *walletState, h *Hold) {
	w.muts++
	ws.holds = append(ws.holds, h)
	ws.newHolds[h.ID] = true
}

func (w *writeState) markGrant(ws *walletState, g *Grant) {
	w.muts++
	ws.dirty[g.ID] = true
}

func (w *writeState) markHold(ws *walletState, h *Hold) {
	w.muts++
	if !slices.Contains(ws.holds, h) {
		ws.holds = append(ws.holds, h)
	}
	ws.dirtyHold[h.ID] = true
}

// addEntry appends a ledger entry to a wallet: it fills in the ID, wallet,
// recorded time, balance and available balance after, and checks the
// balance for overflow. The caller sets the entry's type, and changes the
// wallet's grants before adding the entry (or calls refreshAvailable after).
func (w *writeState) addEntry(ws *walletState, e *Entry) (*Entry, error) {
	if !e.Type.Valid() {
		return nil, fmt.Errorf("creditkit: entry of category %q has no valid type (%q)", e.Category, e.Type)
	}
	bal, err := addAmounts(Amount(ws.row.LedgerBalance), e.Amount)
	if err != nil {
		return nil, err
	}
	w.muts++
	ws.row.LedgerBalance = int64(bal)
	ws.rowDirty = true
	ws.touched = true
	e.ID = w.l.ids.New("ent")
	e.Customer, e.Currency = ws.key.Customer, ws.key.Currency
	e.BalanceAfter = bal
	avail := w.availableNet(ws)
	e.AvailableAfter = &avail
	e.RecordedAt = w.now
	if e.At.IsZero() {
		e.At = w.now
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.At
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	if e.Allocations == nil {
		e.Allocations = []Allocation{}
	}
	row := entryToRow(e)
	// Hand back the details as a reader of the ledger will see them (JSON
	// types), so a fresh result, a replay and History agree.
	e.Details = nil
	if err := unmarshalObject(row.Details, &e.Details); err != nil {
		return nil, fmt.Errorf("entry details: %w", err)
	}
	w.changes.Entries = append(w.changes.Entries, row)
	return e, nil
}

// refreshAvailable sets an entry's available balance after again, for a
// request that changes the wallet's grants only after writing the entry
// (a grant adds its bucket, a capture returns what it did not charge).
func (w *writeState) refreshAvailable(ws *walletState, e *Entry) {
	avail := w.availableNet(ws)
	e.AvailableAfter = &avail
	for i := len(w.changes.Entries) - 1; i >= 0; i-- {
		if r := w.changes.Entries[i]; r.ID == e.ID {
			a := int64(avail)
			r.AvailableAfter = &a
			return
		}
	}
}

// event records an outbox event.
func (w *writeState) event(typ string, key WalletKey, data map[string]any) {
	w.muts++
	e := Event{ID: w.l.ids.New("evt"), Type: typ, Customer: key.Customer, Currency: key.Currency, Data: data, At: w.now}
	w.events = append(w.events, e)
}

// finish turns the write's in-memory changes into rows, adding the balance
// events of every wallet whose credits moved.
func (w *writeState) finish() error {
	if w.err != nil {
		return w.err
	}
	w.seeCustomers()
	for _, k := range w.order {
		ws := w.wallets[k]
		for _, g := range ws.grants {
			if ws.newGrants[g.ID] {
				w.changes.NewGrants = append(w.changes.NewGrants, grantToRow(g))
			}
		}
		for id := range ws.dirty {
			if ws.newGrants[id] {
				continue
			}
			g := ws.grantByID[id]
			w.changes.GrantUpdates = append(w.changes.GrantUpdates, &store.GrantUpdate{ID: g.ID, Remaining: int64(g.Remaining), VoidedAt: g.VoidedAt, ExpiredAt: g.ExpiredAt, ExpiresAt: g.ExpiresAt})
		}
		for _, h := range ws.holds {
			switch {
			case ws.newHolds[h.ID]:
				w.changes.NewHolds = append(w.changes.NewHolds, holdToRow(h))
			case ws.dirtyHold[h.ID]:
				w.changes.HoldUpdates = append(w.changes.HoldUpdates, &store.HoldUpdate{ID: h.ID, Status: string(h.Status), Captured: int64(h.Captured), ResolvedAt: h.ResolvedAt, EntryID: h.EntryID})
			}
		}
		if ws.touched {
			if err := w.balanceEvents(ws); err != nil {
				return err
			}
		}
		if ws.rowDirty {
			w.changes.Wallets = append(w.changes.Wallets, ws.row)
		}
	}
	slices.SortFunc(w.changes.GrantUpdates, func(a, b *store.GrantUpdate) int { return strings.Compare(a.ID, b.ID) })
	for i := range w.events {
		w.changes.Events = append(w.changes.Events, eventToRow(&w.events[i]))
	}
	return nil
}
