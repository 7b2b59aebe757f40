package creditkit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/sqlite"
	"github.com/creditkit/creditkit/store"
	"github.com/creditkit/creditkit/storetest"
)

// FuzzLedgerMatchesModel decodes its input into a sequence of ledger
// operations (grants, debits, holds, captures, releases, transfers, voids,
// clock jumps, sweeps), runs it on a ledger over a fresh SQLite database and
// on the conformance suite's reference model, and fails at the first step
// where they disagree or the ledger's invariants break.
//
// A plain `go test` runs the seed inputs only. To fuzz:
//
//	go test -run XXX -fuzz FuzzLedgerMatchesModel -fuzztime 60s .
//
// Failing inputs are saved under testdata/fuzz/FuzzLedgerMatchesModel and
// rerun by every later `go test`.
func FuzzLedgerMatchesModel(f *testing.F) {
	// The bytes are decoded by storetest.DecodeOps, which documents them.
	f.Add([]byte{})
	// Grant 50 to pa, debit 20, hold 10 for 30m, capture 7 of it, then
	// release it (not active any more).
	f.Add([]byte{0x00, 50, 0x00, 0x01, 20, 0x02, 10, 30, 0x03, 0x00, 0x01, 7, 0x04, 0x00})
	// A grant expiring in 75m and a pack scheduled in 2h for 45m; the clock
	// goes to each deadline (exactly, 1s after, 1s before) with sweeps.
	f.Add([]byte{0x00, 80, 0x0c, 4, 0x00, 40, 0x1d, 2, 8, 0x08, 1, 0x08, 2, 0x09, 0x01, 70, 0x08, 0x00, 0x09})
	// Transfers pa->pb, pb->pc (evergreen) and pa->pa (refused), then a
	// void, the same void again (refused) and a debit.
	f.Add([]byte{0x00, 100, 0x04, 0x10, 60, 0x0c, 0x05, 0x05, 0x01, 30, 0x15, 0x12, 25, 0x05, 0x00, 5, 0x06, 0x06, 0x06, 0x01, 0x01, 40})
	// A hold on a grant that is voided, then lapses; a late capture is
	// refused.
	f.Add([]byte{0x00, 30, 0x08, 1, 0x02, 25, 60, 0x06, 0x00, 0x07, 0x3c, 0x00, 0x03, 0x01, 0x01, 5, 0x09, 0x01, 1})
	// A hold of a whole grant that expires while held; a partial capture
	// gives the rest back to the expired grant, which a sweep writes off.
	f.Add([]byte{0x00, 60, 0x0d, 1, 0x02, 60, 120, 0x07, 0x3c, 0x00, 0x03, 0x00, 0x01, 20, 0x01, 5, 0x09})
	// A grant scheduled for 10h from now is voided before it starts.
	f.Add([]byte{0x00, 37, 0x10, 40, 0x06, 0x00, 0x07, 0x3c, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := storetest.DecodeOps(data)
		b := storetest.Setup(t, func(t *testing.T) store.Store {
			// Not t.TempDir: its name holds the seed's "#", which
			// sqlite.Open does not escape in its file: URI.
			dir, err := os.MkdirTemp("", "creditkit-fuzz-")
			if err != nil {
				t.Fatalf("temp dir: %v", err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			s, err := sqlite.Open(context.Background(), filepath.Join(dir, "fuzz.db"), nil)
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
		storetest.RunOps(t, b, ops)
	})
}

// FuzzParseSpan checks that ParseSpan and ParseDuration never panic, that a
// span prints to a form that reads back to itself, that both parsers agree
// on what has a fixed length, and that AddTo stays within the years a
// time.Time can print.
//
//	go test -run XXX -fuzz FuzzParseSpan -fuzztime 60s .
func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"1mo", "1 month", "1y", "30d", "12h", "1h30m", "1.5d", "P1M", "P30D", "PT1H", "P1Y2M3DT4H", "PT0.5S",
		"-P1D", "0", "", "P", "PT", "1 year, 2 months", "1000 years", "P1.5M", "999999999999999999999h", "µs"} {
		f.Add(s)
	}
	base := time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		d, derr := creditkit.ParseDuration(in)
		sp, err := creditkit.ParseSpan(in)
		if err != nil {
			if creditkit.ErrorCodeOf(err) != creditkit.CodeInvalidRequest {
				t.Fatalf("ParseSpan(%q) error %v has code %s", in, err, creditkit.ErrorCodeOf(err))
			}
			if derr == nil {
				t.Fatalf("ParseDuration(%q) = %v but ParseSpan refuses it: %v", in, d, err)
			}
			return
		}
		back, err := creditkit.ParseSpan(sp.String())
		if err != nil || back != sp {
			t.Fatalf("ParseSpan(%q) = %+v prints %q, which reads back as %+v, %v", in, sp, sp.String(), back, err)
		}
		if words, err := creditkit.ParseSpan(sp.Words()); err != nil || words != sp {
			t.Fatalf("ParseSpan(%q) = %+v says %q, which reads back as %+v, %v", in, sp, sp.Words(), words, err)
		}
		if derr == nil {
			if sp.Months != 0 || time.Duration(sp.Days)*24*time.Hour+sp.Duration != d {
				t.Fatalf("ParseDuration(%q) = %v but ParseSpan = %+v", in, d, sp)
			}
		} else if sp.Months == 0 && creditkit.ErrorCodeOf(derr) != creditkit.CodeInvalidRequest {
			t.Fatalf("ParseDuration(%q) error %v has code %s", in, derr, creditkit.ErrorCodeOf(derr))
		}
		if end := sp.AddTo(base); end.Year() < 0 || end.Year() > 9999 {
			t.Fatalf("%+v from %s ends in year %d", sp, base, end.Year())
		}
	})
}

// FuzzParamsCheck prices operations with arbitrary params and checks that
// an accepted set of params is within the documented bounds and known to
// the operation, and that every refusal is invalid_params.
//
//	go test -run XXX -fuzz FuzzParamsCheck -fuzztime 60s .
func FuzzParamsCheck(f *testing.F) {
	cfg, err := creditkit.ParseConfig("fuzz.yaml", []byte(`
operations:
  send_email: 1 credit
  process_image: 10 credits + 1 credit per mb
  analyze_data:
    cost: 20 credits + 1 credit per 100 chars
    limits: { prompt: 100 }
    params: [model]
`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("process_image", "mb", "5.2", "", "")
	f.Add("process_image", "size", "5242880", "foo", "2")
	f.Add("send_email", "mb", "1", "", "")
	f.Add("analyze_data", "chars", "10", "model", strings.Repeat("x", 501))
	f.Add("analyze_data", "characters", "1e3", "prompt", "héllo")
	f.Add("analyze_data", strings.Repeat("k", 41), "1", "MODEL", "m")
	f.Fuzz(func(t *testing.T, op, k1, v1, k2, v2 string) {
		p := creditkit.Params{k1: v1}
		if k2 != "" {
			p[k2] = v2
		}
		_, o, err := cfg.Price(op, p)
		if err != nil {
			code := creditkit.ErrorCodeOf(err)
			if code != creditkit.CodeInvalidParams && code != creditkit.CodeUnknownOperation && code != creditkit.CodeInvalidAmount {
				t.Fatalf("Price(%q, %v): %v has code %s", op, p, err, code)
			}
			return
		}
		for k, v := range p {
			if k == "" || utf8.RuneCountInString(k) > 40 || utf8.RuneCountInString(v.(string)) > 500 {
				t.Fatalf("Price(%q, %v) accepted param %q past the size limits", op, p, k)
			}
			if strings.EqualFold(k, "foo") || (op == "send_email" && len(p) > 0) {
				t.Fatalf("Price(%q, %v) accepted unknown param %q of %+v", op, p, k, o)
			}
		}
	})
}
