package creditkit

import (
	"fmt"
	"maps"
	"slices"
)

// The stores keep every caller-given string as text (PostgreSQL's text and
// jsonb refuse a NUL character and bytes that are not UTF-8, answering
// SQLSTATE 22P05 or 22021), so the library refuses such strings before
// anything is written, naming the field: the same request then fails the
// same way on SQLite, which would have stored them.

// checkMetadataText checks that every key and value of a metadata map is
// text: what names the map in messages ("metadata").
func checkMetadataText(what string, m map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !IsText(k) {
			return checkText(fmt.Sprintf("%s key %q", what, k), k)
		}
		if err := checkText(what+"."+k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkParamsText checks that every param name and every string in a
// param's value, at any depth (a JSON object or array), is text. Errors
// are invalid_params, naming the param: params.model, params.tags[1].
func checkParamsText(p Params) error {
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if !IsText(k) {
			return asParamsError(checkText(fmt.Sprintf("param name %q", k), k))
		}
		if err := checkValueText("params."+k, p[k]); err != nil {
			return asParamsError(err)
		}
	}
	return nil
}

// checkValueText checks the strings in a decoded JSON value, at any depth,
// naming the first that is not text by its path.
func checkValueText(path string, v any) error {
	switch v := v.(type) {
	case string:
		return checkText(path, v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if !IsText(k) {
				return checkText(fmt.Sprintf("%s key %q", path, k), k)
			}
			if err := checkValueText(path+"."+k, v[k]); err != nil {
				return err
			}
		}
	case map[string]string:
		return checkMetadataText(path, v)
	case []any:
		for i, x := range v {
			if err := checkValueText(fmt.Sprintf("%s[%d]", path, i), x); err != nil {
				return err
			}
		}
	case []string:
		for i, x := range v {
			if err := checkText(fmt.Sprintf("%s[%d]", path, i), x); err != nil {
				return err
			}
		}
	}
	return nil
}

// asParamsError gives a text error the invalid_params code, as every other
// refusal of params has.
func asParamsError(err error) error {
	if e, ok := err.(*Error); ok {
		e.Code = CodeInvalidParams
		return e
	}
	return err
}
