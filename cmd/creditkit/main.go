// Command creditkit is the admin's hands on a creditkit ledger: it grants,
// spends, transfers and voids credits, shows balances and history, and
// applies migrations, on a local SQLite file or a PostgreSQL database.
//
// Run "creditkit --help" for the list of commands.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/creditkit/creditkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit codes returned by Main.Run, the same for every command.
const (
	// ExitOK means the command succeeded.
	ExitOK = 0
	// ExitError means the command ran and was refused or failed: an
	// amount, a time, a param or a config the ledger does not accept, not
	// enough credits, an unknown grant, an unreachable database. The
	// reason is on stderr (on stdout as JSON with --json).
	ExitError = 1
	// ExitUsage means the command line could not be parsed: an unknown
	// command or flag, a missing argument, a flag value of the wrong type,
	// flags that exclude each other. Nothing ran.
	ExitUsage = 2
)

// DefaultOpenTimeout bounds how long opening the database (connecting and
// applying migrations) may take before the command gives up.
const DefaultOpenTimeout = 10 * time.Second

// Main is the creditkit program. Its fields are everything the program takes
// from the process, so that tests can run it in-process.
type Main struct {
	// Stdout receives the command's output. Defaults to io.Discard.
	Stdout io.Writer
	// Stderr receives errors and logs. Defaults to io.Discard.
	Stderr io.Writer
	// Getenv reads environment variables (CREDITKIT_DB, CREDITKIT_CONFIG).
	// Defaults to one that finds nothing.
	Getenv func(string) string
	// Dir is the directory relative paths are resolved against: the default
	// ./creditkit.yaml, a relative --config file and a relative sqlite:
	// database path. Defaults to the process's working directory.
	Dir string
	// OpenTimeout bounds opening the database (connecting and applying
	// migrations) for every command but migrate. Defaults to
	// DefaultOpenTimeout.
	OpenTimeout time.Duration
	// Clock, if set, replaces the config's clock, so that tests can move
	// time. Nil means the system clock.
	Clock creditkit.Clock
	// Ready, if set, receives serve's base URL (http://HOST:PORT) once it
	// listens and its start-up check is logged, so that a caller need
	// not read stdout. Serve never blocks on it: give it room for one
	// value.
	Ready chan<- string
}

// NewMain returns a Main wired to the process: os.Stdout, os.Stderr and
// os.Getenv.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// kongExit is panicked by kong's exit hook (after --help) so that Run can
// return instead of the process exiting.
type kongExit int

// Run runs the command line args (without the program name) and returns the
// process exit code: ExitOK, ExitError, or ExitUsage.
func (m *Main) Run(ctx context.Context, args []string) (exitCode int) {
	stdout, stderr := orDiscard(m.Stdout), orDiscard(m.Stderr)
	getenv := m.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("creditkit"),
		kong.Description("Grant, spend and audit in-app credits on a creditkit ledger."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.Resolvers(envResolver(getenv)),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		// The grammar is static; this is a programming error.
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitError
	}
	defer func() {
		if r := recover(); r != nil {
			code, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			exitCode = int(code)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		return m.usageError(stdout, stderr, args, err)
	}
	level := slog.LevelWarn
	if cli.Verbose {
		level = slog.LevelDebug
	}
	s := &session{
		ctx:         ctx,
		globals:     &cli.Globals,
		stdout:      stdout,
		stderr:      stderr,
		dir:         m.Dir,
		openTimeout: m.OpenTimeout,
		clock:       m.Clock,
		ready:       m.Ready,
		logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		command:     commandOf(kctx),
	}
	if s.openTimeout <= 0 {
		s.openTimeout = DefaultOpenTimeout
	}
	if err := kctx.Run(s); err != nil {
		s.fail(err)
		return ExitError
	}
	return ExitOK
}

// negativeNumberRE matches an argument that kong takes for a short flag but
// the user meant as a negative amount.
var negativeNumberRE = regexp.MustCompile(`^-[0-9]+(\.[0-9]*)?$`)

// usageError reports a command line kong could not parse, in the same shape
// as every other error, and returns its exit code: ExitUsage, but
// ExitError for a negative amount, which the ledger refuses like a zero
// one.
func (m *Main) usageError(stdout, stderr io.Writer, args []string, err error) int {
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	code, exit := "invalid_request", ExitUsage
	msg := err.Error() + `; run "creditkit --help" for usage`
	for _, a := range args[:end] {
		if negativeNumberRE.MatchString(a) && strings.HasPrefix(err.Error(), "unknown flag "+a[:2]) {
			// "creditkit grant alice -5" reads -5 as the short flag -5 (and -5.5
			// too): say what went wrong.
			code, exit = "invalid_amount", ExitError
			msg = fmt.Sprintf("amount %s is negative: amounts must be greater than zero", a)
			break
		}
	}
	reportError(stdout, stderr, slices.Contains(args[:end], "--json"), errorBody{Code: code, Message: oneLine(msg)})
	return exit
}

// envResolver fills the flags tagged envvar:"NAME" from getenv when they
// are not given on the command line. Kong's own env tag reads the process
// environment directly, which tests running in parallel cannot isolate.
func envResolver(getenv func(string) string) kong.Resolver {
	return kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
		name := flag.Tag.Get("envvar")
		if name == "" {
			return nil, nil
		}
		if v := getenv(name); v != "" {
			return v, nil
		}
		return nil, nil
	})
}

// orDiscard returns w, or io.Discard when w is nil.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// oneLine folds a multi-line message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
