package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/httpapi"
)

// TestDrainDelay checks Options.DrainDelay: once Serve is told to stop,
// /readyz answers 503 while the server still answers requests, for the
// delay, and only then does the listener close. Without a delay a load
// balancer polling /readyz could never see the 503.
func TestDrainDelay(t *testing.T) {
	ctx := context.Background()
	cfg, err := creditkit.ParseConfig("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	l, err := creditkit.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "creditkit.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const delay = 1500 * time.Millisecond
	srv, err := httpapi.New(ctx, l, &httpapi.Options{DrainDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, testGrace) }()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	status := func(path string) int {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := status("/readyz"); s != 200 {
		t.Fatalf("/readyz before the stop: %d", s)
	}
	stopped := time.Now()
	stop()
	// Draining: new requests are still answered, /readyz says 503.
	for status("/readyz") != http.StatusServiceUnavailable {
		select {
		case err := <-done:
			t.Fatalf("Serve returned (%v) before /readyz turned 503", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if s := status("/healthz"); s != 200 {
		t.Fatalf("/healthz while draining: %d", s)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if took := time.Since(stopped); took < delay {
		t.Fatalf("Serve returned %s after the stop, before the %s drain delay", took, delay)
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Fatal("the listener still answers after Serve returned")
	}
}
