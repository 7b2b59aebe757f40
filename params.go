package creditkit

// Params are the inputs of a priced operation, such as {"mb": 5.2} or
// {"size": 5452595}. Values may be Go numbers, json.Number, or decimal
// strings; they are read exactly, never through floating point rounding of
// the price.
type Params map[string]any
