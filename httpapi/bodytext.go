package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bodyNotText reads a JSON request body of the API and says what is wrong
// when it is not text: bytes that are not UTF-8, or an escaped UTF-16
// surrogate without its pair (\udc00). encoding/json would otherwise
// replace either with U+FFFD, and the request would store text other than
// what was sent. It puts the body back for the handler, and leaves a body
// past the size limit to the handler, which answers 413. Provider
// webhooks verify their own raw bytes and are not read here.
func bodyNotText(r *http.Request) string {
	if r.Body == nil || r.ContentLength == 0 || !strings.HasPrefix(r.URL.Path, "/v1/") ||
		strings.HasPrefix(r.URL.Path, "/v1/providers/") {
		return ""
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
		return ""
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	if !utf8.Valid(b) {
		return "the request body holds bytes that are not UTF-8: send JSON encoded as UTF-8"
	}
	if at := loneSurrogate(b); at >= 0 {
		return "the request body holds an escaped UTF-16 surrogate without its pair (at byte " + strconv.Itoa(at) +
			"): escape characters beyond U+FFFF as a pair, such as \\ud83d\\ude00, or send them as UTF-8"
	}
	return ""
}

// errReader answers err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// loneSurrogate returns the offset of the first \uXXXX escape in a JSON
// string of b that is a UTF-16 surrogate without its pair, or -1.
func loneSurrogate(b []byte) int {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(b):
			if b[i+1] != 'u' {
				i++ // \" \\ \/ \b \f \n \r \t
				continue
			}
			u, ok := hex4(b, i+2)
			if !ok {
				i++
				continue // not JSON: the decoder says so
			}
			switch {
			case u >= 0xDC00 && u <= 0xDFFF:
				return i
			case u >= 0xD800 && u <= 0xDBFF:
				if lo, ok := hex4(b, i+8); !ok || i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' || lo < 0xDC00 || lo > 0xDFFF {
					return i
				}
				i += 11
			default:
				i += 5
			}
		}
	}
	return -1
}

// hex4 reads four hex digits at b[at:].
func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(v), err == nil
}
