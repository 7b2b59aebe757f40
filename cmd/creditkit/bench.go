package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/auth"
	"github.com/creditkit/creditkit/bench/pgbench"
	"github.com/creditkit/creditkit/httpapi"
	"github.com/creditkit/creditkit/internal/bench"
	"github.com/creditkit/creditkit/internal/pgtest"
	"github.com/creditkit/creditkit/store"
)

// benchConfigName names the built-in benchmark config in messages.
const benchConfigName = "benchmark config (built in)"

// benchConfig is the config bench runs with when there is no config file:
// one whole-credit currency and the 1-credit operation every spend charges.
const benchConfig = `currency: { name: credits, decimals: 0 }
operations:
  send_email: 1 credit
`

// BenchCmd measures the ledger: spends per second with their latency
// percentiles, balance reads per second, with batching on and off, and
// checks the ledger afterwards.
type BenchCmd struct {
	Callers        string        `name:"callers" default:"64" placeholder:"N[,N...]" help:"Concurrent closed-loop callers; a comma-separated list (1,16,64,512) runs a sweep."`
	Customers      int           `name:"customers" default:"1000" placeholder:"M" help:"Customers the callers spread their spends over, at random."`
	Duration       time.Duration `name:"duration" default:"10s" help:"How long spends are measured, and then balance reads."`
	Warmup         time.Duration `name:"warmup" default:"2s" help:"Unmeasured load before each measured phase."`
	Batching       string        `name:"batching" default:"on" enum:"on,off,both" help:"Group commit: on, off (one commit per spend), or both to show the gain."`
	Operation      string        `name:"operation" default:"send_email" help:"Operation each spend charges; the config must price it."`
	ReadMix        float64       `name:"read-mix" default:"0" placeholder:"F" help:"Fraction of requests that are balance reads, mixed with the spends; 0 measures reads in a phase of their own."`
	NoReads        bool          `name:"no-reads" help:"Skip the balance-read phase."`
	Entries        int64         `name:"entries" default:"0" placeholder:"N" help:"Pre-fill each database with N ledger entries (on other customers) before measuring."`
	Lanes          int           `name:"lanes" default:"0" placeholder:"N" help:"Write lanes (batches committing at once); 0 is the store's default."`
	MaxBatch       int           `name:"max-batch" default:"0" placeholder:"N" help:"Most writes in one batch; 0 is the default (256)."`
	PostgresLocal  bool          `name:"postgres-local" help:"Start a throwaway PostgreSQL cluster (fsync on) from the local binaries and bench on it."`
	Pgbench        bool          `name:"pgbench" help:"With --postgres-local: also run bench/pgbench (one debit + one journal insert per commit) on the same cluster and print the ratio."`
	PgbenchClients string        `name:"pgbench-clients" default:"16,64" placeholder:"N[,N...]" help:"pgbench client counts; the best rate is the reference."`
	HTTP           bool          `name:"http" help:"Serve each run's ledger over HTTP on 127.0.0.1 in this process and drive it through the HTTP client. With the global --server URL --api-key KEY, bench drives that running server instead."`
}

// benchRow is one line of the results: a library run or a pgbench run.
type benchRow struct {
	// Kind is "library" or "pgbench".
	Kind      string `json:"kind"`
	Store     string `json:"store"`
	Callers   int    `json:"callers"`
	Batching  string `json:"batching,omitempty"`
	Customers int    `json:"customers,omitempty"`
	// PrefilledEntries is how many entries the database held before the run.
	PrefilledEntries int64   `json:"prefilled_entries"`
	DurationSec      float64 `json:"duration_s"`

	Spends       int64            `json:"spends"`
	SpendsPerSec float64          `json:"spends_per_sec"`
	P50ms        float64          `json:"p50_ms"`
	P99ms        float64          `json:"p99_ms"`
	P999ms       float64          `json:"p999_ms"`
	MaxMs        float64          `json:"max_ms"`
	Errors       map[string]int64 `json:"errors"`
	Overloaded   int64            `json:"overloaded"`

	Reads       int64            `json:"reads"`
	ReadsPerSec float64          `json:"reads_per_sec"`
	ReadP50ms   float64          `json:"read_p50_ms"`
	ReadP99ms   float64          `json:"read_p99_ms"`
	ReadP999ms  float64          `json:"read_p999_ms"`
	ReadErrors  map[string]int64 `json:"read_errors,omitempty"`

	Verified      bool   `json:"verified"`
	VerifyMessage string `json:"verify_message"`

	// PgbenchTPS is the reference rate (the best pgbench run), and
	// RatioToPgbench spends_per_sec over it, when pgbench ran.
	PgbenchTPS     float64 `json:"pgbench_tps,omitempty"`
	RatioToPgbench float64 `json:"ratio_to_pgbench,omitempty"`
	// TPS is pgbench's rate, on pgbench rows.
	TPS float64 `json:"tps,omitempty"`

	Server string `json:"server,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// benchCase is one configuration of a sweep.
type benchCase struct {
	callers  int
	batching bool
}

// benchNoRetries turns the client's retries off: bench measures each
// request as the server answers it, an overload included.
const benchNoRetries = -1

// Run runs the benchmark sweep and prints the table, or the rows as JSON.
func (c *BenchCmd) Run(s *session, kctx *kong.Context) error {
	callers, err := parseCounts("--callers", c.Callers)
	if err != nil {
		return err
	}
	var pgClients []int
	if c.Pgbench {
		if !c.PostgresLocal {
			return errorfCode(creditkit.CodeInvalidRequest, "--pgbench needs --postgres-local: it runs pgbench on the throwaway cluster, never on your database")
		}
		if pgClients, err = parseCounts("--pgbench-clients", c.PgbenchClients); err != nil {
			return err
		}
		if pgbench.Find() == "" {
			return errorfCode(creditkit.CodeInvalidRequest, "--pgbench: pgbench is not on PATH nor in /usr/lib/postgresql/*/bin")
		}
	}
	switch {
	case c.Customers < 1:
		return errorfCode(creditkit.CodeInvalidRequest, "--customers must be at least 1, not %d", c.Customers)
	case c.Duration <= 0:
		return errorfCode(creditkit.CodeInvalidRequest, "--duration must be above zero, not %s", c.Duration)
	case c.Warmup < 0:
		return errorfCode(creditkit.CodeInvalidRequest, "--warmup must not be negative")
	case c.Entries < 0:
		return errorfCode(creditkit.CodeInvalidRequest, "--entries must not be negative")
	case c.ReadMix < 0 || c.ReadMix > 1:
		return errorfCode(creditkit.CodeInvalidRequest, "--read-mix must be between 0 and 1, not %g", c.ReadMix)
	}
	if s.globals.Server != "" {
		return c.runAgainstServer(s, callers)
	}
	dbGiven := flagSet(kctx, "db")
	if c.PostgresLocal && dbGiven {
		return errorfCode(creditkit.CodeInvalidRequest, "give either --db or --postgres-local, not both")
	}
	cfg, err := s.loadConfig(func() (*creditkit.Config, error) {
		return creditkit.ParseConfig(benchConfigName, []byte(benchConfig))
	})
	if err != nil {
		return err
	}
	if _, _, err := cfg.Price(c.Operation, nil); err != nil {
		return fmt.Errorf("bench spends %q, which the config cannot price (%w): add it to the config, such as \"%s: 1 credit\", or pass --operation", c.Operation, err, c.Operation)
	}
	if cfg.Logger == nil {
		cfg.Logger = s.logger
	}

	dbs, err := c.databases(s, dbGiven)
	if err != nil {
		return err
	}
	defer func() {
		if err := dbs.close(); err != nil {
			s.logger.Warn("cleaning up benchmark databases", "err", err)
		}
	}()
	commit := vcsCommit()
	server, err := dbs.describe(s.ctx)
	if err != nil {
		return err
	}
	if !s.globals.JSON {
		c.printHeader(s.stdout, dbs, server, commit)
	}

	var cases []benchCase
	for _, n := range callers {
		if c.Batching != "off" {
			cases = append(cases, benchCase{callers: n, batching: true})
		}
		if c.Batching != "on" {
			cases = append(cases, benchCase{callers: n, batching: false})
		}
	}
	if c.Entries > 0 {
		if err := c.prefill(s, dbs, cfg); err != nil {
			return err
		}
	}

	var rows []*benchRow
	failed := 0
	for i, bc := range cases {
		row, err := c.runCase(s, dbs, cfg, bc, i)
		if err != nil {
			return err
		}
		row.Server, row.Commit = server, commit
		if !row.Verified {
			failed++
		}
		rows = append(rows, row)
	}

	var pgRows []*benchRow
	if c.Pgbench {
		url, err := dbs.fresh(s.ctx, "pgbench", false)
		if err != nil {
			return err
		}
		for _, n := range pgClients {
			fmt.Fprintf(s.stderr, "bench: pgbench, %d clients, %s...\n", n, c.Duration)
			r, err := pgbench.Run(s.ctx, url, n, c.Duration)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.stderr, "bench: pgbench, %d clients: %.0f tps\n", n, r.TPS)
			pgRows = append(pgRows, &benchRow{Kind: "pgbench", Store: "postgres", Callers: n, DurationSec: r.Duration.Seconds(),
				TPS: r.TPS, Server: server, Commit: commit})
		}
		best := 0.0
		for _, r := range pgRows {
			best = max(best, r.TPS)
		}
		for _, r := range rows {
			r.PgbenchTPS = best
			if best > 0 {
				r.RatioToPgbench = r.SpendsPerSec / best
			}
		}
	}

	all := append(rows, pgRows...)
	if err := s.output(all, func(w io.Writer) { c.printTable(w, rows, pgRows) }); err != nil {
		return err
	}
	if failed > 0 {
		return errorfCode(creditkit.CodeInternal, "the ledger check failed after %d of %d runs: see verify_message", failed, len(rows))
	}
	return nil
}

// runCase benchmarks one configuration on a fresh database.
func (c *BenchCmd) runCase(s *session, dbs *benchDBs, base *creditkit.Config, bc benchCase, i int) (*benchRow, error) {
	mode := onOff(bc.batching)
	url, err := dbs.fresh(s.ctx, fmt.Sprintf("bench_c%d_%s", bc.callers, mode), c.Entries > 0)
	if err != nil {
		return nil, err
	}
	cfg := *base
	cfg.Writes = creditkit.WriteConfig{NoBatching: !bc.batching, Lanes: c.Lanes, MaxBatch: c.MaxBatch}
	prefix := bench.DefaultPrefix
	if dbs.shared {
		// Runs share the user's database: keep their customers apart.
		prefix = fmt.Sprintf("bench-%d-%d-", time.Now().Unix(), i)
	}
	fmt.Fprintf(s.stderr, "bench: %s, %d callers, batching %s, %d customers, %s + %s warmup...\n",
		dbs.kind, bc.callers, mode, c.Customers, c.Duration, c.Warmup)
	var res *bench.Result
	kind, storeName := "library", dbs.kind
	if c.HTTP {
		kind, storeName = "http", "http+"+dbs.kind
	}
	err = c.withLedgerAt(s, url, &cfg, func(l *creditkit.Ledger) error {
		var target bench.Target = l
		if c.HTTP {
			client, stop, err := serveForBench(s.ctx, l, bc.callers)
			if err != nil {
				return err
			}
			defer stop()
			target = client
		}
		res, err = bench.Run(s.ctx, bench.Options{
			Target: target, Callers: bc.callers, Customers: c.Customers, Duration: c.Duration, Warmup: c.Warmup,
			Operation: c.Operation, ReadMix: c.ReadMix, NoReads: c.NoReads, Prefix: prefix,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.stderr, "bench: %s, %d callers, batching %s: %.0f spends/s, p99 %s, %.0f reads/s; %s\n",
		dbs.kind, bc.callers, mode, res.SpendsPerSec, fmtLatency(res.P99), res.ReadsPerSec, res.VerifyMessage)
	return &benchRow{
		Kind: kind, Store: storeName, Callers: bc.callers, Batching: mode, Customers: c.Customers,
		PrefilledEntries: dbs.prefilled, DurationSec: res.Duration.Seconds(),
		Spends: res.Spends, SpendsPerSec: res.SpendsPerSec,
		P50ms: ms(res.P50), P99ms: ms(res.P99), P999ms: ms(res.P999), MaxMs: ms(res.Max),
		Errors: res.Errors, Overloaded: res.Overloaded,
		Reads: res.Reads, ReadsPerSec: res.ReadsPerSec,
		ReadP50ms: ms(res.ReadP50), ReadP99ms: ms(res.ReadP99), ReadP999ms: ms(res.ReadP999), ReadErrors: res.ReadErrors,
		Verified: res.Verified, VerifyMessage: res.VerifyMessage,
	}, nil
}

// benchHTTPClient returns an HTTP client that keeps a connection per
// caller, as a real client pool would, instead of reconnecting.
func benchHTTPClient(callers int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = callers + 16
	tr.MaxIdleConnsPerHost = callers + 16
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// serveForBench serves l on 127.0.0.1 in this process with a write key and
// returns a client of it, and a function that stops the server.
func serveForBench(ctx context.Context, l *creditkit.Ledger, callers int) (*httpapi.Client, func(), error) {
	st, err := serverStoreOf(l)
	if err != nil {
		return nil, nil, err
	}
	srv, err := httpapi.New(ctx, l, &httpapi.Options{ServerStore: st})
	if err != nil {
		return nil, nil, err
	}
	_, key, err := auth.CreateKey(ctx, st, "bench", store.ScopeWrite, l.Now())
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(sctx, ln, 10*time.Second) }()
	hc := benchHTTPClient(callers)
	client, err := httpapi.NewClient("http://"+ln.Addr().String(), key, &httpapi.ClientOptions{HTTPClient: hc, MaxRetries: benchNoRetries})
	stop := func() { hc.CloseIdleConnections(); cancel(); <-done }
	if err != nil {
		stop()
		return nil, nil, err
	}
	return client, stop, nil
}

// runAgainstServer drives the running server of --server with each caller
// count. The server's own config decides batching; the ledger check reads
// back the benchmark's customers through the API.
func (c *BenchCmd) runAgainstServer(s *session, callers []int) error {
	if c.PostgresLocal || c.Pgbench || c.Entries > 0 || c.Batching != "on" || c.Lanes != 0 || c.MaxBatch != 0 {
		return errorfCode(creditkit.CodeInvalidRequest, "with --server, the server's database and config decide: drop --postgres-local, --pgbench, --entries, --batching, --lanes and --max-batch")
	}
	var rows []*benchRow
	failed := 0
	for i, n := range callers {
		hc := benchHTTPClient(n)
		client, err := httpapi.NewClient(s.globals.Server, s.globals.APIKey, &httpapi.ClientOptions{HTTPClient: hc, MaxRetries: benchNoRetries})
		if err != nil {
			return &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: err.Error()}
		}
		prefix := fmt.Sprintf("bench-%d-%d-", time.Now().Unix(), i)
		fmt.Fprintf(s.stderr, "bench: server %s, %d callers, %d customers, %s + %s warmup...\n", s.globals.Server, n, c.Customers, c.Duration, c.Warmup)
		res, err := bench.Run(s.ctx, bench.Options{
			Target: client, Callers: n, Customers: c.Customers, Duration: c.Duration, Warmup: c.Warmup,
			Operation: c.Operation, ReadMix: c.ReadMix, NoReads: c.NoReads, Prefix: prefix,
		})
		hc.CloseIdleConnections()
		if err != nil {
			return err
		}
		row := &benchRow{Kind: "http", Store: "server", Callers: n, Batching: "server", Customers: c.Customers,
			DurationSec: res.Duration.Seconds(), Spends: res.Spends, SpendsPerSec: res.SpendsPerSec,
			P50ms: ms(res.P50), P99ms: ms(res.P99), P999ms: ms(res.P999), MaxMs: ms(res.Max),
			Errors: res.Errors, Overloaded: res.Overloaded,
			Reads: res.Reads, ReadsPerSec: res.ReadsPerSec,
			ReadP50ms: ms(res.ReadP50), ReadP99ms: ms(res.ReadP99), ReadP999ms: ms(res.ReadP999), ReadErrors: res.ReadErrors,
			Verified: res.Verified, VerifyMessage: res.VerifyMessage, Server: s.globals.Server, Commit: vcsCommit()}
		if !row.Verified {
			failed++
		}
		rows = append(rows, row)
	}
	if err := s.output(rows, func(w io.Writer) {
		fmt.Fprintf(w, "creditkit bench: server %s, %d customers, %s measured after %s warmup, operation %s, closed loop over HTTP\n\n",
			s.globals.Server, c.Customers, c.Duration, c.Warmup, c.Operation)
		c.printTable(w, rows, nil)
	}); err != nil {
		return err
	}
	if failed > 0 {
		return errorfCode(creditkit.CodeInternal, "the ledger check failed after %d of %d runs: see verify_message", failed, len(rows))
	}
	return nil
}

// withLedgerAt opens the ledger at url with cfg, as withLedger does for
// --db, runs fn and closes the ledger.
func (c *BenchCmd) withLedgerAt(s *session, url string, cfg *creditkit.Config, fn func(l *creditkit.Ledger) error) (err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.openTimeout)
	l, err := creditkit.Open(ctx, url, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	return fn(l)
}

// prefill writes --entries entries into the template database every run
// copies (or into the shared database), through the ledger with batching on.
func (c *BenchCmd) prefill(s *session, dbs *benchDBs, base *creditkit.Config) error {
	url, err := dbs.template(s.ctx)
	if err != nil {
		return err
	}
	cfg := *base
	cfg.Writes = creditkit.WriteConfig{Lanes: c.Lanes, MaxBatch: c.MaxBatch}
	fmt.Fprintf(s.stderr, "bench: pre-filling %s with %d entries...\n", dbs.kind, c.Entries)
	var res *bench.FillResult
	err = c.withLedgerAt(s, url, &cfg, func(l *creditkit.Ledger) error {
		res, err = bench.Fill(s.ctx, l, bench.FillOptions{
			Entries: c.Entries, Operation: c.Operation,
			Progress: func(done int64, elapsed time.Duration) {
				if elapsed.Round(time.Second)%(10*time.Second) == 0 {
					fmt.Fprintf(s.stderr, "bench: pre-fill: %d of %d entries after %s\n", done, c.Entries, elapsed.Round(time.Second))
				}
			},
		})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "bench: pre-filled %d entries on %d customers in %s (%.0f entries/s)\n",
		res.Entries, res.Customers, res.Took.Round(time.Second), res.PerSec)
	dbs.prefilled = res.Entries
	return dbs.sealTemplate(s.ctx)
}

// printHeader prints what is measured, where.
func (c *BenchCmd) printHeader(w io.Writer, dbs *benchDBs, server, commit string) {
	fmt.Fprintf(w, "creditkit bench: %s, %d customers, %s measured after %s warmup, operation %s, closed loop\n",
		dbs.kind, c.Customers, c.Duration, c.Warmup, c.Operation)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s memory, %s %s/%s",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if commit != "" {
		fmt.Fprintf(w, ", commit %s", commit)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "database: %s\n\n", server)
}

// printTable prints the rows for people.
func (c *BenchCmd) printTable(w io.Writer, rows, pgRows []*benchRow) {
	t := newTable(w)
	head := []string{"STORE", "CALLERS", "BATCHING", "SPENDS/S", "P50", "P99", "P999", "READS/S", "READ P99", "ERRORS", "VERIFIED"}
	if c.Entries > 0 {
		head = append(head, "PREFILLED")
	}
	if len(pgRows) > 0 {
		head = append(head, "VS PGBENCH")
	}
	t.row(head...)
	for _, r := range rows {
		verified := "yes"
		if !r.Verified {
			verified = "NO"
		}
		reads, readP99 := "-", "-"
		if r.Reads > 0 {
			reads, readP99 = fmt.Sprintf("%.0f", r.ReadsPerSec), fmtMs(r.ReadP99ms)
		}
		cells := []string{r.Store, strconv.Itoa(r.Callers), r.Batching, fmt.Sprintf("%.0f", r.SpendsPerSec),
			fmtMs(r.P50ms), fmtMs(r.P99ms), fmtMs(r.P999ms), reads, readP99, bench.FormatErrors(r.Errors), verified}
		if c.Entries > 0 {
			cells = append(cells, strconv.FormatInt(r.PrefilledEntries, 10))
		}
		if len(pgRows) > 0 {
			cells = append(cells, fmt.Sprintf("%.2fx", r.RatioToPgbench))
		}
		t.row(cells...)
	}
	t.flush()
	if len(pgRows) > 0 {
		fmt.Fprintln(w)
		t := newTable(w)
		t.row("PGBENCH CLIENTS", "TPS", "SCRIPT")
		for _, r := range pgRows {
			t.row(strconv.Itoa(r.Callers), fmt.Sprintf("%.0f", r.TPS), "bench/pgbench/debit.sql (1 guarded debit + 1 journal insert per commit)")
		}
		t.flush()
	}
	for _, r := range rows {
		if !r.Verified {
			fmt.Fprintf(w, "\nledger check, %d callers, batching %s: %s\n", r.Callers, r.Batching, r.VerifyMessage)
		}
	}
}

// benchDBs hands out a database per benchmark run: a new SQLite file in a
// temp directory, a new database on a throwaway PostgreSQL cluster, or the
// user's --db for every run.
type benchDBs struct {
	// kind is "sqlite" or "postgres".
	kind string
	// shared is true when every run uses the user's --db.
	shared bool
	url    string // --db, when shared

	dir     string // temp directory of SQLite files
	cluster *pgtest.Cluster

	// tmpl is the pre-filled database runs copy, if any; prefilled counts
	// its entries.
	tmpl      string
	prefilled int64
	seq       int
}

// databases decides where the runs go: --postgres-local, --db, or fresh
// temp SQLite files.
func (c *BenchCmd) databases(s *session, dbGiven bool) (*benchDBs, error) {
	switch {
	case c.PostgresLocal:
		fmt.Fprintln(s.stderr, "bench: starting a throwaway PostgreSQL cluster...")
		cl, err := pgtest.Start(s.ctx)
		if err != nil {
			return nil, err
		}
		return &benchDBs{kind: "postgres", cluster: cl}, nil
	case dbGiven:
		url := s.dbURL()
		kind := "postgres"
		if strings.HasPrefix(url, "sqlite:") {
			kind = "sqlite"
		}
		return &benchDBs{kind: kind, shared: true, url: url}, nil
	default:
		dir, err := os.MkdirTemp("", "creditkit-bench-")
		if err != nil {
			return nil, err
		}
		return &benchDBs{kind: "sqlite", dir: dir}, nil
	}
}

// fresh returns the URL of a database for one run: a copy of the
// pre-filled template when fromTemplate and there is one, else an empty one.
func (d *benchDBs) fresh(ctx context.Context, name string, fromTemplate bool) (string, error) {
	d.seq++
	name = fmt.Sprintf("%s_%d", name, d.seq)
	switch {
	case d.shared:
		return d.url, nil
	case d.cluster != nil:
		if fromTemplate && d.tmpl != "" {
			return d.copyPostgres(ctx, name)
		}
		return d.cluster.NewDatabase(ctx, name)
	default:
		path := filepath.Join(d.dir, name+".db")
		if fromTemplate && d.tmpl != "" {
			for _, suffix := range []string{"", "-wal"} {
				if err := copyFile(d.tmpl+suffix, path+suffix); err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
					return "", fmt.Errorf("copy the pre-filled database: %w", err)
				}
			}
		}
		return "sqlite:" + path, nil
	}
}

// template returns the URL of the database to pre-fill.
func (d *benchDBs) template(ctx context.Context) (string, error) {
	switch {
	case d.shared:
		return d.url, nil
	case d.cluster != nil:
		url, err := d.cluster.NewDatabase(ctx, "bench_template")
		if err != nil {
			return "", err
		}
		u, err := pgconn.ParseConfig(url)
		if err != nil {
			return "", err
		}
		d.tmpl = u.Database
		return url, nil
	default:
		d.tmpl = filepath.Join(d.dir, "template.db")
		return "sqlite:" + d.tmpl, nil
	}
}

// sealTemplate readies the pre-filled database for copying: on PostgreSQL
// it is vacuumed and analyzed, so that the runs do not start with
// autovacuum's backlog.
func (d *benchDBs) sealTemplate(ctx context.Context) error {
	if d.cluster == nil {
		return nil
	}
	conn, err := pgx.Connect(ctx, d.cluster.URL(d.tmpl))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
		return fmt.Errorf("vacuum the pre-filled database: %w", err)
	}
	return nil
}

// copyPostgres creates database name as a copy of the template.
func (d *benchDBs) copyPostgres(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, d.cluster.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{d.tmpl}.Sanitize()
	for attempt := 1; ; attempt++ {
		_, err = conn.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		// 55006: the template still has a session (the filling pool closing).
		if err == nil || attempt == 50 || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			break
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return "", err
		}
	}
	if err != nil {
		return "", fmt.Errorf("copy the pre-filled database: %w", err)
	}
	return d.cluster.URL(name), nil
}

// describe names the database and its durability settings.
func (d *benchDBs) describe(ctx context.Context) (string, error) {
	switch {
	case d.kind == "sqlite":
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			return "", err
		}
		defer db.Close()
		var version string
		if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
			return "", err
		}
		where := "fresh temp file per run"
		if d.shared {
			where = "--db, shared by every run"
		}
		return fmt.Sprintf("SQLite %s (modernc.org/sqlite), journal_mode=WAL, synchronous=FULL, %s", version, where), nil
	default:
		url := d.url
		if d.cluster != nil {
			url = d.cluster.URL("postgres")
		}
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return "", fmt.Errorf("connect to describe the server: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		var version, fsync, syncCommit, walSync, buffers, maxConns string
		err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
			current_setting('synchronous_commit'), current_setting('wal_sync_method'),
			current_setting('shared_buffers'), current_setting('max_connections')`).Scan(&version, &fsync, &syncCommit, &walSync, &buffers, &maxConns)
		if err != nil {
			return "", fmt.Errorf("read the server's settings: %w", err)
		}
		where := "throwaway local cluster, fresh database per run"
		if d.shared {
			where = "--db, shared by every run"
		}
		return fmt.Sprintf("PostgreSQL %s, fsync=%s, synchronous_commit=%s, wal_sync_method=%s, shared_buffers=%s, max_connections=%s, %s",
			version, fsync, syncCommit, walSync, buffers, maxConns, where), nil
	}
}

// close removes the temp files or stops the cluster.
func (d *benchDBs) close() error {
	switch {
	case d.cluster != nil:
		return d.cluster.Stop()
	case d.dir != "":
		return os.RemoveAll(d.dir)
	}
	return nil
}

// parseCounts parses "64" or "1,16,64,512".
func parseCounts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, errorfCode(creditkit.CodeInvalidRequest, "%s: %q is not a count of at least 1: give a number or a list, such as 1,16,64,512", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// flagSet reports whether the flag name was given, on the command line or
// through its environment variable, rather than left to its default: kong
// records both in the context's path, defaults not.
func flagSet(kctx *kong.Context, name string) bool {
	if kctx == nil {
		return false
	}
	for _, p := range kctx.Path {
		if p.Flag != nil && p.Flag.Name == name {
			return true
		}
	}
	return false
}

// errorfCode builds a coded creditkit error.
func errorfCode(code creditkit.ErrorCode, format string, args ...any) error {
	return &creditkit.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// onOff names a batching mode.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtMs prints a latency given in milliseconds with three significant digits.
func fmtMs(v float64) string {
	return fmtLatency(time.Duration(v * float64(time.Millisecond)))
}

// fmtLatency prints a latency with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", ms(d))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", ms(d))
	}
	return fmt.Sprintf("%.0fms", ms(d))
}

// copyFile copies src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// memTotal reads the machine's memory from /proc/meminfo, or "?" when it
// cannot.
func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "?"
}

// vcsCommit returns the commit the binary was built from, with "+dirty"
// when the tree had changes, or "" when the build did not record it.
func vcsCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
