package auth

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func newTestKeys(t *testing.T) *Keys {
	t.Helper()
	text, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSessionRoundTrip(t *testing.T) {
	k := newTestKeys(t)
	tok, err := k.IssueSession(Session{PlayerID: "p1", Name: "Ada"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.VerifySession(tok)
	if err != nil {
		t.Fatalf("VerifySession: %v", err)
	}
	if got != (Session{PlayerID: "p1", Name: "Ada"}) {
		t.Errorf("VerifySession = %+v, want p1/Ada", got)
	}
}

func TestJoinRoundTrip(t *testing.T) {
	k := newTestKeys(t)
	now := time.Unix(1_800_000_000, 0).UTC()
	k.now = func() time.Time { return now }
	want := Join{PlayerID: "p1", Name: "Ada", MatchID: "m1", RoomID: "r1", Team: 2}
	tok, err := k.IssueJoin(want, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.VerifyJoin(tok)
	if err != nil {
		t.Fatalf("VerifyJoin: %v", err)
	}
	want.FirstIssued = now // stamped by IssueJoin
	if got != want {
		t.Errorf("VerifyJoin = %+v, want %+v", got, want)
	}
}

func TestRejects(t *testing.T) {
	k := newTestKeys(t)
	other := newTestKeys(t)
	session, _ := k.IssueSession(Session{PlayerID: "p1"}, time.Hour)
	foreign, _ := other.IssueSession(Session{PlayerID: "p1"}, time.Hour)
	expired, _ := k.IssueSession(Session{PlayerID: "p1"}, -time.Minute)
	join, _ := k.IssueJoin(Join{PlayerID: "p1", RoomID: "r1"}, time.Hour)
	noSubject, _ := k.IssueSession(Session{}, time.Hour)

	tests := []struct {
		name   string
		verify func(string) error
		token  string
	}{
		{"empty", sessionErr(k), ""},
		{"garbage", sessionErr(k), "not.a.token"},
		{"other key", sessionErr(k), foreign},
		{"expired", sessionErr(k), expired},
		{"join token as session", sessionErr(k), join},
		{"session token as join", func(s string) error { _, err := k.VerifyJoin(s); return err }, session},
		{"session token as service", func(s string) error { _, err := k.VerifyService(KindRegistry, s); return err }, session},
		{"no subject", sessionErr(k), noSubject},
		{"tampered", sessionErr(k), session[:len(session)-2] + "xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.verify(tt.token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("verify(%s) = %v, want ErrInvalidToken", tt.name, err)
			}
		})
	}
}

func sessionErr(k *Keys) func(string) error {
	return func(s string) error { _, err := k.VerifySession(s); return err }
}

func TestParseKeyErrors(t *testing.T) {
	for _, in := range []string{"", "!!!", "c2hvcnQ="} {
		if _, err := ParseKey(in); err == nil {
			t.Errorf("ParseKey(%q) = nil error, want one", in)
		}
	}
}

func TestLoadOrCreateKeyIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "auth.key")
	a, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.IssueService(KindControl, "matchmaker", time.Minute)
	if got, err := b.VerifyService(KindControl, tok); err != nil || got != "matchmaker" {
		t.Errorf("VerifyService with reloaded key = %q, %v; want matchmaker", got, err)
	}
}

func TestBearerToken(t *testing.T) {
	tests := map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "": "", "Bearer ": ""}
	for in, want := range tests {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}
