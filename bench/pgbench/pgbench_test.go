package pgbench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestScriptsAreEmbedded(t *testing.T) {
	for name, want := range map[string]string{
		"debit.sql": "UPDATE accounts SET balance = balance - 1 WHERE id = :id AND balance >= 1",
		"setup.sql": "generate_series(1, 1000)",
		"run.sh":    "pgbench tps:",
	} {
		data, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
	debit, _ := files.ReadFile("debit.sql")
	if !strings.Contains(string(debit), "INSERT INTO journal") {
		t.Error("debit.sql does not insert a journal line")
	}
}

func TestRunRejectsNoClients(t *testing.T) {
	if _, err := Run(context.Background(), "postgres://localhost/x", 0, time.Second); err == nil {
		t.Fatal("Run with 0 clients succeeded")
	}
}
