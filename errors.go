package creditkit

import (
	"errors"
	"fmt"

	"github.com/creditkit/creditkit/store"
)

// ErrorCode is a stable, machine-readable error code shared by the library,
// the CLI and the HTTP API.
type ErrorCode string

// Stable error codes. They never change meaning once released.
const (
	CodeInsufficientCredits ErrorCode = "insufficient_credits"
	CodeUnknownOperation    ErrorCode = "unknown_operation"
	CodeInvalidParams       ErrorCode = "invalid_params"
	CodeInvalidAmount       ErrorCode = "invalid_amount"
	CodeInvalidRequest      ErrorCode = "invalid_request"
	CodeNotFound            ErrorCode = "not_found"
	CodeIdempotencyConflict ErrorCode = "idempotency_conflict"
	CodeInvalidConfig       ErrorCode = "invalid_config"
	CodeHoldNotActive       ErrorCode = "hold_not_active"
	CodeGrantNotActive      ErrorCode = "grant_not_active"
	// CodeCustomerNotFound says a read named a customer that no write has
	// named and that was never created (often a typo in the ID).
	CodeCustomerNotFound ErrorCode = "customer_not_found"
	// CodeCustomerExists says a create named an existing customer with
	// different details.
	CodeCustomerExists ErrorCode = "customer_exists"
	// CodeOutcomeUnknown says a write may or may not have been applied (the
	// database connection died during commit). Retry with the same
	// idempotency key; never assume it was not applied.
	CodeOutcomeUnknown ErrorCode = "outcome_unknown"
	CodeOverloaded     ErrorCode = "overloaded"
	CodeInternal       ErrorCode = "internal"
)

// Sentinel errors. Every *Error matches the sentinel of its code with
// errors.Is, so callers can write errors.Is(err, creditkit.ErrNotFound).
var (
	ErrInsufficientCredits = &Error{Code: CodeInsufficientCredits, Message: "insufficient credits"}
	ErrUnknownOperation    = &Error{Code: CodeUnknownOperation, Message: "unknown operation"}
	ErrInvalidParams       = &Error{Code: CodeInvalidParams, Message: "invalid params"}
	ErrInvalidAmount       = &Error{Code: CodeInvalidAmount, Message: "invalid amount"}
	ErrInvalidRequest      = &Error{Code: CodeInvalidRequest, Message: "invalid request"}
	ErrNotFound            = &Error{Code: CodeNotFound, Message: "not found"}
	ErrIdempotencyConflict = &Error{Code: CodeIdempotencyConflict, Message: "idempotency key reused with a different request"}
	ErrInvalidConfig       = &Error{Code: CodeInvalidConfig, Message: "invalid config"}
	ErrHoldNotActive       = &Error{Code: CodeHoldNotActive, Message: "hold is not active"}
	ErrGrantNotActive      = &Error{Code: CodeGrantNotActive, Message: "grant is not active"}
	ErrCustomerNotFound    = &Error{Code: CodeCustomerNotFound, Message: "customer not found"}
	ErrCustomerExists      = &Error{Code: CodeCustomerExists, Message: "customer exists with different details"}
	ErrOutcomeUnknown      = &Error{Code: CodeOutcomeUnknown, Message: "the outcome of the write is unknown: retry with the same idempotency key"}
	ErrOverloaded          = &Error{Code: CodeOverloaded, Message: "too many requests in flight; retry shortly"}
)

// Error is a creditkit error with a stable code and a message that tells the
// user what to fix.
type Error struct {
	Code    ErrorCode
	Message string
	// Err is an optional underlying cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is a creditkit error with the same code, so a
// specific error matches its sentinel.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	var ic *InsufficientCreditsError
	if errors.As(target, &ic) {
		return e.Code == CodeInsufficientCredits
	}
	return false
}

// InsufficientCreditsError says a wallet cannot cover a debit.
type InsufficientCreditsError struct {
	Customer  string
	Currency  string
	Needed    Amount
	Available Amount
	// Decimals is the currency's number of decimals, for the message.
	Decimals int
	// OverageLimit is the wallet's overage limit (0: none), and Debt what
	// it already owes: with a limit, the charge failed because it would
	// have taken the debt past the limit.
	OverageLimit Amount
	Debt         Amount
}

// Error implements error.
func (e *InsufficientCreditsError) Error() string {
	msg := fmt.Sprintf("insufficient credits: %s needs %s but has %s available", e.Customer,
		FormatAmount(e.Needed, e.Decimals, e.Currency), FormatAmount(e.Available, e.Decimals, e.Currency))
	if e.OverageLimit > 0 || e.Debt > 0 {
		msg += fmt.Sprintf(" and owes %s of its overage limit of %s", FormatAmount(e.Debt, e.Decimals, e.Currency),
			FormatAmount(e.OverageLimit, e.Decimals, e.Currency))
	}
	return msg
}

// Is makes the error match ErrInsufficientCredits.
func (e *InsufficientCreditsError) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == CodeInsufficientCredits
}

// ErrorCodeOf returns the stable code of err: the code of a creditkit error,
// CodeInsufficientCredits for *InsufficientCreditsError, CodeInvalidRequest
// for text the store refused (store.ErrNotText), CodeInternal otherwise.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var ic *InsufficientCreditsError
	if errors.As(err, &ic) {
		return CodeInsufficientCredits
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, store.ErrNotText) {
		// The store's backstop for text the library should have refused.
		return CodeInvalidRequest
	}
	return CodeInternal
}

// errorf builds a creditkit error with a code and a formatted message.
func errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
