package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAPIWalkthroughWorksAsWritten runs every ```sh block of docs/api.md,
// in order, with bash against serve --demo. Lines starting with
// "export BASE=" and "export KEY=" get the served address and key; the
// example webhook URL points at a closed port on loopback.
func TestAPIWalkthroughWorksAsWritten(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walk-through needs %s: %v (.ci/run installs it)", tool, err)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 10 {
		t.Fatalf("found %d sh blocks in docs/api.md", len(blocks))
	}
	base, out, stop := startServe(t, &Main{Dir: t.TempDir()}, "serve", "--demo", "--addr", "127.0.0.1:0")
	defer stop()
	key := regexp.MustCompile(`admin API key \(demo\): (ck_\w+)`).FindStringSubmatch(out.String())
	if key == nil {
		t.Fatalf("no key printed:\n%s", out)
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			switch {
			case strings.HasPrefix(line, "export BASE="):
				line = "export BASE=" + base
			case strings.HasPrefix(line, "export KEY="):
				line = "export KEY=" + key[1]
			}
			line = strings.ReplaceAll(line, "https://example.com", "http://127.0.0.1:9")
			script.WriteString(line + "\n")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s\nscript:\n%s", err, res, script.String())
	}
	got := string(res)
	for _, want := range []string{
		`"available":982`,             // alice's demo balance
		`"idempotency_key":"img-001"`, // the spend and its replay
		`"allowed":false`,             // check
		`"code":"insufficient_credits","customer":"dave","needed":510,"available":84`,
		`"status":"released"`,
		`"category":"void"`,
		`"secret":"whsec_`,
		"403\n", // a token for dave cannot read alice
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the walk-through's output lacks %s\n%s", want, got)
		}
	}
}
