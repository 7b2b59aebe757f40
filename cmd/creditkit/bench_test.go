package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchQuick are the flags of a benchmark short enough for a test.
var benchQuick = []string{"bench", "--duration", "200ms", "--warmup", "0s", "--customers", "10"}

func TestBenchJSONOnTempSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// No --db and no config file: a temp database and the built-in config.
	r := runMain(t, &Main{Dir: dir}, append(benchQuick, "--callers", "1,4", "--json")...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s%s", r.code, r.stderr, r.stdout)
	}
	var rows []benchRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("output is not a JSON array of rows: %v\n%s", err, r.stdout)
	}
	if len(rows) != 2 {
		t.Fatalf("want 2 rows (callers 1 and 4), got %d", len(rows))
	}
	for i, row := range rows {
		if want := []int{1, 4}[i]; row.Callers != want || row.Batching != "on" || row.Store != "sqlite" || row.Kind != "library" {
			t.Errorf("row %d: %+v", i, row)
		}
		if !row.Verified || !strings.HasPrefix(row.VerifyMessage, "ok") {
			t.Errorf("row %d not verified: %s", i, row.VerifyMessage)
		}
		if row.Spends <= 0 || row.SpendsPerSec <= 0 || row.Reads <= 0 {
			t.Errorf("row %d measured nothing: %+v", i, row)
		}
		if !(row.P50ms > 0 && row.P50ms <= row.P99ms && row.P99ms <= row.P999ms) {
			t.Errorf("row %d percentiles out of order: %v %v %v", i, row.P50ms, row.P99ms, row.P999ms)
		}
	}
	// The user's database was never touched.
	if _, err := os.Stat(filepath.Join(dir, "creditkit.db")); !os.IsNotExist(err) {
		t.Errorf("bench created creditkit.db in the working directory: %v", err)
	}
	if !strings.Contains(r.stderr, "bench: sqlite, 4 callers") {
		t.Errorf("no progress on stderr: %s", r.stderr)
	}
}

func TestBenchTableBatchingBothOnGivenDB(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.run(t, append(benchQuick, "--callers", "1", "--batching", "both", "--no-reads")...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{"SPENDS/S", "P999", "VERIFIED", "--db, shared by every run", "machine:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	var on, off bool
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[0] == "sqlite" && f[1] == "1" {
			on = on || f[2] == "on"
			off = off || f[2] == "off"
			if f[len(f)-1] != "yes" {
				t.Errorf("run not verified: %s", line)
			}
		}
	}
	if !on || !off {
		t.Errorf("want one row with batching on and one off:\n%s", r.stdout)
	}
	// The runs went to --db, and the ledger there is consistent.
	if _, err := os.Stat(strings.TrimPrefix(b.db, "sqlite:")); err != nil {
		t.Fatalf("--db was not used: %v", err)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--callers", "0"}, "--callers"},
		{[]string{"--callers", "1,x"}, "--callers"},
		{[]string{"--pgbench"}, "--postgres-local"},
		{[]string{"--read-mix", "2"}, "--read-mix"},
		{[]string{"--operation", "nope"}, "nope"},
	} {
		r := runMain(t, &Main{Dir: dir}, append(append([]string{}, benchQuick...), tc.args...)...)
		if r.code != ExitError || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %s", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestParseCounts(t *testing.T) {
	t.Parallel()
	got, err := parseCounts("--callers", "1, 16,64,512")
	if err != nil || len(got) != 4 || got[0] != 1 || got[3] != 512 {
		t.Fatalf("parseCounts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "-1", "1,,2", "a"} {
		if _, err := parseCounts("--callers", bad); err == nil {
			t.Errorf("parseCounts(%q) succeeded", bad)
		}
	}
}

// TestBenchOverHTTP runs bench through the HTTP API: in process with
// --http, and against a running server with --server.
func TestBenchOverHTTP(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, r result, kind, store string) {
		t.Helper()
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s%s", r.code, r.stderr, r.stdout)
		}
		var rows []benchRow
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("rows: %v\n%s", err, r.stdout)
		}
		row := rows[0]
		if row.Kind != kind || row.Store != store || !row.Verified || row.Spends <= 0 || row.Reads <= 0 {
			t.Fatalf("row: %+v", row)
		}
	}
	t.Run("in process", func(t *testing.T) {
		t.Parallel()
		r := runMain(t, &Main{Dir: t.TempDir()}, append(benchQuick, "--callers", "4", "--http", "--json")...)
		check(t, r, "http", "http+sqlite")
	})
	t.Run("running server", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.run(t, "--json", "keys", "create", "--name", "bench", "--scope", "write")
		var k struct{ Secret string }
		if err := json.Unmarshal([]byte(r.stdout), &k); err != nil {
			t.Fatal(err)
		}
		base, _, stop := startServe(t, &Main{Dir: b.dir}, "--db", b.db, "--config", b.config, "serve", "--addr", "127.0.0.1:0")
		defer stop()
		r = runMain(t, &Main{Dir: b.dir}, append([]string{"--server", base, "--api-key", k.Secret}, append(benchQuick, "--callers", "4", "--operation", "send_email", "--json")...)...)
		check(t, r, "http", "server")
	})
}
