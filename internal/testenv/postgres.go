package testenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres returns the DSN of a fresh, empty database made for this test
// and dropped when it ends. The server is the one SKIRMISH_TEST_POSTGRES_DSN
// names, else 127.0.0.1:5432 with trust auth, database "test", as $PGUSER
// or, failing that, "postgres" or "root". When no server answers the test
// ends through Missing.
func Postgres(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := connectAdmin(ctx)
	if err != nil {
		Missing(t, "PostgreSQL", err)
		return ""
	}
	name := "skirmish_test_" + strings.ToLower(rand.Text()[:16])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		t.Fatalf("create test database: %v", err)
	}
	cfg := admin.Config()
	admin.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/" + name}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	}
	if cfg.TLSConfig == nil {
		u.RawQuery = "sslmode=disable"
	}
	return u.String()
}

// connectAdmin connects to the base database, trying each candidate user.
func connectAdmin(ctx context.Context) (*pgx.Conn, error) {
	if dsn := os.Getenv("SKIRMISH_TEST_POSTGRES_DSN"); dsn != "" {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("SKIRMISH_TEST_POSTGRES_DSN: %w", err)
		}
		return c, nil
	}
	users := []string{"postgres", "root"}
	if u := os.Getenv("PGUSER"); u != "" {
		users = []string{u}
	}
	var errs []error
	for _, u := range users {
		c, err := pgx.Connect(ctx, "postgres://"+u+"@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5")
		if err == nil {
			return c, nil
		}
		errs = append(errs, fmt.Errorf("user %s: %w", u, err))
	}
	return nil, errors.Join(errs...)
}
