package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// keysEnv runs `skirmish keys` for a master key and returns its settings.
func keysEnv(t *testing.T, master string) map[string]string {
	t.Helper()
	var out bytes.Buffer
	if err := runKeys(t.Context(), []string{"--auth-key", master}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}

// partKeys parses args into a common and returns its keys for the part.
func partKeys(t *testing.T, part string, needs auth.Needs, args ...string) (*auth.Keys, error) {
	t.Helper()
	fs := flag.NewFlagSet(part, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c common
	c.register(fs)
	if err := parseFlags(fs, append([]string{"--data-dir", t.TempDir()}, args...)); err != nil {
		t.Fatal(err)
	}
	return c.Keys(part, needs, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestPerKindKeys: each part run with only the keys `skirmish keys`
// says it needs works with tokens the others mint, holds no private key
// of a kind it only verifies, and is refused at start when it lacks one
// it signs with.
func TestPerKindKeys(t *testing.T) {
	master, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := keysEnv(t, master)
	flagOf := func(name string) string {
		return "--" + strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "SKIRMISH_")), "_", "-") + "=" + env[name]
	}
	lb, err := partKeys(t, "leaderboard", httpapi.KeyNeeds(), flagOf("SKIRMISH_SESSION_KEY"), flagOf("SKIRMISH_ADMIN_TOKEN_PUBLIC_KEY"))
	if err != nil {
		t.Fatalf("leaderboard keys: %v", err)
	}
	mmFlags := []string{flagOf("SKIRMISH_SESSION_PUBLIC_KEY"), flagOf("SKIRMISH_JOIN_KEY"), flagOf("SKIRMISH_INVITE_KEY"),
		flagOf("SKIRMISH_CONTROL_KEY"), flagOf("SKIRMISH_REGISTRY_PUBLIC_KEY")}
	mm, err := partKeys(t, "matchmaker", matchmaker.KeyNeeds(), mmFlags...)
	if err != nil {
		t.Fatalf("matchmaker keys: %v", err)
	}
	gsFlags := []string{flagOf("SKIRMISH_JOIN_PUBLIC_KEY"), flagOf("SKIRMISH_CONTROL_PUBLIC_KEY"), flagOf("SKIRMISH_REGISTRY_KEY")}
	gs, err := partKeys(t, "gameserver", gameserver.KeyNeeds(), gsFlags...)
	if err != nil {
		t.Fatalf("gameserver keys: %v", err)
	}
	// The chain of one match: sign-in, matchmaking, join.
	sess, err := lb.IssueSession(auth.Session{PlayerID: "p1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.VerifySession(sess); err != nil {
		t.Errorf("matchmaker refuses the leaderboard's session: %v", err)
	}
	join, err := mm.IssueJoin(auth.Join{PlayerID: "p1", RoomID: "r"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.VerifyJoin(join); err != nil {
		t.Errorf("gameserver refuses the matchmaker's join token: %v", err)
	}
	ctl, err := mm.IssueService(auth.KindControl, "matchmaker", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.VerifyService(auth.KindControl, ctl); err != nil {
		t.Errorf("gameserver refuses the matchmaker's control token: %v", err)
	}
	reg, err := gs.IssueService(auth.KindRegistry, "gameserver", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.VerifyService(auth.KindRegistry, reg); err != nil {
		t.Errorf("matchmaker refuses the gameserver's registry token: %v", err)
	}
	// An admin token (the operator's) opens the leaderboard's admin API;
	// a gameserver's registry token does not.
	admin, err := auth.NewKeys(auth.Key{Kind: auth.KindAdmin, Private: mustPrivate(t, env["SKIRMISH_ADMIN_TOKEN_KEY"])})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := admin.IssueService(auth.KindAdmin, "admin", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lb.VerifyService(auth.KindAdmin, adm); err != nil {
		t.Errorf("leaderboard refuses the operator's admin token: %v", err)
	}
	if _, err := lb.VerifyService(auth.KindAdmin, reg); err == nil {
		t.Error("leaderboard accepts a gameserver's registry token as an admin token")
	}
	// Tokens of the master key (--auth-key) verify with the per-kind keys.
	full, err := auth.ParseKey(master)
	if err != nil {
		t.Fatal(err)
	}
	if old, _ := full.IssueJoin(auth.Join{PlayerID: "p1", RoomID: "r"}, time.Minute); old != "" {
		if _, err := gs.VerifyJoin(old); err != nil {
			t.Errorf("gameserver refuses a join token of the master key: %v", err)
		}
	}
	// Verify-only parts cannot mint.
	for name, mint := range map[string]func() error{
		"gameserver join":     func() error { _, err := gs.IssueJoin(auth.Join{PlayerID: "p"}, time.Minute); return err },
		"gameserver session":  func() error { _, err := gs.IssueSession(auth.Session{PlayerID: "p"}, time.Minute); return err },
		"matchmaker session":  func() error { _, err := mm.IssueSession(auth.Session{PlayerID: "p"}, time.Minute); return err },
		"leaderboard join":    func() error { _, err := lb.IssueJoin(auth.Join{PlayerID: "p"}, time.Minute); return err },
		"leaderboard admin":   func() error { _, err := lb.IssueService(auth.KindAdmin, "admin", time.Minute); return err },
		"gameserver admin":    func() error { _, err := gs.IssueService(auth.KindAdmin, "admin", time.Minute); return err },
		"matchmaker admin":    func() error { _, err := mm.IssueService(auth.KindAdmin, "admin", time.Minute); return err },
		"gameserver control":  func() error { _, err := gs.IssueService(auth.KindControl, "matchmaker", time.Minute); return err },
		"matchmaker registry": func() error { _, err := mm.IssueService(auth.KindRegistry, "gameserver", time.Minute); return err },
		"leaderboard invite": func() error {
			_, _, err := lb.IssueInvite(auth.Invite{PlayerID: "p", LeaderID: "q"}, time.Minute)
			return err
		},
		"gameserver invite": func() error {
			_, _, err := gs.IssueInvite(auth.Invite{PlayerID: "p", LeaderID: "q"}, time.Minute)
			return err
		},
		"matchmaker (no more)": func() error { _, err := mm.Only(auth.Needs{auth.KindSession: auth.Sign}); return err },
	} {
		if err := mint(); !errors.Is(err, auth.ErrNoKey) {
			t.Errorf("%s: %v, want ErrNoKey", name, err)
		}
	}

	// A private key given to a part that only verifies is reduced to its
	// public half.
	gs2, err := partKeys(t, "gameserver", gameserver.KeyNeeds(), flagOf("SKIRMISH_JOIN_KEY"), flagOf("SKIRMISH_CONTROL_PUBLIC_KEY"), flagOf("SKIRMISH_REGISTRY_KEY"))
	if err != nil || gs2.CanSign(auth.KindJoin) {
		t.Errorf("gameserver given --join-key: %v, can sign join %v; want verify only", err, err == nil && gs2.CanSign(auth.KindJoin))
	}
	// Refusals name the setting.
	for _, tt := range []struct {
		name, part string
		needs      auth.Needs
		args       []string
		want       string
	}{
		{"matchmaker with a public join key", "matchmaker", matchmaker.KeyNeeds(),
			[]string{flagOf("SKIRMISH_SESSION_PUBLIC_KEY"), flagOf("SKIRMISH_JOIN_PUBLIC_KEY"), flagOf("SKIRMISH_INVITE_KEY"), flagOf("SKIRMISH_CONTROL_KEY"), flagOf("SKIRMISH_REGISTRY_PUBLIC_KEY")}, "--join-key"},
		{"gameserver without a registry key", "gameserver", gameserver.KeyNeeds(), []string{flagOf("SKIRMISH_JOIN_PUBLIC_KEY"), flagOf("SKIRMISH_CONTROL_PUBLIC_KEY")}, "--registry-key"},
		{"bad public key", "gameserver", gameserver.KeyNeeds(), []string{"--join-public-key=bm9wZQ==", flagOf("SKIRMISH_CONTROL_PUBLIC_KEY"), flagOf("SKIRMISH_REGISTRY_KEY")}, "--join-public-key"},
		{"bad master", "gameserver", gameserver.KeyNeeds(), []string{"--auth-key=bm9wZQ=="}, "--auth-key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := partKeys(t, tt.part, tt.needs, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("keys = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestKeysFromDataDir: with no key setting at all, every part derives its
// keys from <data-dir>/auth.key, so `skirmish dev` and parts sharing a
// data directory need no configuration.
func TestKeysFromDataDir(t *testing.T) {
	dir := t.TempDir()
	get := func(part string, needs auth.Needs) *auth.Keys {
		fs := flag.NewFlagSet(part, flag.ContinueOnError)
		var c common
		c.register(fs)
		if err := parseFlags(fs, []string{"--data-dir", dir}); err != nil {
			t.Fatal(err)
		}
		k, err := c.Keys(part, needs, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	lb, mm := get("leaderboard", httpapi.KeyNeeds()), get("matchmaker", matchmaker.KeyNeeds())
	sess, err := lb.IssueSession(auth.Session{PlayerID: "p1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.VerifySession(sess); err != nil {
		t.Errorf("matchmaker refuses the leaderboard's session from the shared data dir: %v", err)
	}
}

func mustPrivate(t *testing.T, text string) ed25519.PrivateKey {
	t.Helper()
	k, err := auth.ParsePrivateKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
