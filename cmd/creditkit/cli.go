package main

// CLI is the command line grammar: the global flags and every command.
type CLI struct {
	Globals

	Migrate  MigrateCmd  `cmd:"" help:"Open the database and apply migrations."`
	Config   ConfigCmd   `cmd:"" help:"Inspect the configuration."`
	Grant    GrantCmd    `cmd:"" help:"Give a customer credits."`
	Spend    SpendCmd    `cmd:"" help:"Charge a customer for an operation."`
	Debit    DebitCmd    `cmd:"" help:"Take a raw amount of credits from a customer."`
	Estimate EstimateCmd `cmd:"" help:"Price an operation without charging anyone."`
	Check    CheckCmd    `cmd:"" help:"Can a customer afford an operation (or --amount) now? Shows held credits and the plan."`
	Balance  BalanceCmd  `cmd:"" help:"Show a customer's balance."`
	Grants   GrantsCmd   `cmd:"" help:"List a customer's grants."`
	History  HistoryCmd  `cmd:"" help:"List a customer's ledger entries, oldest first."`
	Transfer TransferCmd `cmd:"" help:"Move credits from one customer to another."`
	Void     VoidCmd     `cmd:"" help:"Remove what is left of a grant, or part of it."`
	Reverse  ReverseCmd  `cmd:"" help:"Give back all or part of a charge to the grants it came from."`
	Expiry   ExpiryCmd   `cmd:"" help:"Move a grant's expiry, or remove it."`
	Alerts   AlertsCmd   `cmd:"" help:"Show or set a customer's own low-balance thresholds."`
	Hold     HoldCmd     `cmd:"" help:"Reserve credits for an operation in flight."`
	Capture  CaptureCmd  `cmd:"" help:"Charge a hold, fully or partly."`
	Release  ReleaseCmd  `cmd:"" help:"Cancel a hold and return its credits."`
	RunDue   RunDueCmd   `cmd:"" name:"run-due" help:"Refill due subscriptions, expire due grants and release lapsed holds."`
	Demo     DemoCmd     `cmd:"" help:"Grant, spend and show a balance on a sample customer (alice)."`
	Bench    BenchCmd    `cmd:"" help:"Measure spends/s, latency and balance reads, then check the ledger."`
	Serve    ServeCmd    `cmd:"" help:"Run the HTTP API, webhooks and the scheduler."`
	Keys     KeysCmd     `cmd:"" help:"Manage API keys."`
	Webhooks WebhooksCmd `cmd:"" help:"List webhook deliveries and replay one."`
	Report   ReportCmd   `cmd:"" help:"Financial reports: revenue."`
	Audit    AuditCmd    `cmd:"" help:"List the audit log of admin actions, newest first."`

	Customers CustomersCmd `cmd:"" help:"Create, list and show customers."`

	Subscription SubscriptionCmd `cmd:"" help:"Subscribe customers to plans; change, cancel, pause and resume."`
	Overage      OverageCmd      `cmd:"" help:"Show or set how far into debt a customer may go."`
	Settle       SettleCmd       `cmd:"" help:"Settle a customer's overage debt, billed at an overage price."`
	Topup        TopUpCmd        `cmd:"" name:"topup" help:"Show or set a customer's auto top-up: buy a pack when a spend leaves it under a threshold."`

	Purchase  PurchaseCmd  `cmd:"" help:"Record a paid purchase of a pack (once per external ID)."`
	Purchases PurchasesCmd `cmd:"" help:"List a customer's purchases."`
	Refund    RefundCmd    `cmd:"" help:"Record money refunded on a purchase and claw back its credits."`
}

// Globals are the flags every command accepts.
type Globals struct {
	DB      string `name:"db" placeholder:"URL" default:"sqlite:creditkit.db" envvar:"CREDITKIT_DB" help:"Database: sqlite:path/to/file.db or postgres://user@host/db (env CREDITKIT_DB). Defaults to sqlite:creditkit.db."`
	Config  string `name:"config" placeholder:"FILE" envvar:"CREDITKIT_CONFIG" help:"Config file (env CREDITKIT_CONFIG). Defaults to ./creditkit.yaml if it exists, else built-in defaults."`
	JSON    bool   `name:"json" help:"Print machine-readable JSON on stdout."`
	Verbose bool   `name:"verbose" short:"v" help:"Log what the command does on stderr."`
	Server  string `name:"server" placeholder:"URL" envvar:"CREDITKIT_SERVER" help:"Run the command against a creditkit server (env CREDITKIT_SERVER) instead of --db."`
	APIKey  string `name:"api-key" placeholder:"KEY" envvar:"CREDITKIT_API_KEY" help:"API key for --server (env CREDITKIT_API_KEY)."`
}

// ConfigCmd groups the config subcommands.
type ConfigCmd struct {
	Check ConfigCheckCmd `cmd:"" help:"Load the config and print a summary, or the error with file:line."`
}

// writeFlags are the flags every write command shares.
type writeFlags struct {
	IdempotencyKey string `name:"idempotency-key" placeholder:"KEY" help:"Makes the command safe to retry: a replay returns the first result and moves no credit."`
}

// metaFlag collects --meta key=value pairs.
type metaFlag struct {
	Meta []string `name:"meta" sep:"none" placeholder:"KEY=VALUE" help:"Metadata to record (repeatable)."`
}
