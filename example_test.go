package creditkit_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/creditkit/creditkit"
)

// openExample opens a ledger on a throwaway SQLite file with a config in the
// creditkit YAML language.
func openExample(yaml string) (*creditkit.Ledger, func()) {
	dir, err := os.MkdirTemp("", "creditkit-example")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := creditkit.ParseConfig("creditkit.yaml", []byte(yaml))
	if err != nil {
		log.Fatal(err)
	}
	cfg.Clock = creditkit.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l, err := creditkit.Open(context.Background(), "sqlite:"+filepath.Join(dir, "credits.db"), cfg)
	if err != nil {
		log.Fatal(err)
	}
	return l, func() { l.Close(); os.RemoveAll(dir) }
}

// Give a user credits and spend one on an operation, as in the usage_credits
// README.
func Example() {
	ctx := context.Background()
	l, done := openExample(`
operations:
  send_email: 1 credit
`)
	defer done()

	if _, err := l.Grant(ctx, "user_42", 100, &creditkit.GrantOpts{Reason: "signup_bonus"}); err != nil {
		log.Fatal(err)
	}
	if _, err := l.Spend(ctx, "user_42", "send_email", nil, nil); err != nil {
		log.Fatal(err)
	}
	bal, _ := l.Balance(ctx, "user_42", nil)
	fmt.Println("balance:", bal.Available)
	history, _ := l.History(ctx, "user_42", nil)
	for _, e := range history {
		fmt.Println(e.Category, e.Amount)
	}
	// Output:
	// balance: 99
	// signup_bonus 100
	// operation_charge -1
}

// Price operations with fixed and per-unit terms: 10 credits plus 1 credit
// per megabyte, rounded up once.
func ExampleLedger_Estimate() {
	ctx := context.Background()
	l, done := openExample(`
operations:
  process_image: 10 credits + 1 credit per mb
`)
	defer done()

	for _, p := range []creditkit.Params{{"mb": 5}, {"mb": 5.2}, {"size": 5 * 1048576}} {
		cost, err := l.Estimate(ctx, "process_image", p)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p, "costs", cost)
	}
	// Output:
	// map[mb:5] costs 15
	// map[mb:5.2] costs 16
	// map[size:5242880] costs 15
}

// Charge only for work that succeeded: SpendOn reserves the cost, runs the
// work, and releases the credits if it fails.
func ExampleLedger_SpendOn() {
	ctx := context.Background()
	l, done := openExample(`
operations:
  generate_video: 100 credits + 10 credits per second
`)
	defer done()
	l.Grant(ctx, "user_42", 1000, nil)

	_, err := l.SpendOn(ctx, "user_42", "generate_video", creditkit.Params{"seconds": 30}, func(ctx context.Context) error {
		return fmt.Errorf("renderer crashed")
	}, nil)
	bal, _ := l.Balance(ctx, "user_42", nil)
	fmt.Println(err, "- balance", bal.Available)

	e, _ := l.SpendOn(ctx, "user_42", "generate_video", creditkit.Params{"seconds": 30}, func(ctx context.Context) error {
		return nil // the video rendered
	}, nil)
	bal, _ = l.Balance(ctx, "user_42", nil)
	fmt.Println("charged", -e.Amount, "- balance", bal.Available)
	// Output:
	// renderer crashed - balance 1000
	// charged 400 - balance 600
}

// Reserve credits for a streamed AI call and capture what it really used.
func ExampleLedger_Hold() {
	ctx := context.Background()
	l, done := openExample(`
operations:
  small_model: 1 credit per 10 tokens
`)
	defer done()
	l.Grant(ctx, "user_42", 500, nil)

	h, _ := l.Hold(ctx, "user_42", "small_model", creditkit.Params{"tokens": 2000}, &creditkit.HoldOpts{TTL: 5 * time.Minute})
	bal, _ := l.Balance(ctx, "user_42", nil)
	fmt.Println("held", h.Amount, "available", bal.Available)

	used := creditkit.Amount(120) // the stream stopped after 1,200 tokens
	l.Capture(ctx, h.ID, &used, nil)
	bal, _ = l.Balance(ctx, "user_42", nil)
	fmt.Println("available", bal.Available, "held", bal.Held)
	// Output:
	// held 200 available 300
	// available 380 held 0
}

// Spend fails cleanly when the wallet cannot pay, saying what was needed.
func ExampleInsufficientCreditsError() {
	ctx := context.Background()
	l, done := openExample(`
operations:
  process_image: 10 credits + 1 credit per mb
`)
	defer done()
	l.Grant(ctx, "user_42", 12, nil)

	_, err := l.Spend(ctx, "user_42", "process_image", creditkit.Params{"mb": 5}, nil)
	fmt.Println(creditkit.ErrorCodeOf(err))
	fmt.Println(err)
	// Output:
	// insufficient_credits
	// insufficient credits: user_42 needs 15 credits but has 12 credits available
}

// Record usage when it happened, and read the ledger by entry type: the
// charge keeps its time (OccurredAt) apart from when it was written (At),
// and available_after leaves out held and scheduled credits.
func ExampleLedger_History_byType() {
	ctx := context.Background()
	l, done := openExample(`
operations:
  send_email: 1 credit
`)
	defer done()

	now := l.Now()
	if _, err := l.Grant(ctx, "user_42", 100, &creditkit.GrantOpts{Description: "Welcome bonus"}); err != nil {
		log.Fatal(err)
	}
	if _, err := l.Grant(ctx, "user_42", 50, &creditkit.GrantOpts{EffectiveAt: now.Add(24 * time.Hour)}); err != nil {
		log.Fatal(err)
	}
	if _, err := l.Spend(ctx, "user_42", "send_email", nil, &creditkit.SpendOpts{
		OccurredAt: now.Add(-2 * time.Hour), Metadata: map[string]string{"message_id": "m-17"},
	}); err != nil {
		log.Fatal(err)
	}
	if _, err := l.Debit(ctx, "user_42", 5, &creditkit.DebitOpts{Reason: "storage"}); err != nil {
		log.Fatal(err)
	}
	charges, _ := l.History(ctx, "user_42", &creditkit.HistoryFilter{Type: creditkit.EntryCharge})
	for _, e := range charges {
		fmt.Println(e.Type, e.Category, e.Operation, e.Amount, "balance", e.BalanceAfter, "available", *e.AvailableAfter,
			"occurred", now.Sub(e.OccurredAt), e.Metadata)
	}
	usage, _ := l.Usage(ctx, "user_42", &creditkit.UsageQuery{ByOperation: true})
	for _, u := range usage {
		fmt.Printf("usage: operation=%q reason=%q count=%d amount=%d\n", u.Operation, u.Reason, u.Count, u.Amount)
	}
	// Output:
	// charge operation_charge send_email -1 balance 149 available 99 occurred 2h0m0s map[message_id:m-17]
	// charge storage  -5 balance 144 available 94 occurred 0s map[]
	// usage: operation="" reason="storage" count=1 amount=5
	// usage: operation="send_email" reason="" count=1 amount=1
}
