package creditkit

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// IDGenerator makes sortable unique IDs: a prefix, then 26 characters of
// Crockford base32 holding 48 bits of wall-clock milliseconds and 80 random
// bits (the ULID layout). IDs of one generator strictly increase, so listing
// by ID lists in creation order. The zero value is ready to use, and it is
// safe for concurrent use.
type IDGenerator struct {
	mu     sync.Mutex
	lastMS uint64
	hi     uint16 // top 16 random bits
	lo     uint64 // low 64 random bits
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns a new ID such as "grt_01JD3M6WQ2D5X0Y7K8ZPN4E9RS".
func (g *IDGenerator) New(prefix string) string {
	g.mu.Lock()
	ms := uint64(time.Now().UnixMilli())
	if ms <= g.lastMS {
		// Same millisecond (or the clock stepped back): count up from the last ID.
		ms = g.lastMS
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	} else {
		var b [10]byte
		_, _ = rand.Read(b[:])
		g.hi = binary.BigEndian.Uint16(b[:2]) & 0x7fff // leave room to count up
		g.lo = binary.BigEndian.Uint64(b[2:])
		g.lastMS = ms
	}
	hi, lo := g.hi, g.lo
	g.mu.Unlock()

	// 128 bits: 48 time | 16 hi | 64 lo, printed as 26 base32 digits (130 bits).
	var out [26]byte
	// Work on a 128-bit number as two uint64 halves.
	top := ms<<16 | uint64(hi)
	bottom := lo
	for i := 25; i >= 0; i-- {
		out[i] = crockford[bottom&31]
		bottom = bottom>>5 | top<<59
		top >>= 5
	}
	return prefix + "_" + string(out[:])
}
