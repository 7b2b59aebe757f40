package creditkit

import (
	"time"

	"github.com/creditkit/creditkit/store"
)

// WalletKey names one wallet: a customer's credits in one currency.
type WalletKey = store.WalletKey

// Balance is what a customer has in one currency at an instant.
type Balance struct {
	Customer string `json:"customer"`
	Currency string `json:"currency"`
	// Available can be spent now.
	Available Amount `json:"available"`
	// Held is reserved by active holds.
	Held Amount `json:"held"`
	// Debt is owed from overage (see SetOverageLimit); Available is net
	// of it, so it is negative only by the debt.
	Debt Amount `json:"debt"`
	// Scheduled will become available when scheduled grants start.
	Scheduled Amount `json:"scheduled"`
	// At is the instant the balance describes.
	At time.Time `json:"at"`
	// overageLimit is the wallet's overage limit, for Check.
	overageLimit Amount
	// releasedDebt is the debt part of holds that lapse by At.
	releasedDebt Amount
}

// empty reports whether the balance holds nothing at all.
func (b *Balance) empty() bool {
	return b.Available == 0 && b.Held == 0 && b.Debt == 0 && b.Scheduled == 0
}

// BalanceOpts are options for Balance. Nil means the default currency, now.
type BalanceOpts struct {
	// Currency defaults to the config's default currency.
	Currency string
	// At asks for the balance at another instant: past balances are rebuilt
	// from the ledger, future ones project scheduled grants and expiries.
	At time.Time
}

// walletKey returns the key of a customer's wallet in a currency.
func walletKey(customer, currency string) WalletKey {
	return WalletKey{Customer: customer, Currency: currency}
}
