package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// defaultConfigFile is the config file used when --config is not given and
// the file exists in the working directory.
const defaultConfigFile = "creditkit.yaml"

// actor is recorded on every entry the CLI writes.
const actor = "cli"

// session is what one run of a command works with. Every command's Run
// method receives it.
type session struct {
	ctx         context.Context
	globals     *Globals
	stdout      io.Writer
	stderr      io.Writer
	dir         string
	openTimeout time.Duration
	clock       creditkit.Clock
	getenv      func(string) string
	ready       chan<- string
	logger      *slog.Logger

	// cfg is the loaded config, once loadConfig succeeded; errors use it to
	// format amounts.
	cfg *creditkit.Config

	// remote is the client of --server, once made, and catalog the
	// server's catalog, once read.
	remote  *httpapi.Client
	catalog *httpapi.Catalog

	// command is the command being run, and commandRecorded whether its
	// audit record was written (audit.go).
	command         any
	commandRecorded bool
	// result is what the command printed last (s.output), for its audit
	// record: the ID it made, the customer it acted on.
	result any
}

// backend is what the ledger verbs call: a *creditkit.Ledger on --db, or an
// *httpapi.Client of --server.
type backend interface {
	Balance(ctx context.Context, customer string, opts *creditkit.BalanceOpts) (*creditkit.Balance, error)
	History(ctx context.Context, customer string, f *creditkit.HistoryFilter) ([]*creditkit.Entry, error)
	Grant(ctx context.Context, customer string, amount creditkit.Amount, opts *creditkit.GrantOpts) (*creditkit.Grant, error)
	Grants(ctx context.Context, customer string, f *creditkit.GrantFilter) ([]*creditkit.Grant, error)
	Void(ctx context.Context, grantID string, opts *creditkit.VoidOpts) (*creditkit.Entry, error)
	Spend(ctx context.Context, customer, operation string, params creditkit.Params, opts *creditkit.SpendOpts) (*creditkit.Entry, error)
	Debit(ctx context.Context, customer string, amount creditkit.Amount, opts *creditkit.DebitOpts) (*creditkit.Entry, error)
	Hold(ctx context.Context, customer, operation string, params creditkit.Params, opts *creditkit.HoldOpts) (*creditkit.Hold, error)
	GetHold(ctx context.Context, holdID string) (*creditkit.Hold, error)
	Capture(ctx context.Context, holdID string, amount *creditkit.Amount, opts *creditkit.CaptureOpts) (*creditkit.Entry, error)
	Release(ctx context.Context, holdID string, opts *creditkit.CaptureOpts) (*creditkit.Hold, error)
	Transfer(ctx context.Context, from, to string, amount creditkit.Amount, opts *creditkit.TransferOpts) (*creditkit.TransferResult, error)
	RunDue(ctx context.Context) (creditkit.DueResult, error)
	GetGrant(ctx context.Context, id string) (*creditkit.Grant, error)
	Reverse(ctx context.Context, entryID string, opts *creditkit.ReverseOpts) (*creditkit.Entry, error)
	ChangeExpiry(ctx context.Context, grantID string, expiresAt time.Time, opts *creditkit.ChangeExpiryOpts) (*creditkit.Grant, error)
	SetBalanceAlerts(ctx context.Context, customer string, thresholds []creditkit.Threshold, opts *creditkit.SetAlertsOpts) (*creditkit.BalanceAlerts, error)
	GetBalanceAlerts(ctx context.Context, customer, currency string) (*creditkit.BalanceAlerts, error)
}

var (
	_ backend = (*creditkit.Ledger)(nil)
	_ backend = (*httpapi.Client)(nil)
)

// isRemote reports whether the command runs against --server rather than
// --db.
func (s *session) isRemote() bool { return s.globals.Server != "" }

// client returns the client of --server, made on first use.
func (s *session) client() (*httpapi.Client, error) {
	if s.remote != nil {
		return s.remote, nil
	}
	if s.globals.APIKey == "" {
		return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest,
			Message: "--server needs an API key: give --api-key or set CREDITKIT_API_KEY"}
	}
	c, err := httpapi.NewClient(s.globals.Server, s.globals.APIKey, &httpapi.ClientOptions{UserAgent: "creditkit-cli"})
	if err != nil {
		return nil, &creditkit.Error{Code: creditkit.CodeInvalidRequest, Message: "--server: " + err.Error()}
	}
	s.logger.Debug("calling server", "url", s.globals.Server)
	s.remote = c
	return c, nil
}

// backendConfig returns the config the ledger verbs parse and print
// amounts with. On --db, and on --server with --config, it is the config
// file (or the defaults); on --server without --config it is built from
// the server's catalog, so that amounts have the server's decimals. It
// caches the config in s.cfg, so s.config() (and amountAndMeta) return
// the same config afterwards.
func (s *session) backendConfig() (*creditkit.Config, error) {
	if !s.isRemote() || s.cfg != nil || s.globals.Config != "" {
		return s.config()
	}
	cat, err := s.serverCatalog()
	if err != nil {
		switch creditkit.ErrorCodeOf(err) {
		case httpapi.CodeUnauthorized, httpapi.CodeForbidden:
			// The key is the problem, not the currencies.
			return nil, fmt.Errorf("the server refused --api-key: %w", err)
		}
		return nil, fmt.Errorf("read the server's currencies (or give --config): %w", err)
	}
	cfg, err := configFromCatalog(cat)
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	return cfg, nil
}

// serverCatalog returns the catalog of --server, read once.
func (s *session) serverCatalog() (*httpapi.Catalog, error) {
	if s.catalog != nil {
		return s.catalog, nil
	}
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	cat, err := c.Catalog(s.ctx)
	if err != nil {
		return nil, err
	}
	s.catalog = cat
	return cat, nil
}

// configFromCatalog builds a config with a server's currencies and
// operations, for parsing and printing amounts. Pricing stays on the
// server: the catalog says nothing of rounding or limits.
func configFromCatalog(cat *httpapi.Catalog) (*creditkit.Config, error) {
	cfg := creditkit.DefaultConfig()
	cfg.Currencies = nil
	for _, c := range cat.Currencies {
		cfg.Currencies = append(cfg.Currencies, creditkit.Currency{Name: c.Name, Decimals: c.Decimals})
	}
	for _, op := range cat.Operations {
		if err := cfg.AddOperation(op.Name, op.Formula); err != nil {
			return nil, fmt.Errorf("the server's catalog: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the server's catalog: %w", err)
	}
	return cfg, nil
}

// withBackend runs fn on the backend the command works with: the client
// of --server, or the ledger on --db (opened within the open timeout and
// closed after). s.cfg holds the config to print amounts with.
func (s *session) withBackend(fn func(b backend) error) error {
	if !s.isRemote() {
		return s.withLedger(func(l *creditkit.Ledger) error { return fn(l) })
	}
	if _, err := s.backendConfig(); err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	return fn(c)
}

// path resolves a relative file path against the session's directory.
func (s *session) path(p string) string {
	if s.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}

// configPath returns the config file to load: --config, else ./creditkit.yaml
// if it exists, else "" for the built-in defaults.
func (s *session) configPath() (string, error) {
	if s.globals.Config != "" {
		return s.path(s.globals.Config), nil
	}
	p := s.path(defaultConfigFile)
	switch _, err := os.Stat(p); {
	case err == nil:
		return p, nil
	case errors.Is(err, os.ErrNotExist):
		return "", nil
	default:
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
}

// loadConfig loads the config named by configPath, or returns fallback()
// when there is no config file.
func (s *session) loadConfig(fallback func() (*creditkit.Config, error)) (*creditkit.Config, error) {
	if s.cfg != nil {
		return s.cfg, nil
	}
	p, err := s.configPath()
	if err != nil {
		return nil, err
	}
	var cfg *creditkit.Config
	if p == "" {
		s.logger.Debug("no config file, using defaults", "looked_for", s.path(defaultConfigFile))
		cfg, err = fallback()
	} else {
		s.logger.Debug("loading config", "path", p)
		cfg, err = creditkit.LoadConfig(p)
	}
	if err != nil {
		return nil, err
	}
	if s.clock != nil {
		cfg.Clock = s.clock
	}
	s.cfg = cfg
	return cfg, nil
}

// config loads the config, falling back to creditkit.DefaultConfig().
func (s *session) config() (*creditkit.Config, error) {
	return s.loadConfig(func() (*creditkit.Config, error) { return creditkit.DefaultConfig(), nil })
}

// dbURL returns the --db URL with a relative SQLite path resolved against
// the session's directory.
func (s *session) dbURL() string {
	u := s.globals.DB
	rest, ok := strings.CutPrefix(u, "sqlite:")
	if !ok || s.dir == "" {
		return u
	}
	p := strings.TrimPrefix(rest, "//")
	if p == "" || strings.HasPrefix(p, ":") || strings.HasPrefix(p, "file:") || filepath.IsAbs(p) {
		return u
	}
	return "sqlite:" + filepath.Join(s.dir, p)
}

// redactedDB returns the --db URL as it may be printed: without a password.
func (s *session) redactedDB() string {
	u, err := url.Parse(s.globals.DB)
	if err != nil || u.User == nil {
		return s.globals.DB
	}
	return u.Redacted()
}

// open opens the ledger on --db with cfg, applying migrations. A timeout
// above zero bounds how long that may take.
func (s *session) open(cfg *creditkit.Config, timeout time.Duration) (*creditkit.Ledger, error) {
	ctx := s.ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	s.logger.Debug("opening ledger", "db", s.redactedDB(), "timeout", timeout)
	l, err := creditkit.Open(ctx, s.dbURL(), cfg)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && s.ctx.Err() == nil {
			return nil, fmt.Errorf("database %s did not answer within %s: %w", s.redactedDB(), timeout, err)
		}
		return nil, err
	}
	return l, nil
}

// withLedger loads the config, opens the ledger within the open timeout,
// runs fn and closes the ledger.
func (s *session) withLedger(fn func(l *creditkit.Ledger) error) error {
	return s.withLedgerTimeout(s.openTimeout, fn)
}

// withLedgerTimeout is withLedger with an explicit open timeout; 0 means
// none.
func (s *session) withLedgerTimeout(timeout time.Duration, fn func(l *creditkit.Ledger) error) (err error) {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	l, err := s.open(cfg, timeout)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	defer func() { s.recordCommand(l, err) }() // before the ledger closes
	return fn(l)
}

// output prints v as JSON with --json, else calls human to print it for
// people.
func (s *session) output(v any, human func(w io.Writer)) error {
	s.result = v
	if s.globals.JSON {
		return writeJSON(s.stdout, v)
	}
	human(s.stdout)
	return nil
}

// fail reports err: with --json, only an error object on stdout; else one
// "error: " line on stderr.
func (s *session) fail(err error) {
	body := errorBody{Code: string(creditkit.ErrorCodeOf(err)), Message: oneLine(s.errorMessage(err))}
	var ic *creditkit.InsufficientCreditsError
	if errors.As(err, &ic) {
		needed, available := ic.Needed, ic.Available
		body.Needed, body.Available, body.Currency = &needed, &available, ic.Currency
	}
	reportError(s.stdout, s.stderr, s.globals.JSON, body)
}

// reportError prints an error in the one shape every command uses: with
// asJSON, only {"error": {...}} on stdout; else "error: MESSAGE" on
// stderr.
func reportError(stdout, stderr io.Writer, asJSON bool, body errorBody) {
	if asJSON {
		_ = writeJSON(stdout, errorJSON{Error: body})
		return
	}
	fmt.Fprintf(stderr, "error: %s\n", body.Message)
}

// errorMessage says what went wrong in the user's words: amounts in
// insufficient-credits errors are formatted in their currency.
func (s *session) errorMessage(err error) string {
	var ic *creditkit.InsufficientCreditsError
	if errors.As(err, &ic) && s.cfg != nil {
		msg := fmt.Sprintf("insufficient credits: %s needs %s but has %s available",
			ic.Customer, s.cfg.FormatAmount(ic.Needed, ic.Currency), s.cfg.FormatAmount(ic.Available, ic.Currency))
		if ic.OverageLimit > 0 || ic.Debt > 0 {
			msg += fmt.Sprintf(" and owes %s of its overage limit of %s", s.cfg.FormatAmount(ic.Debt, ic.Currency), s.cfg.FormatAmount(ic.OverageLimit, ic.Currency))
		}
		return msg
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted: " + err.Error()
	}
	if creditkit.ErrorCodeOf(err) == creditkit.CodeUnknownOperation && !s.isRemote() && s.cfg != nil && s.cfg.Path == "" {
		// Operations come from the config, and none was loaded: say so,
		// and how to give one.
		return err.Error() + " (" + s.configSource() + ")"
	}
	return err.Error()
}

// configSource says which config the command runs with, or that none was
// found and how to give one.
func (s *session) configSource() string {
	if s.cfg != nil && s.cfg.Path != "" {
		return "config " + s.cfg.Path
	}
	return noConfigHint(s.path(defaultConfigFile))
}

// noConfigHint says that no config file was loaded and how to give one.
func noConfigHint(lookedFor string) string {
	return fmt.Sprintf("no config file loaded: no --config, no CREDITKIT_CONFIG, no %s; "+
		"give one with --config FILE or CREDITKIT_CONFIG=FILE, such as creditkit.example.yaml", lookedFor)
}

// errorJSON is the --json shape of an error.
type errorJSON struct {
	Error errorBody `json:"error"`
}

// errorBody is the error's code, message and, for insufficient credits, the
// amounts in smallest units.
type errorBody struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Needed    *creditkit.Amount `json:"needed,omitempty"`
	Available *creditkit.Amount `json:"available,omitempty"`
	Currency  string            `json:"currency,omitempty"`
}
