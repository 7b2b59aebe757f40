package store

import "errors"

// ErrNotText is returned (wrapped) when the database refuses a string as
// text: PostgreSQL refuses a NUL character and bytes that are not UTF-8
// (SQLSTATE 22P05, 22021). The library checks caller text before writing,
// so this is a backstop; the domain answers it as an invalid request, not
// an internal error.
var ErrNotText = errors.New("the request holds text the database cannot store (a NUL character or bytes that are not UTF-8): send plain text")
