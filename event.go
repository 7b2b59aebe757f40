package creditkit

import "time"

// Event types recorded in the outbox.
const (
	EventCreditsGranted  = "credits.granted"
	EventCreditsSpent    = "credits.spent"
	EventBalanceLow      = "credits.balance.low"
	EventBalanceDepleted = "credits.balance.depleted"
	// EventBalanceRecovered says the balance is back at or above a
	// threshold that credits.balance.low announced.
	EventBalanceRecovered = "credits.balance.recovered"
	EventGrantExpired     = "credits.grant.expired"
	EventGrantVoided      = "credits.grant.voided"
	// EventGrantDepleted says a draw (a spend, a capture, a hold, a
	// transfer) took a grant\'s last credit.
	EventGrantDepleted = "credits.grant.depleted"
	// EventGrantUpdated says a grant's expiry moved (ChangeExpiry).
	EventGrantUpdated = "credits.grant.updated"
	// EventCreditsReversed says a charge was given back, fully or partly.
	EventCreditsReversed    = "credits.reversed"
	EventCreditsTransferred = "credits.transferred"
	EventHoldExpired        = "hold.expired"
	// EventGrantExpiring is written ahead of a grant's expiry by NotifyExpiring.
	EventGrantExpiring = "credits.grant.expiring"
	// Subscription events: a subscription started, changed (plan change,
	// scheduled downgrade or cancellation, trial conversion), was
	// canceled (when the cancellation takes effect), paused or resumed.
	EventSubscriptionCreated  = "credits.subscription.created"
	EventSubscriptionUpdated  = "credits.subscription.updated"
	EventSubscriptionCanceled = "credits.subscription.canceled"
	EventSubscriptionPaused   = "credits.subscription.paused"
	EventSubscriptionResumed  = "credits.subscription.resumed"
	// EventOverageBilled says SettleDebt settled a wallet's overage debt:
	// data has the credits and, with an overage price, the money.
	EventOverageBilled = "credits.overage.billed"
)

// Event is something that happened to credits. Events are written to an
// outbox in the same transaction as the movement they describe, so none is
// ever lost, and are handed to subscribers after the commit.
type Event struct {
	ID       string         `json:"id"`
	Type     string         `json:"type"`
	Customer string         `json:"customer"`
	Currency string         `json:"currency"`
	Data     map[string]any `json:"data"`
	At       time.Time      `json:"at"`
	// Seq orders the outbox; it is assigned by the store.
	Seq int64 `json:"-"`
}

// Subscriber receives events after their transaction commits. It is called
// at least once per event, in commit order per wallet, and must be quick.
type Subscriber func(e Event)
