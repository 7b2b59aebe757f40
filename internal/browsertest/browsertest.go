// Package browsertest drives a headless Chromium (Debian's chromium) through
// chromedp for the dashboard's and widgets' browser tests, and records what
// a page did that a test should see: console errors, uncaught exceptions
// and every URL the page requested.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// EnvBinary names the Chromium binary to use instead of looking it up.
const EnvBinary = "CREDITKIT_CHROMIUM"

// EnvRequire, when "1", turns a missing Chromium into a test failure
// instead of a skip, as in CI.
const EnvRequire = "CREDITKIT_REQUIRE_BROWSER"

// Find returns the path of a Chromium binary: $CREDITKIT_CHROMIUM, then
// chromium, chromium-browser or google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: install Debian's chromium (apt-get install -y chromium), or set %s to its path", EnvBinary)
}

// Browser is one headless Chromium tab for a test.
type Browser struct {
	// Ctx is the chromedp context of the tab: pass it to chromedp.Run.
	Ctx context.Context

	mu        sync.Mutex
	errors    []string
	requested []string
}

// New starts a headless Chromium with a fresh profile for the rest of the
// test and returns its tab. Without Chromium the test is skipped, or
// fails when CREDITKIT_REQUIRE_BROWSER=1. Every chromedp.Run on the tab is
// bounded by timeout.
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%v (%s=1)", err, EnvRequire)
		}
		t.Skip(err)
	}
	// The flags keep Chromium off the network (this machine's is closed and
	// background connections only fail) and runnable as root in a sandbox.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(tab, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	b := &Browser{Ctx: tctx}
	// Listen starts the browser and opens the tab, so a missing library
	// fails here, clearly.
	err = chromedp.Listen(tctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				msg := "console." + string(ev.Type) + ":"
				for _, a := range ev.Args {
					msg += " " + string(a.Value) + a.Description
				}
				b.errors = append(b.errors, msg)
			}
		case *runtime.EventExceptionThrown:
			msg := "exception:"
			if d := ev.ExceptionDetails; d != nil {
				msg += " " + d.Text
				if d.Exception != nil {
					msg += " " + d.Exception.Description
				}
			}
			b.errors = append(b.errors, msg)
		case *network.EventRequestWillBeSent:
			b.requested = append(b.requested, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	return b
}

// Errors returns the console errors and uncaught exceptions seen so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Requested returns every URL the tab requested so far, in order.
func (b *Browser) Requested() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requested...)
}

// Screenshot saves a full-page PNG of the tab to path (quality 100 is
// what makes chromedp capture PNG rather than JPEG).
func (b *Browser) Screenshot(path string) error {
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	return nil
}
