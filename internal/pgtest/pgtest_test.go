package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

var cluster *Cluster

func TestMain(m *testing.M) { os.Exit(Main(m, &cluster)) }

func TestNewDatabaseURL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	first := NewDatabaseURL(t, cluster)
	second := NewDatabaseURL(t, cluster)
	if first == second {
		t.Fatalf("two calls returned the same database %s", first)
	}
	if cluster.dir != "" && !strings.HasPrefix(first, "postgres://postgres@127.0.0.1:") {
		t.Errorf("URL = %s, want postgres://postgres@127.0.0.1:PORT/...", first)
	}

	// Each database is empty and separate: a table made in one is not in
	// the other.
	conn1 := connect(t, first)
	if _, err := conn1.Exec(ctx, "CREATE TABLE only_here (x int)"); err != nil {
		t.Fatal(err)
	}
	conn2 := connect(t, second)
	var n int
	if err := conn2.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the second database sees the first one's table")
	}
}

func TestServerSettings(t *testing.T) {
	t.Parallel()
	conn := connect(t, NewDatabaseURL(t, cluster))
	if cluster.dir == "" {
		t.Skip("an external server keeps its own settings")
	}
	want := map[string]string{"max_connections": "200", "listen_addresses": "127.0.0.1", "fsync": "on"}
	if fsyncOff() {
		want["fsync"] = "off"
	}
	for name, value := range want {
		var got string
		if err := conn.QueryRow(t.Context(), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != value {
			t.Errorf("%s = %s, want %s", name, got, value)
		}
	}
}

// TestExternal treats the package's cluster as the server named by
// CREDITKIT_TEST_POSTGRES_URL: databases are made on it and dropped by Stop.
func TestExternal(t *testing.T) {
	t.Parallel()
	NewDatabaseURL(t, cluster) // skips when there is no server
	ctx := t.Context()

	ext, err := startExternal(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := ext.NewDatabase(ctx, "TestExternal/sub test")
	if err != nil {
		t.Fatal(err)
	}
	db := u[strings.LastIndex(u, "/")+1 : strings.Index(u, "?")]
	if !strings.HasPrefix(db, "testexternal_sub_test_"+ext.suffix+"_") {
		t.Errorf("database name %q does not carry the test name and the process suffix %q", db, ext.suffix)
	}
	connect(t, u).Close(ctx)

	if err := ext.Stop(); err != nil {
		t.Fatal(err)
	}
	var exists bool
	conn := connect(t, cluster.URL("postgres"))
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("Stop left database %s on the external server", db)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	c := &Cluster{}
	tests := []struct{ name, want string }{
		{"TestFoo", "testfoo_1"},
		{"TestFoo/sub case#01", "testfoo_sub_case_01_2"},
		{"", "t__3"},
		{"9lives", "t_9lives_4"},
		{strings.Repeat("x", 100), strings.Repeat("x", 61) + "_5"},
	}
	for _, tt := range tests {
		if got := c.databaseName(tt.name); got != tt.want {
			t.Errorf("databaseName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	if compareVersions("9.6", "15") >= 0 || compareVersions("16", "15") <= 0 || compareVersions("15", "15") != 0 {
		t.Error("versions must compare numerically: 9.6 < 15 < 16")
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
