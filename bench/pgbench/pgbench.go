// Package pgbench runs the database's own reference workload, one guarded
// debit plus one journal insert per commit, with PostgreSQL's pgbench. The
// workload is the three files beside this one (setup.sql, debit.sql and
// run.sh), which can be run by hand:
//
//	bench/pgbench/run.sh postgres://postgres@127.0.0.1:5432/bench 16 10
//
// The files are embedded, so that "creditkit bench --postgres-local
// --pgbench" runs the very same script from any directory.
package pgbench

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed setup.sql debit.sql run.sh
var files embed.FS

// Find returns the path of the pgbench binary: on PATH, else in the newest
// /usr/lib/postgresql/*/bin. It returns "" when there is none.
func Find() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		p := filepath.Join(d, "pgbench")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// versionOf reads the major version out of /usr/lib/postgresql/N/bin.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Result is what one pgbench run measured.
type Result struct {
	Clients  int
	Duration time.Duration
	// TPS is pgbench's transactions per second, each one debit and one
	// journal insert.
	TPS float64
	// Server is the line run.sh prints about the server: its version and
	// its fsync and synchronous_commit settings.
	Server string
	// Output is everything the script printed.
	Output string
}

var tpsLine = regexp.MustCompile(`(?m)^pgbench tps: ([0-9.]+)\s*$`)

// Run writes the scripts to a temp directory and runs run.sh on the
// database at url with clients pgbench clients for d (whole seconds, at
// least one). The database's tables accounts and journal are replaced.
func Run(ctx context.Context, url string, clients int, d time.Duration) (*Result, error) {
	if clients < 1 {
		return nil, fmt.Errorf("pgbench: clients must be at least 1, not %d", clients)
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	dir, err := os.MkdirTemp("", "creditkit-pgbench-")
	if err != nil {
		return nil, fmt.Errorf("pgbench: %w", err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"setup.sql", "debit.sql", "run.sh"} {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("pgbench: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			return nil, fmt.Errorf("pgbench: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(dir, "run.sh"), url, strconv.Itoa(clients), strconv.Itoa(secs))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if bin := Find(); bin != "" {
		// Let run.sh find pgbench (and psql beside it) where Find did.
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String() + "\n" + stdout.String())
		return nil, fmt.Errorf("pgbench: run.sh failed: %w: %s", err, msg)
	}
	out := stdout.String()
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("pgbench: run.sh printed no tps line:\n" + out)
	}
	tps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return nil, fmt.Errorf("pgbench: bad tps %q: %w", m[1], err)
	}
	r := &Result{Clients: clients, Duration: time.Duration(secs) * time.Second, TPS: tps, Output: out}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "postgres ") {
			r.Server = strings.TrimSpace(strings.TrimPrefix(line, "postgres "))
			break
		}
	}
	return r, nil
}
