package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditkit/creditkit"
	"github.com/creditkit/creditkit/store"
)

// startupScanLimit bounds how many due grants and holds the start-up
// check counts, so that it stays cheap on a large backlog.
const startupScanLimit = 1000

// walState is what serve found of a SQLite write-ahead log before it
// opened the database.
type walState struct {
	sqlite bool  // the database is a SQLite file
	found  bool  // a -wal file was there
	size   int64 // its size in bytes
}

// leftoverWAL looks for the -wal file of a SQLite database URL. SQLite
// removes it when the last connection closes cleanly, so finding one
// means the last process crashed, was killed, or is still running; SQLite
// replays it when the database opens.
func leftoverWAL(dbURL string) walState {
	rest, ok := strings.CutPrefix(dbURL, "sqlite:")
	if !ok {
		return walState{}
	}
	p := strings.TrimPrefix(rest, "//")
	if p == "" || strings.HasPrefix(p, ":") || strings.HasPrefix(p, "file:") {
		return walState{}
	}
	st, err := os.Stat(filepath.Clean(p) + "-wal")
	if err != nil {
		return walState{sqlite: true}
	}
	return walState{sqlite: true, found: true, size: st.Size()}
}

// logStartupCheck logs in one line what serve found on start: a SQLite
// WAL left by a process that did not close the database, and the holds
// past their TTL and grants past their expiry that are due (the
// scheduler settles them). It reads at most startupScanLimit of each; a
// failed read is logged, never fatal.
func logStartupCheck(ctx context.Context, logger *slog.Logger, l *creditkit.Ledger, wal walState) {
	var grants, holds int
	now := l.Now()
	err := l.Store().View(ctx, func(ctx context.Context, tx store.ReadTx) error {
		gs, err := tx.DueGrants(ctx, now, startupScanLimit)
		if err != nil {
			return err
		}
		hs, err := tx.DueHolds(ctx, now, startupScanLimit)
		if err != nil {
			return err
		}
		grants, holds = len(gs), len(hs)
		return nil
	})
	attrs := []any{}
	if wal.sqlite {
		state := "clean"
		if wal.found {
			state = "recovered"
		}
		attrs = append(attrs, "sqlite_wal", state)
		if wal.found {
			attrs = append(attrs, "wal_bytes", wal.size)
		}
	}
	if err != nil {
		logger.Warn("start-up check", append(attrs, "error", err)...)
		return
	}
	// Counts stop at startupScanLimit.
	attrs = append(attrs, "holds_past_ttl", holds, "grants_past_expiry", grants)
	if wal.found {
		logger.Warn("start-up check: the last process did not close the database (crashed, killed, or still running); SQLite replayed its WAL", attrs...)
		return
	}
	logger.Info("start-up check", attrs...)
}
