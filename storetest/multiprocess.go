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

// childEnv names the database a child process of MultiProcessSpends spends on.
const childEnv = "CREDITKIT_STORETEST_CHILD_DB"

// RunChildIfAsked turns the test binary into a spending child process when
// MultiProcessSpends started it. Call it first in TestMain:
//
//	func TestMain(m *testing.M) { storetest.RunChildIfAsked(); os.Exit(m.Run()) }
func RunChildIfAsked() {
	url := os.Getenv(childEnv)
	if url == "" {
		return
	}
	ok, refused, err := childSpend(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	fmt.Printf("ok=%d refused=%d\n", ok, refused)
	os.Exit(0)
}

// childSpend races 32 goroutines through 2,500 one-credit spends.
func childSpend(url string) (ok, refused int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		return 0, 0, err
	}
	l, err := creditkit.Open(ctx, url, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer l.Close()
	var okN, refusedN, attempts atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for attempts.Add(1) <= 2500 {
				_, err := l.Spend(ctx, "shared", "send_email", nil, nil)
				switch {
				case err == nil:
					okN.Add(1)
				case isInsufficient(err):
					refusedN.Add(1)
				default:
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil {
		return 0, 0, e
	}
	return okN.Load(), refusedN.Load(), nil
}

// MultiProcessSpends grants 1,000 credits on the database at url, then
// races two OS processes (this test binary, re-executed) through 5,000
// one-credit spends: exactly 1,000 must succeed and the wallet end at 0.
// The calling package's TestMain must call RunChildIfAsked.
func MultiProcessSpends(t *testing.T, url string) {
	c := ctx(t)
	cfg, err := creditkit.ParseConfig("storetest.yaml", []byte(Config))
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(c, url, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	defer l.Close()
	if _, err := l.Grant(c, "shared", 1000, nil); err != nil {
		t.Fatal(err)
	}
	type result struct {
		out []byte
		err error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(c, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+url)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				err = fmt.Errorf("%w: %s", err, stderr.String())
			}
			results[i] = result{out, err}
		}()
	}
	wg.Wait()
	var ok, refused int64
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("child %d: %v", i, r.err)
		}
		var o, f int64
		if _, err := fmt.Sscanf(string(r.out), "ok=%d refused=%d", &o, &f); err != nil {
			t.Fatalf("child %d printed %q: %v", i, r.out, err)
		}
		ok += o
		refused += f
	}
	if ok != 1000 || refused != 4000 {
		t.Fatalf("two processes: %d spends succeeded, %d refused; want 1000 and 4000", ok, refused)
	}
	bal, err := l.Balance(c, "shared", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bal.Available != 0 {
		t.Fatalf("balance after two processes = %d, want 0", bal.Available)
	}
	func() {
		defer guard(t)
		CheckInvariants(t, l)
	}()
}
