package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMatchmakerCORSOrigins: --cors-origins (SKIRMISH_CORS_ORIGINS) sets
// the browser origins the matchmaker answers CORS preflights for, and a
// malformed list is refused naming the flag.
func TestMatchmakerCORSOrigins(t *testing.T) {
	tests := []struct {
		name, env, wantErr string
		allowed, denied    string // origins to preflight
	}{
		{name: "default allows any", allowed: "http://anything.example"},
		{name: "list", env: "http://127.0.0.1:7800, https://game.example", allowed: "https://game.example", denied: "http://evil.example"},
		{name: "malformed", env: "127.0.0.1:7800", wantErr: "--cors-origins (SKIRMISH_CORS_ORIGINS)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SKIRMISH_CORS_ORIGINS", tt.env)
			fs := flag.NewFlagSet("matchmaker", flag.ContinueOnError)
			var c common
			var m matchmakerFlags
			c.register(fs)
			m.register(fs, "", "127.0.0.1:0")
			if err := parseFlags(fs, []string{"--data-dir", t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			var cl closer
			defer cl.close()
			mm, err := newMatchmaker(&m, &c, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), &cl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("newMatchmaker = %v, want an error naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- mm.Run(ctx, ln) }()
			defer func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Run: %v", err)
					}
				case <-time.After(15 * time.Second):
					t.Error("Run did not return")
				}
			}()
			preflight := func(origin string) string {
				req, _ := http.NewRequest(http.MethodOptions, "http://"+ln.Addr().String()+"/skirmish.v1.MatchmakerService/GetTicket", nil)
				req.Header.Set("Origin", origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.Header.Get("Access-Control-Allow-Origin")
			}
			if got := preflight(tt.allowed); got != tt.allowed && got != "*" {
				t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q, want it allowed", tt.allowed, got)
			}
			if tt.denied != "" {
				if got := preflight(tt.denied); got != "" {
					t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q, want none", tt.denied, got)
				}
			}
		})
	}
}

// TestMatchmakerStoreFlag: --matchmaker-store takes memory or redis and
// names itself when given anything else.
func TestMatchmakerStoreFlag(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"--matchmaker-store", "redis", "--redis-addr", "127.0.0.1:1"}}, // dials lazily
		{args: []string{"--matchmaker-store", "etcd"}, wantErr: "matchmaker-store"},
		{args: []string{"--matchmaker-store", "redis", "--redis-prefix", ""}, wantErr: "redis-prefix"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("matchmaker", flag.ContinueOnError)
			var c common
			var m matchmakerFlags
			c.register(fs)
			m.register(fs, "", "127.0.0.1:0")
			if err := parseFlags(fs, append([]string{"--data-dir", t.TempDir()}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			var cl closer
			defer cl.close()
			_, err := newMatchmaker(&m, &c, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), &cl)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("newMatchmaker = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("newMatchmaker = %v, want an error naming %q", err, tt.wantErr)
			}
		})
	}
}
