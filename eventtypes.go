package creditkit

import "slices"

// eventTypes is the catalogue of event types the ledger emits: the one list
// webhook endpoints are checked against. A new event type is added here
// beside its constant in event.go.
var eventTypes = []string{
	EventCreditsGranted,
	EventCreditsSpent,
	EventCreditsTransferred,
	EventBalanceLow,
	EventBalanceDepleted,
	EventBalanceRecovered,
	EventGrantExpired,
	EventGrantExpiring,
	EventGrantVoided,
	EventGrantDepleted,
	EventGrantUpdated,
	EventCreditsReversed,
	EventHoldExpired,
	EventSubscriptionCreated,
	EventSubscriptionUpdated,
	EventSubscriptionCanceled,
	EventSubscriptionPaused,
	EventSubscriptionResumed,
	EventOverageBilled,
	EventPurchaseCompleted,
	EventCreditsRefunded,
	EventTopUpSucceeded,
	EventTopUpFailed,
}

// EventTypes returns every event type the ledger emits, sorted. The caller
// may change the returned slice.
func EventTypes() []string {
	out := slices.Clone(eventTypes)
	slices.Sort(out)
	return out
}

// IsEventType reports whether the ledger emits events of type typ.
func IsEventType(typ string) bool { return slices.Contains(eventTypes, typ) }
