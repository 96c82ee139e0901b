package postgres

import (
	"context"
	"net/url"
	"testing"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestNoParallelQueries: the store's sessions plan without parallel
// workers unless the DSN asks for them.
func TestNoParallelQueries(t *testing.T) {
	dsn := testenv.Postgres(t)
	for _, tc := range []struct {
		name, param, want string
	}{
		{"default", "", "0"},
		{"set by the DSN", "2", "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			if tc.param != "" {
				q := u.Query()
				q.Set(noParallel, tc.param)
				u.RawQuery = q.Encode()
			}
			s, err := Open(context.Background(), u.String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			var got string
			if err := s.pool.QueryRow(context.Background(), "SHOW "+noParallel).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("SHOW %s = %q, want %q", noParallel, got, tc.want)
			}
		})
	}
}
