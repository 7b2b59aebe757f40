// Package stripetest starts stripe-mock (github.com/stripe/stripe-mock, the
// HTTP server Stripe publishes that answers the Stripe API from its OpenAPI
// fixtures) on loopback for tests, so that the Stripe adapter's calls go
// through stripe-go to a real HTTP peer instead of a mock in Go.
//
// stripe-mock keeps no state: every answer is a fixture (a created customer
// is not found later by id with its fields). Tests that need state across
// calls keep it on creditkit's side and say so.
package stripetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Version is the stripe-mock version the tests are written against;
// `.ci/run` installs it with `go install github.com/stripe/stripe-mock@` +
// Version.
const Version = "v0.203.0"

// EnvBinary names the stripe-mock binary to use instead of looking it up.
const EnvBinary = "STRIPE_MOCK"

// EnvRequire, when "1", turns a missing stripe-mock into a test failure
// instead of a skip, as in CI.
const EnvRequire = "CREDITKIT_REQUIRE_STRIPE_MOCK"

// Find returns the path of the stripe-mock binary: $STRIPE_MOCK, then
// stripe-mock on PATH, then $GOBIN and $GOPATH/bin (where `go install`
// puts it).
func Find() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		for _, p := range filepath.SplitList(d) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("stripe-mock not found: install it with `go install github.com/stripe/stripe-mock@%s`, or set %s to its path", Version, EnvBinary)
}

// listening is the line stripe-mock prints once it serves HTTP.
var listening = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

// Start starts stripe-mock on 127.0.0.1 on a free port for the rest of
// the test and returns its base URL, such as http://127.0.0.1:40075 (give
// it to stripe-go as the API backend's URL). Without the binary the test
// is skipped, or fails when CREDITKIT_REQUIRE_STRIPE_MOCK=1.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%v (%s=1)", err, EnvRequire)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("stripe-mock: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("stripe-mock did not listen within 30s")
	}
	return ""
}
