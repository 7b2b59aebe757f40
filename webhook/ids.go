package webhook

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
	"time"
)

// newIDs returns a generator of unique, roughly time-ordered IDs with a
// prefix: the time in microseconds, then random bits.
func newIDs(prefix string) func() string {
	var mu sync.Mutex
	var last int64
	enc := base32.HexEncoding.WithPadding(base32.NoPadding)
	return func() string {
		mu.Lock()
		t := time.Now().UnixMicro()
		if t <= last {
			t = last + 1
		}
		last = t
		mu.Unlock()
		b := make([]byte, 16)
		for i := 7; i >= 0; i-- {
			b[i] = byte(t)
			t >>= 8
		}
		_, _ = rand.Read(b[8:])
		return prefix + "_" + strings.ToLower(enc.EncodeToString(b))
	}
}
