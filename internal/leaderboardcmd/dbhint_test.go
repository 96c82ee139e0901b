package leaderboardcmd

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestMissingDatabaseHint: a postgres:// URL naming a database the server
// does not have is refused with the command that creates it.
func TestMissingDatabaseHint(t *testing.T) {
	dsn := testenv.Postgres(t)
	if dsn == "" {
		return
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/skirmish_never_created"
	var cl cli.Closer
	defer cl.Close()
	_, err = OpenStore(context.Background(), &cli.Common{DataDir: t.TempDir()}, &StoreFlags{Database: u.String()}, &cl)
	if err == nil {
		t.Fatal("OpenStore of a missing database succeeded")
	}
	want := "create it once with: createdb -h " + u.Hostname()
	if !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), " skirmish_never_created") {
		t.Errorf("error = %q, want it to contain %q and end with the database name", err, want)
	}
}
