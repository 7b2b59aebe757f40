package main

import (
	"context"
	"encoding/json"
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
			// On a fresh machine go test ./... still passes; CI, which
			// requires everything (CREDITKIT_REQUIRE_POSTGRES=1), fails.
			if os.Getenv("CREDITKIT_REQUIRE_POSTGRES") != "1" {
				t.Skipf("the walk-through needs %s: %v (install it; .ci/run does)", tool, err)
			}
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
		`"available":1482`,            // alice's demo balance, with the free plan's 500
		`"idempotency_key":"img-001"`, // the spend and its replay
		`"allowed":false`,             // check
		`"code":"insufficient_credits","customer":"dave","needed":1010,"available":584`,
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

// TestREADMECLIWorksAsWritten runs the README's CLI block, line by line,
// on a fresh database in an empty directory holding only the example
// config: each creditkit line runs in-process and must succeed. A
// placeholder such as hld_… takes the last ID of that kind printed before.
func TestREADMECLIWorksAsWritten(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	i := strings.Index(section, "\n## CLI\n")
	if i < 0 {
		t.Fatal("README.md has no ## CLI section")
	}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(section[i:])
	if block == nil {
		t.Fatal("the CLI section has no sh block")
	}
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "creditkit.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "creditkit.example.yaml"), example, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	placeholder := regexp.MustCompile(`\b([a-z]+)_…`)
	last := map[string]string{} // prefix -> last ID printed
	ran := 0
	for _, line := range strings.Split(block[1], "\n") {
		if c := strings.Index(line, " #"); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case line == "go install ./cmd/creditkit":
			continue // the test runs the command in-process
		case strings.HasPrefix(line, "export "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok {
				t.Fatalf("cannot read %q", line)
			}
			env[k] = v
			continue
		case !strings.HasPrefix(line, "creditkit "):
			t.Fatalf("the test does not know how to run %q", line)
		}
		args := strings.Fields(strings.TrimPrefix(line, "creditkit "))
		for j, a := range args {
			if m := placeholder.FindStringSubmatch(a); m != nil {
				id, ok := last[m[1]]
				if !ok {
					t.Fatalf("%q: no %s_ ID was printed before", line, m[1])
				}
				args[j] = placeholder.ReplaceAllString(a, id)
			}
		}
		r := runMain(t, &Main{Dir: dir, Getenv: getenv}, args...)
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d\nstderr: %s\nstdout: %s", line, r.code, r.stderr, r.stdout)
		}
		for _, m := range idRE.FindAllStringSubmatch(r.stdout, -1) {
			last[m[1]] = m[0]
		}
		ran++
	}
	if ran < 8 {
		t.Fatalf("ran %d creditkit lines; the block has more", ran)
	}
	// What the block did: the free plan's 500 (alice's first write puts her
	// on the default plan), 500 granted, 16 spent, 120 captured, 10 given.
	r := runMain(t, &Main{Dir: dir, Getenv: getenv}, "--json", "balance", "alice")
	var bal struct{ Available, Held int64 }
	if err := json.Unmarshal([]byte(r.stdout), &bal); err != nil || bal.Available != 854 || bal.Held != 0 {
		t.Fatalf("alice after the block: %+v (%v) %s", bal, err, r.stderr)
	}
}
