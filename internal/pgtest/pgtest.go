// Package pgtest runs a throwaway PostgreSQL server for tests: one cluster per
// test package, one fresh database per test.
//
// A test package wires it up in TestMain:
//
//	var cluster *pgtest.Cluster
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDatabaseURL(t, cluster)
//		...
//	}
//
// The server comes from the local PostgreSQL binaries (initdb and postgres on
// PATH, or the newest /usr/lib/postgresql/*/bin), or from an existing server
// named by CREDITKIT_TEST_POSTGRES_URL. When neither is available, tests that
// need PostgreSQL skip, unless CREDITKIT_REQUIRE_POSTGRES=1 makes them fail.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Environment variables that change how tests get a PostgreSQL server.
const (
	// EnvURL names an existing server to use instead of starting one, for
	// example postgres://postgres:secret@localhost:5432/postgres. The user
	// must be allowed to create databases; the URL's database is used to
	// issue CREATE DATABASE.
	EnvURL = "CREDITKIT_TEST_POSTGRES_URL"
	// EnvRequire, set to 1, turns "PostgreSQL is unavailable" from a skip
	// into a test failure (for CI, where a skip would hide a broken setup).
	EnvRequire = "CREDITKIT_REQUIRE_POSTGRES"
	// EnvFsync, set to off, starts the local server with fsync=off. The
	// default keeps fsync on, so tests exercise the same commit path as
	// production.
	EnvFsync = "CREDITKIT_PG_FSYNC"
)

const (
	// startTimeout bounds Main's call to Start.
	startTimeout = 2 * time.Minute
	// stopTimeout bounds how long Stop waits for the server to exit.
	stopTimeout = 30 * time.Second
	// dirPrefix names the temp directories of local clusters, so that the
	// ones left behind by a crashed test binary can be found and removed.
	dirPrefix = "creditkit-pgtest-"
	// ownerFile, inside a cluster's directory, holds the PID of the process
	// that started it.
	ownerFile = "owner.pid"
	// maxIdentifier is PostgreSQL's NAMEDATALEN-1.
	maxIdentifier = 63
)

// Cluster is a running throwaway PostgreSQL server: a local one started by
// Start in a temp directory, or an existing one named by
// CREDITKIT_TEST_POSTGRES_URL.
type Cluster struct {
	// base is the server's URL; URL replaces its path with a database name.
	base *url.URL
	// adminURL is where NewDatabase connects to run CREATE DATABASE.
	adminURL string
	// suffix makes database names unique across processes sharing an
	// external server; empty for a local cluster, which only we use.
	suffix string
	seq    atomic.Uint64

	// Local clusters only.
	dir     string // temp dir: data, socket, log
	binDir  string
	runAs   *osUser // nil: run the binaries as the current user
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's result, valid once exited is closed

	// External servers only: the databases NewDatabase made, dropped by Stop.
	mu      sync.Mutex
	created []string

	stopOnce sync.Once
	stopErr  error
}

// osUser is the OS account the PostgreSQL binaries run as when the test
// process runs as root (initdb and postgres refuse to run as root).
type osUser struct {
	name     string
	uid, gid uint32
}

// Start starts a throwaway PostgreSQL server and waits until it accepts
// connections, or, when CREDITKIT_TEST_POSTGRES_URL is set, checks that the
// server it names answers. Call Stop when done.
//
// The local server listens on 127.0.0.1 on a free port with trust
// authentication for the user postgres, keeps its data, socket and log in a
// temp directory, and stops by itself if the test process dies.
func Start(ctx context.Context) (*Cluster, error) {
	if raw := os.Getenv(EnvURL); raw != "" {
		return startExternal(ctx, raw)
	}
	return startLocal(ctx)
}

// startExternal wraps an existing server.
func startExternal(ctx context.Context, raw string) (*Cluster, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("pgtest: %s must be a postgres:// URL, like postgres://postgres@localhost:5432/postgres", EnvURL)
	}
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return nil, fmt.Errorf("pgtest: random database suffix: %w", err)
	}
	c := &Cluster{base: u, adminURL: raw, suffix: hex.EncodeToString(suffix)}
	if err := c.ping(ctx); err != nil {
		return nil, fmt.Errorf("pgtest: the server in %s (%s) does not answer: %w", EnvURL, u.Redacted(), err)
	}
	return c, nil
}

// startLocal runs initdb and postgres in a new temp directory.
func startLocal(ctx context.Context) (_ *Cluster, err error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := lookupRunAs()
	if err != nil {
		return nil, err
	}
	removeStaleDirs()

	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgtest: create temp dir: %w", err)
	}
	c := &Cluster{dir: dir, binDir: binDir, runAs: runAs}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if runAs != nil {
		if err := os.Chown(dir, int(runAs.uid), int(runAs.gid)); err != nil {
			return nil, fmt.Errorf("pgtest: give %s to the %s user: %w", dir, runAs.name, err)
		}
	}

	args := []string{"-D", c.dataDir(), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-instructions"}
	if fsyncOff() {
		args = append(args, "--no-sync")
	}
	if out, err := c.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb in %s failed: %w\n%s", binDir, err, bytes.TrimSpace(out))
	}

	// Another process may take the free port between our check and the
	// server's bind; try a few ports.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		err = c.serve(ctx, port)
		if err == nil {
			return c, nil
		}
		if attempt == 3 || !strings.Contains(c.logTail(), "could not bind") {
			return nil, err
		}
	}
}

// serve starts postgres on port and waits until it accepts connections.
func (c *Cluster) serve(ctx context.Context, port int) error {
	logFile, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: open server log: %w", err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor

	args := []string{
		"-D", c.dataDir(),
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + c.dir,
		"-c", "max_connections=200",
		"-c", "shared_buffers=128MB",
		"-c", "logging_collector=off",
	}
	if fsyncOff() {
		args = append(args, "-c", "fsync=off")
	}
	// Not c.command: the server must outlive ctx, which only bounds startup.
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr(c.runAs, true)
	exited := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Linux sends the parent-death signal when the thread that started
		// the child ends, not the process: keep this thread alive, and
		// doing nothing else, for as long as the server runs.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	c.cmd = cmd
	c.exited = exited

	c.base = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), RawQuery: "sslmode=disable"}
	c.adminURL = c.URL("postgres")

	for {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.ping(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("pgtest: postgres exited during startup (%v); its log says:\n%s", c.waitErr, c.logTail())
		case <-ctx.Done():
			c.kill()
			<-c.exited
			return fmt.Errorf("pgtest: postgres did not accept connections in time (last error: %v); its log says:\n%s", err, c.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// URL returns the URL of database db on the server, such as
// postgres://postgres@127.0.0.1:PORT/db?sslmode=disable.
func (c *Cluster) URL(db string) string {
	u := *c.base
	u.Path = "/" + db
	u.RawPath = ""
	return u.String()
}

// NewDatabase creates an empty database whose name starts with name
// (sanitized) and is unique on the server, and returns its URL.
func (c *Cluster) NewDatabase(ctx context.Context, name string) (string, error) {
	db := c.databaseName(name)
	conn, err := pgx.Connect(ctx, c.adminURL)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect to %s: %w", c.base.Redacted(), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stmt := "CREATE DATABASE " + pgx.Identifier{db}.Sanitize()
	for attempt := 1; ; attempt++ {
		_, err = conn.Exec(ctx, stmt)
		// CREATE DATABASE fails with object_in_use while another session is
		// connected to the template; that passes.
		var pgErr *pgconn.PgError
		if err == nil || attempt == 10 || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			break
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", db, err)
	}
	if c.dir == "" {
		c.mu.Lock()
		c.created = append(c.created, db)
		c.mu.Unlock()
	}
	return c.URL(db), nil
}

// databaseName turns a test name into a unique PostgreSQL identifier:
// lower case letters, digits and underscores, at most 63 bytes.
func (c *Cluster) databaseName(name string) string {
	tail := "_" + strconv.FormatUint(c.seq.Add(1), 10)
	if c.suffix != "" {
		tail = "_" + c.suffix + tail
	}
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	base := strings.Trim(b.String(), "_")
	if base == "" || (base[0] >= '0' && base[0] <= '9') {
		base = "t_" + base
	}
	if len(base) > maxIdentifier-len(tail) {
		base = base[:maxIdentifier-len(tail)]
	}
	return base + tail
}

// Stop stops a local server at once (pg_ctl stop -m immediate: the data is
// thrown away, so there is nothing to flush) and removes its directory. On
// an external server it drops the databases NewDatabase created. It is safe
// to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		if c.dir == "" {
			c.stopErr = c.dropCreated()
			return
		}
		c.stopErr = c.stopLocal()
	})
	return c.stopErr
}

func (c *Cluster) stopLocal() error {
	var errs []error
	if c.cmd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		out, err := c.command(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "immediate", "-w").CombinedOutput()
		if err != nil {
			c.kill()
		}
		select {
		case <-c.exited:
		case <-ctx.Done():
			c.kill()
			<-c.exited
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("pgtest: pg_ctl stop: %w: %s", err, bytes.TrimSpace(out)))
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("pgtest: remove %s: %w", c.dir, err))
	}
	return errors.Join(errs...)
}

// dropCreated drops the databases made on an external server.
func (c *Cluster) dropCreated() error {
	c.mu.Lock()
	dbs := slices.Clone(c.created)
	c.mu.Unlock()
	if len(dbs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.adminURL)
	if err != nil {
		return fmt.Errorf("pgtest: connect to %s to drop test databases: %w", c.base.Redacted(), err)
	}
	defer conn.Close(ctx)
	var errs []error
	for _, db := range dbs {
		// FORCE ends the sessions a test left open (PostgreSQL 13 and later).
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("pgtest: drop database %s: %w", db, err))
		}
	}
	return errors.Join(errs...)
}

// kill stops the local server without asking.
func (c *Cluster) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
	}
}

// ping connects to the server once.
func (c *Cluster) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.adminURL)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// command prepares one of the PostgreSQL binaries, run as the postgres OS
// user when we are root.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = sysProcAttr(c.runAs, false)
	return cmd
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// logTail returns the end of the server log, for error messages.
func (c *Cluster) logTail() string {
	data, err := os.ReadFile(c.logPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func fsyncOff() bool { return strings.EqualFold(os.Getenv(EnvFsync), "off") }

// findBinDir finds the directory holding initdb, pg_ctl and postgres: the
// one of initdb on PATH, else the newest /usr/lib/postgresql/*/bin (Debian
// and Ubuntu keep them off PATH).
func findBinDir() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			p = resolved
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	candidates = append(candidates, dirs...)
	for _, dir := range candidates {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on PATH or under /usr/lib/postgresql/*/bin; install PostgreSQL (e.g. apt-get install postgresql) or set " + EnvURL)
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.IsDir() {
			return false
		}
	}
	return true
}

// compareVersions compares dotted version numbers such as 9.6 and 15.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// lookupRunAs returns the postgres OS user when we run as root, nil
// otherwise.
func lookupRunAs() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and PostgreSQL refuses to run as root, but there is no postgres user to run it as (%v); create one or run the tests as another user", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: the postgres user has a non-numeric uid %q or gid %q", u.Uid, u.Gid)
	}
	return &osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeStaleDirs removes the cluster directories of test processes that
// died without calling Stop (a panic or a timeout). Their servers stopped
// with them (see sysProcAttr); only the files remain.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		// A young directory may belong to a Start still writing its owner file.
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		if processAlive(readPID(filepath.Join(dir, ownerFile))) ||
			processAlive(readPID(filepath.Join(dir, "data", "postmaster.pid"))) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// readPID reads the number on the first line of a PID file, or 0.
func readPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// Main runs a test package's tests with a cluster, for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }
//
// It starts a cluster into *c, runs the tests and stops the cluster. When no
// cluster can start, it leaves *c nil, prints why, and still runs the tests:
// NewDatabaseURL then skips (or fails, with CREDITKIT_REQUIRE_POSTGRES=1).
func Main(m *testing.M, c **Cluster) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	cluster, err := Start(ctx)
	cancel()
	if err != nil {
		verdict := "skip"
		if requirePostgres() {
			verdict = "fail (" + EnvRequire + "=1)"
		}
		fmt.Fprintf(os.Stderr, "pgtest: no PostgreSQL, tests that need it will %s: %v\n", verdict, err)
	}
	*c = cluster
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// NewDatabaseURL creates a fresh database for the test on c and returns its
// URL. When c is nil (no PostgreSQL), it skips the test, or fails it when
// CREDITKIT_REQUIRE_POSTGRES=1.
func NewDatabaseURL(t testing.TB, c *Cluster) string {
	t.Helper()
	if c == nil {
		const why = "no PostgreSQL server: install PostgreSQL (initdb, pg_ctl, postgres) or set " + EnvURL + "; TestMain printed why it could not start one"
		if requirePostgres() {
			t.Fatal("pgtest: " + EnvRequire + "=1 but " + why)
		}
		t.Skip("pgtest: skipped: " + why)
	}
	u, err := c.NewDatabase(t.Context(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func requirePostgres() bool { return os.Getenv(EnvRequire) == "1" }
