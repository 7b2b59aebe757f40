package storetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
)

// purchaseChildEnv names the database of a purchasing child process of
// MultiProcessPurchases.
const purchaseChildEnv = "CREDITKIT_STORETEST_PURCHASE_DB"

// multiPurchases is how many payments MultiProcessPurchases fulfils.
const multiPurchases = 10

// RunPurchaseChildIfAsked makes this process a purchasing child of
// MultiProcessPurchases when the environment says so: it fulfils every
// payment from 8 goroutines, prints how many purchases it made itself
// (not replays), and exits. Call it from an init function of the test
// package that calls MultiProcessPurchases.
func RunPurchaseChildIfAsked() {
	url := os.Getenv(purchaseChildEnv)
	if url == "" {
		return
	}
	n, err := childPurchases(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	fmt.Printf("purchases=%d\n", n)
	os.Exit(0)
}

func childPurchases(url string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		return 0, err
	}
	withPacks("")(cfg)
	cfg.Clock = creditkit.NewManualClock(Epoch)
	l, err := creditkit.Open(ctx, url, cfg)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	var fresh atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine starts at another payment, so that the
			// processes race on every one of them.
			for k := range multiPurchases {
				i := (g + k) % multiPurchases
				p, err := l.Purchase(ctx, fmt.Sprintf("mpc%02d", i), creditkit.PurchaseOpts{Pack: "starter", Provider: "stripe",
					ExternalID: fmt.Sprintf("cs_mp_%02d", i)})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				if !p.Replayed {
					fresh.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil {
		return 0, e
	}
	return fresh.Load(), nil
}

// MultiProcessPurchases runs three OS processes (this test binary,
// re-executed) on the database at url that each fulfil the same 10
// payments from 8 goroutines, as webhooks delivered to three servers at
// once would: together they make exactly 10 purchases, each customer gets
// one grant of the pack, and the outbox holds one credits.purchase.completed
// per payment. The calling package must call RunPurchaseChildIfAsked from
// an init function.
func MultiProcessPurchases(t *testing.T, url string) {
	c := ctx(t)
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		t.Fatal(err)
	}
	withPacks("")(cfg)
	cfg.Clock = creditkit.NewManualClock(Epoch)
	l, err := creditkit.Open(c, url, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	defer l.Close()
	outs := make([][]byte, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(c, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), purchaseChildEnv+"="+url)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			outs[i], errs[i] = cmd.Output()
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%w: %s", errs[i], stderr.String())
			}
		}()
	}
	wg.Wait()
	var total int64
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("child %d: %v", i, errs[i])
		}
		var n int64
		if _, err := fmt.Sscanf(string(outs[i]), "purchases=%d", &n); err != nil {
			t.Fatalf("child %d printed %q: %v", i, outs[i], err)
		}
		total += n
	}
	if total != multiPurchases {
		t.Fatalf("three processes made %d purchases, want %d (one per payment)", total, multiPurchases)
	}
	completed := 0
	var after int64
	for {
		evs := must(l.Events(c, after, 1000))
		for _, e := range evs {
			if e.Type == creditkit.EventPurchaseCompleted {
				completed++
			}
			after = e.Seq
		}
		if len(evs) < 1000 {
			break
		}
	}
	if completed != multiPurchases {
		t.Fatalf("%d credits.purchase.completed events, want %d", completed, multiPurchases)
	}
	for i := range multiPurchases {
		cu := fmt.Sprintf("mpc%02d", i)
		if gs := must(l.Grants(c, cu, &creditkit.GrantFilter{Limit: 1000})); len(gs) != 1 || gs[0].Amount != 1000 {
			t.Fatalf("%s has grants %+v, want one of 1000", cu, gs)
		}
		if ps := must(l.Purchases(c, cu, nil)); len(ps) != 1 {
			t.Fatalf("%s has %d purchases, want 1", cu, len(ps))
		}
	}
	CheckInvariants(t, l)
}
