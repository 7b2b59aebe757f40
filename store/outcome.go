package store

import "errors"

// ErrOutcomeUnknown is returned (wrapped) by Update when the commit itself
// failed in a way that leaves its outcome unknown: the connection to the
// database broke after COMMIT was sent, so the transaction may or may not
// have been applied. Callers must not assume either; a retry under the same
// idempotency key settles it.
var ErrOutcomeUnknown = errors.New("store: commit outcome unknown")
