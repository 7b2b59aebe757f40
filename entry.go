package creditkit

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Ledger entry categories written by the library. Grants use their reason as
// the category (default CategoryManualAdjustment); debits use theirs
// (default CategoryDebit), and so does the capture of a hold placed for a
// raw amount without an operation.
const (
	CategoryManualAdjustment = "manual_adjustment"
	CategoryOperationCharge  = "operation_charge"
	CategoryDebit            = "debit"
	CategoryTransferOut      = "transfer_out"
	CategoryTransferIn       = "transfer_in"
	CategoryExpiration       = "expiration"
	CategoryVoid             = "void"
	// CategoryRepayment is the category of repayment entries.
	CategoryRepayment = "repayment"
	// CategoryOverageSettlement is the category of overage_settlement
	// entries.
	CategoryOverageSettlement = "overage_settlement"
	// CategoryPackPurchase is the category of a purchase's grant entry.
	CategoryPackPurchase = "pack_purchase"
	// CategoryRefund is the category of refund entries.
	CategoryRefund = "refund"
)

// EntryType is what kind of movement an entry is, from a closed set a
// reader can filter on. The category beside it is finer and open: the
// app's own slug (a grant's or a debit's reason).
type EntryType string

// Entry types. The set is closed: every entry has exactly one of these.
const (
	// EntryGrant adds credits: a grant of any reason, scheduled or not.
	EntryGrant EntryType = "grant"
	// EntryCharge removes credits for usage: an operation charge, a
	// captured hold, or a raw debit.
	EntryCharge EntryType = "charge"
	// EntryExpiration writes off credits whose grant expired.
	EntryExpiration EntryType = "expiration"
	// EntryVoid removes what was left of a voided grant.
	EntryVoid EntryType = "void"
	// EntryTransfer moves credits between two customers; each side writes
	// one entry (category transfer_out or transfer_in).
	EntryTransfer EntryType = "transfer"
	// EntryReversal gives back all or part of an earlier charge.
	EntryReversal EntryType = "reversal"
	// EntryAdjustment is a correction that is none of the above, such as a
	// change of a grant's expiry.
	EntryAdjustment EntryType = "adjustment"
	// EntryRepayment records a new grant paying a wallet's overage debt:
	// amount 0, its allocations take the repaid credits from the grant.
	EntryRepayment EntryType = "repayment"
	// EntryOverageSettlement brings a wallet's debt back to 0 at a billing
	// period end (the debt is billed as money at the overage price).
	EntryOverageSettlement EntryType = "overage_settlement"
	// EntryRefund claws back the credits of a refunded purchase: its
	// allocations take them from grants (the purchase's own first), and
	// Details["debt"] or Details["shortfall"] is what the wallet no longer
	// had (see refund.go).
	EntryRefund EntryType = "refund"
)

// EntryTypes lists every entry type, in the order the documentation gives
// them.
func EntryTypes() []EntryType {
	return []EntryType{EntryGrant, EntryCharge, EntryExpiration, EntryVoid, EntryTransfer, EntryReversal, EntryAdjustment, EntryRepayment, EntryOverageSettlement, EntryRefund}
}

// Valid reports whether t is one of EntryTypes.
func (t EntryType) Valid() bool {
	for _, v := range EntryTypes() {
		if t == v {
			return true
		}
	}
	return false
}

// entryTypeList is the set of entry types, for error messages.
func entryTypeList() string {
	names := make([]string, 0, len(EntryTypes()))
	for _, t := range EntryTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// maxDescriptionLen is the longest entry description, in characters.
const maxDescriptionLen = 500

// checkDescription validates an entry's free-text description: valid
// UTF-8, at most maxDescriptionLen characters, no control characters other
// than line breaks and tabs.
func checkDescription(d string) error {
	if !utf8.ValidString(d) {
		return errorf(CodeInvalidRequest, "description is not valid UTF-8: send text encoded as UTF-8")
	}
	if n := utf8.RuneCountInString(d); n > maxDescriptionLen {
		return errorf(CodeInvalidRequest, "description is %d characters; the limit is %d", n, maxDescriptionLen)
	}
	for _, r := range d {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return errorf(CodeInvalidRequest, "description contains the control character %U: send plain text", r)
		}
	}
	return nil
}

// Allocation is the part of an entry drawn from, or added to, one grant.
type Allocation struct {
	GrantID string `json:"grant_id"`
	Amount  Amount `json:"amount"`
}

// Entry is one append-only line of the ledger. Entries are never updated or
// deleted; corrections are new entries.
type Entry struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Currency string `json:"currency"`
	// Type is what kind of movement this is, from the closed set of
	// EntryTypes.
	Type EntryType `json:"type" enum:"grant,charge,expiration,void,transfer,reversal,adjustment,repayment,overage_settlement,refund"`
	// Category is the app's own slug for the movement: a grant's or debit's
	// reason, operation_charge, transfer_out...
	Category string `json:"category"`
	// Description is optional free text the caller gave.
	Description string `json:"description,omitempty"`
	// Amount is signed: positive adds credits to the wallet, negative removes.
	Amount Amount `json:"amount"`
	// BalanceAfter is the wallet's ledger balance (available plus held and
	// scheduled credits) right after this entry.
	BalanceAfter Amount `json:"balance_after"`
	// AvailableAfter is what the wallet could spend right after this entry:
	// without held credits and without grants not yet effective. Holds
	// move credits between available and held without writing entries, so
	// it is a snapshot, not a running sum. Nil on entries written before
	// the database was migrated to version 3.
	AvailableAfter *Amount `json:"available_after,omitempty"`
	// Operation is the operation charged, for operation charges.
	Operation string `json:"operation,omitempty"`
	// Details are the library's own facts about the entry: for charges
	// "cost", "params" and "operation_meta" (and "hold_id", "held" for a
	// captured hold); for grants "grant_id", "source", "expires_at"; for
	// transfers "from" and "to"; for voids and expirations "grant_id" and
	// "reason".
	Details map[string]any `json:"details"`
	// Metadata is the caller's metadata, exactly as given.
	Metadata    map[string]string `json:"metadata"`
	Allocations []Allocation      `json:"allocations"`
	// Actor is who asked for the movement (an API key name, "cli", "scheduler").
	Actor          string `json:"actor,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// At is when the movement took effect: the write time of a charge,
	// the moment a grant became effective, or the instant a grant expired.
	// The ledger's order and balances follow At.
	At time.Time `json:"at"`
	// OccurredAt is when the usage happened, as the caller said (a usage
	// event's timestamp); At when not given. Usage sums by it.
	OccurredAt time.Time `json:"occurred_at"`
	// RecordedAt is when the entry was written.
	RecordedAt time.Time `json:"recorded_at"`
	// Seq orders the entries; it is assigned by the store.
	Seq int64 `json:"-"`
}

// HistoryFilter narrows History. The zero value lists every entry, oldest first.
type HistoryFilter struct {
	// Currency limits the list to one currency; empty means all.
	Currency string
	// Type limits the list to one entry type; empty means all.
	Type EntryType
	// Category limits the list to one category; empty means all.
	Category string
	// Operation limits the list to charges for one operation.
	Operation string
	// Since and Until bound At: Since <= At < Until. Zero means unbounded.
	Since, Until time.Time
	// Limit caps the number of entries. Defaults to 100; at most 1000.
	Limit int
	// After is a cursor: the ID of the last entry of the previous page.
	After string
	// Newest lists the newest entries first.
	Newest bool
}

// withText appends s to a request's fingerprint values when it is set, so
// that fingerprints of requests made without it stay what they were.
func withText(vals []any, s string) []any {
	if s == "" {
		return vals
	}
	return append(vals, s)
}

// UnmarshalJSON decodes an entry, including one encoded before entries
// kept the caller's metadata apart (an idempotent result stored by an
// older version): there the library's facts and the operation sat in
// "metadata", with the caller's own under "metadata"."metadata".
func (e *Entry) UnmarshalJSON(data []byte) error {
	type plain Entry
	var v struct {
		plain
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*e = Entry(v.plain)
	if len(v.Metadata) == 0 || string(v.Metadata) == "null" {
		return nil
	}
	if err := json.Unmarshal(v.Metadata, &e.Metadata); err == nil {
		return nil
	}
	var legacy map[string]any
	if err := json.Unmarshal(v.Metadata, &legacy); err != nil {
		return fmt.Errorf("entry metadata: %w", err)
	}
	e.Metadata = map[string]string{}
	if md, ok := legacy["metadata"].(map[string]any); ok {
		for k, val := range md {
			e.Metadata[k] = fmt.Sprint(val)
		}
	}
	delete(legacy, "metadata")
	if op, ok := legacy["operation"].(string); ok && e.Operation == "" {
		e.Operation = op
	}
	delete(legacy, "operation")
	if len(e.Details) == 0 {
		e.Details = legacy
	}
	return nil
}
