package creditkit

import (
	"slices"
	"sync"

	"github.com/creditkit/creditkit/store"
)

// walletCache keeps, for stores that exclude other writers and can tell
// when someone else wrote (store.ChangeDetector), the state of the wallets
// this process wrote last: the wallet row, live grants and active holds.
// A batch then loads only the wallets it has not seen. The cache holds
// exactly what the database holds: it is filled from a batch's state after
// that batch commits, and dropped whole when another writer committed in
// between or a write transaction failed.
type walletCache struct {
	mu      sync.Mutex
	wallets map[WalletKey]*cachedWallet
	max     int
}

type cachedWallet struct {
	row    store.Wallet
	grants []*Grant
	holds  []*Hold
}

func newWalletCache(max int) *walletCache {
	return &walletCache{wallets: map[WalletKey]*cachedWallet{}, max: max}
}

func (c *walletCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.wallets)
}

// load returns a private copy of a cached wallet: the write may change it
// and then fail, and the cache must keep what the database holds.
func (c *walletCache) load(key WalletKey) (*store.Wallet, []*Grant, []*Hold, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cw, ok := c.wallets[key]
	if !ok {
		return nil, nil, nil, false
	}
	row := cw.row
	grants := make([]*Grant, len(cw.grants))
	for i, g := range cw.grants {
		cp := *g
		grants[i] = &cp
	}
	holds := make([]*Hold, len(cw.holds))
	for i, h := range cw.holds {
		holds[i] = h.snapshot()
	}
	return &row, grants, holds, true
}

// save records the committed state of a write's wallets.
func (c *walletCache) save(w *writeState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.wallets)+len(w.wallets) > c.max {
		clear(c.wallets)
	}
	for key, ws := range w.wallets {
		cw := &cachedWallet{row: *ws.row}
		for _, g := range ws.grants {
			if g.Remaining > 0 && g.VoidedAt == nil && g.ExpiredAt == nil {
				cp := *g
				cw.grants = append(cw.grants, &cp)
			}
		}
		for _, h := range ws.holds {
			if h.Status == HoldActive {
				cw.holds = append(cw.holds, h.snapshot())
			}
		}
		cw.grants = slices.Clip(cw.grants)
		c.wallets[key] = cw
	}
}
