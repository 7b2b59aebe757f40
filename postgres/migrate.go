package postgres

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrationFiles holds the schema, one numbered file per change, with the
// same numbers as the SQLite store's.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey names the advisory lock that serializes migrators of one
// database (advisory locks are per database). It spells "creditkt".
const migrateLockKey int64 = 0x6372656469746b74

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// Migrate applies the embedded migrations the database lacks, in order, in
// one transaction, and records each in schema_migrations(version,
// applied_at). Migrations are forward-only. Several processes may migrate
// the same database at once: they take turns on an advisory lock, and the
// later ones find nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	// READ COMMITTED: each statement after the lock sees what the previous
	// holder committed.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return translate("migrate: begin", err)
	}
	defer rollback(ctx, tx)

	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
		return translate("migrate: take the migration lock", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    applied_at BIGINT NOT NULL
)`); err != nil {
		return translate("migrate: create schema_migrations", err)
	}
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return translate("migrate: read schema_migrations", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return translate("migrate: read schema_migrations", err)
	}

	latest := migrations[len(migrations)-1].version
	for _, m := range migrations {
		if slices.Contains(applied, m.version) {
			continue
		}
		// No arguments: pgx sends the file with the simple protocol, which
		// runs several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return translate("migrate: apply "+m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
			m.version, time.Now().UnixMicro()); err != nil {
			return translate("migrate: record "+m.name, err)
		}
		s.logger.InfoContext(ctx, "postgres: applied migration", "version", m.version, "name", m.name)
	}
	if newest := slices.Max(append(applied, 0)); newest > latest {
		// A newer build migrated this database; carry on (its migrations
		// only add), but say so.
		s.logger.WarnContext(ctx, "postgres: the database schema is newer than this build", "database_version", newest, "build_version", latest)
	}
	if err := tx.Commit(ctx); err != nil {
		return translate("migrate: commit", err)
	}
	return nil
}

// loadMigrations reads the embedded migrations, ordered by version. A file
// is named NNNN_description.sql.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgres: list migrations: %w", err)
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		digits, _, _ := strings.Cut(base, "_")
		version, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("postgres: migration %s: the name must start with a positive number, like 0001_init.sql", base)
		}
		data, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("postgres: read migration %s: %w", base, err)
		}
		out = append(out, migration{version: version, name: base, sql: string(data)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("postgres: no migrations embedded")
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %s and %s have the same number", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}
