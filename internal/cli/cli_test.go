package cli

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestRedactSetting(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"auth-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"auth-key", "", ""},
		{"join-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"session-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"invite-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"control-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"registry-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"admin-token-key", "c2VjcmV0c2VlZA==", "REDACTED"},
		{"join-public-key", "cHVibGlj", "cHVibGlj"},
		{"database", "postgres://skirmish:hunter2@db:5432/skirmish?sslmode=disable", "postgres://skirmish:xxxxx@db:5432/skirmish?sslmode=disable"},
		{"database", "postgres://skirmish@db:5432/skirmish", "postgres://skirmish@db:5432/skirmish"},
		{"database", "host=db user=skirmish password=hunter2", "REDACTED"},
		{"database", "/var/lib/skirmish/leaderboard.db", "/var/lib/skirmish/leaderboard.db"},
		{"sqs-endpoint", "http://localhost:4566", "http://localhost:4566"},
		{"db-password", "hunter2", "REDACTED"},
		{"log-level", "info", "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			if got := RedactSetting(tt.name, tt.value); got != tt.want {
				t.Errorf("RedactSetting(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
			}
		})
	}
}

// TestParse: a flag is set from its SKIRMISH_* environment variable, and
// a flag given on the command line wins over it.
func TestParse(t *testing.T) {
	t.Setenv("SKIRMISH_ROUND_TIME", "45s")
	t.Setenv("SKIRMISH_SEATS", "6")
	fs := NewFlagSet("test", &bytes.Buffer{})
	round := fs.Duration("round-time", time.Minute, "")
	seats := fs.Int("seats", 2, "")
	if err := Parse(fs, []string{"--seats", "4"}); err != nil {
		t.Fatal(err)
	}
	if *round != 45*time.Second || *seats != 4 {
		t.Errorf("round-time %s, seats %d; want 45s (environment), 4 (flag)", *round, *seats)
	}
}

// TestUsage: -h lists every flag with its environment variable and
// default, and ends in flag.ErrHelp, which exits with status 0.
func TestUsage(t *testing.T) {
	var out bytes.Buffer
	fs := NewFlagSet("mygame", &out)
	var c Common
	c.Register(fs)
	fs.Duration("round-time", time.Minute, "how long a round lasts")
	err := Parse(fs, []string{"-h"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse(-h) = %v, want flag.ErrHelp", err)
	}
	if code := ExitCode("mygame", err, &out); code != 0 {
		t.Errorf("ExitCode(ErrHelp) = %d, want 0", code)
	}
	for _, want := range []string{"Usage: mygame [flags]", "-round-time duration    $SKIRMISH_ROUND_TIME", "how long a round lasts (default 1m0s)", "-data-dir string    $SKIRMISH_DATA_DIR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	var errOut bytes.Buffer
	if code := ExitCode("mygame", errors.New("boom"), &errOut); code != 2 || errOut.String() != "mygame: boom\n" {
		t.Errorf("ExitCode(boom) = %d, printed %q; want 2, %q", code, errOut.String(), "mygame: boom\n")
	}
}

func TestSettingErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{SettingError("queue-path", "cannot open"), "--queue-path (SKIRMISH_QUEUE_PATH): cannot open"},
		{OneOf("log-format", "xml", "text", "json"), `--log-format (SKIRMISH_LOG_FORMAT): "xml" is not one of text, json`},
		{OneOf("log-format", "json", "text", "json"), ""},
		{(&Queue{Backend: "kafka", Visibility: time.Minute, MaxReceives: 5}).Validate(), `--queue (SKIRMISH_QUEUE): "kafka" is not one of sqlite, sqs`},
		{(&Queue{Backend: "sqs", Visibility: time.Millisecond, MaxReceives: 5}).Validate(), "--queue-visibility-timeout (SKIRMISH_QUEUE_VISIBILITY_TIMEOUT): must be between 1s and 12h, got 1ms"},
		{(&Common{LogLevel: "info", LogFormat: "text", TrustedProxies: "not-an-ip"}).Validate(), "--trusted-proxies (SKIRMISH_TRUSTED_PROXIES)"},
	}
	for _, tt := range tests {
		got := ""
		if tt.err != nil {
			got = tt.err.Error()
		}
		if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("error %q, want %q", got, tt.want)
		}
	}
}
