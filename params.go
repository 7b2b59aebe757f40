package creditkit

// Params are the inputs of a priced operation, such as {"mb": 5.2} or
// {"size": 5452595}. Values may be Go numbers, json.Number, or decimal
// strings; they are read exactly, never through floating point rounding of
// the price.
//
// An operation accepts only the params it knows: those its price is paid by
// (in any alias of the unit: size, bytes, kb, mb or gb for a price per mb),
// those it has a limit for, and those its config lists under params: for
// the record. Any other is refused with invalid_params; free-form context
// belongs in metadata. Params are bounded like metadata: at most 50, names
// of 1 to 40 characters, values of at most 500 characters (a string's
// characters, or another value's JSON text). See docs/config.md.
type Params map[string]any
