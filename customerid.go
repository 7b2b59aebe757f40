package creditkit

// CheckCustomerID reports whether id is a customer ID the ledger accepts:
// 1 to 255 bytes of valid UTF-8 without whitespace or control characters.
// The error is an invalid_request Error that says what is wrong. Adapters
// that take a customer ID without calling the ledger (the server's customer
// tokens) check it with this, so that every door applies the same rule.
func CheckCustomerID(id string) error { return checkID("customer", id) }
