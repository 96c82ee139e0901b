package auth

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// issueAll mints one token of every kind with k.
func issueAll(t *testing.T, k *Keys) map[Kind]string {
	t.Helper()
	sess, err1 := k.IssueSession(Session{PlayerID: "p1"}, time.Hour)
	join, err2 := k.IssueJoin(Join{PlayerID: "p1", RoomID: "r1", MatchID: "m1"}, time.Hour)
	inv, _, err3 := k.IssueInvite(Invite{PlayerID: "p1", LeaderID: "p2", Mode: "team"}, time.Hour)
	ctl, err4 := k.IssueService(KindControl, "matchmaker", time.Hour)
	reg, err5 := k.IssueService(KindRegistry, "gameserver", time.Hour)
	adm, err6 := k.IssueService(KindAdmin, "admin", time.Hour)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		t.Fatal(err)
	}
	return map[Kind]string{KindSession: sess, KindJoin: join, KindInvite: inv, KindControl: ctl, KindRegistry: reg, KindAdmin: adm}
}

func verifyAs(k *Keys, kind Kind, tok string) error {
	var err error
	switch kind {
	case KindSession:
		_, err = k.VerifySession(tok)
	case KindJoin:
		_, err = k.VerifyJoin(tok)
	case KindInvite:
		_, _, err = k.VerifyInvite(tok)
	case KindControl, KindRegistry, KindAdmin:
		_, err = k.VerifyService(kind, tok)
	}
	return err
}

// TestKindsRefusedAsOtherKinds: a token of one kind is refused wherever
// another kind is expected, and accepted where its own kind is.
func TestKindsRefusedAsOtherKinds(t *testing.T) {
	k := newTestKeys(t)
	toks := issueAll(t, k)
	for made, tok := range toks {
		for _, want := range Kinds {
			err := verifyAs(k, want, tok)
			if made == want && err != nil {
				t.Errorf("%s token verified as %s: %v, want accepted", made, want, err)
			}
			if made != want && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s token verified as %s: %v, want ErrInvalidToken", made, want, err)
			}
		}
	}
}

// TestKindsHaveOwnKeys: each kind has its own key, so a token signed
// with another kind's key is refused even when it claims the right
// audience: a part that holds the join key cannot make a session token.
func TestKindsHaveOwnKeys(t *testing.T) {
	k := newTestKeys(t)
	for _, signer := range Kinds {
		for _, kind := range Kinds {
			if signer == kind {
				continue
			}
			forger, err := NewKeys(Key{Kind: kind, Private: k.Private(signer)})
			if err != nil {
				t.Fatal(err)
			}
			tok := issueAll(t, withAll(t, forger, kind))[kind]
			if err := verifyAs(k, kind, tok); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s token signed with the %s key: %v, want ErrInvalidToken", kind, signer, err)
			}
		}
	}
	seen := map[string]Kind{}
	for _, kind := range Kinds {
		pub := string(k.Public(kind))
		if other, ok := seen[pub]; ok {
			t.Errorf("%s and %s share a public key", kind, other)
		}
		seen[pub] = kind
	}
}

// withAll fills the kinds forger lacks with fresh keys, so issueAll can
// mint every kind; kind keeps forger's key.
func withAll(t *testing.T, forger *Keys, kind Kind) *Keys {
	t.Helper()
	fresh := newTestKeys(t)
	var keys []Key
	for _, kd := range Kinds {
		if kd == kind {
			keys = append(keys, Key{Kind: kd, Private: forger.Private(kd)})
		} else {
			keys = append(keys, Key{Kind: kd, Private: fresh.Private(kd)})
		}
	}
	out, err := NewKeys(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyOnlyCannotMint: keys restricted to verifying a kind verify
// it and mint nothing; the kinds not needed are neither minted nor
// verified.
func TestVerifyOnlyCannotMint(t *testing.T) {
	full := newTestKeys(t)
	toks := issueAll(t, full)
	gs, err := full.Only(Needs{KindJoin: Verify, KindControl: Verify, KindRegistry: Sign})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs.VerifyJoin(toks[KindJoin]); err != nil {
		t.Errorf("verify-only VerifyJoin = %v, want nil", err)
	}
	if _, err := gs.IssueJoin(Join{PlayerID: "p1", RoomID: "r"}, time.Minute); !errors.Is(err, ErrNoKey) {
		t.Errorf("verify-only IssueJoin = %v, want ErrNoKey", err)
	}
	if gs.Private(KindJoin) != nil || gs.CanSign(KindJoin) || !gs.CanVerify(KindJoin) {
		t.Errorf("verify-only keys hold the join private key or cannot verify")
	}
	if _, err := gs.IssueSession(Session{PlayerID: "p1"}, time.Minute); !errors.Is(err, ErrNoKey) {
		t.Errorf("IssueSession without the session key = %v, want ErrNoKey", err)
	}
	if _, err := gs.VerifySession(toks[KindSession]); !errors.Is(err, ErrNoKey) {
		t.Errorf("VerifySession without the session key = %v, want ErrNoKey", err)
	}
	if _, err := gs.IssueService(KindRegistry, "gameserver", time.Minute); err != nil {
		t.Errorf("IssueService(registry) with the registry key = %v", err)
	}
	// The gameserver verifies the matchmaker's control calls and can
	// mint neither them nor admin tokens.
	if _, err := gs.VerifyService(KindControl, toks[KindControl]); err != nil {
		t.Errorf("verify-only VerifyService(control) = %v", err)
	}
	for _, kind := range []Kind{KindControl, KindAdmin} {
		if _, err := gs.IssueService(kind, "matchmaker", time.Minute); !errors.Is(err, ErrNoKey) {
			t.Errorf("IssueService(%s) without its key = %v, want ErrNoKey", kind, err)
		}
	}
	if _, err := full.IssueService(KindJoin, "x", time.Minute); err == nil {
		t.Error("IssueService(join) = nil error, want one: join is not a service kind")
	}
	// A verify-only Keys cannot be widened to sign.
	if _, err := gs.Only(Needs{KindJoin: Sign}); !errors.Is(err, ErrNoKey) {
		t.Errorf("Only(sign join) of verify-only keys = %v, want ErrNoKey", err)
	}
	// Keys made from a public key alone verify and cannot sign.
	pubOnly, err := NewKeys(Key{Kind: KindJoin, Public: full.Public(KindJoin)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pubOnly.VerifyJoin(toks[KindJoin]); err != nil {
		t.Errorf("public-key VerifyJoin = %v", err)
	}
	if _, err := pubOnly.IssueJoin(Join{PlayerID: "p"}, time.Minute); !errors.Is(err, ErrNoKey) {
		t.Errorf("public-key IssueJoin = %v, want ErrNoKey", err)
	}
}

func TestNewKeysErrors(t *testing.T) {
	full := newTestKeys(t)
	other := newTestKeys(t)
	tests := map[string][]Key{
		"unknown kind":   {{Kind: "bogus", Public: full.Public(KindJoin)}},
		"twice":          {{Kind: KindJoin, Public: full.Public(KindJoin)}, {Kind: KindJoin, Public: full.Public(KindJoin)}},
		"short public":   {{Kind: KindJoin, Public: ed25519.PublicKey("short")}},
		"mismatched":     {{Kind: KindJoin, Private: full.Private(KindJoin), Public: other.Public(KindJoin)}},
		"short private":  {{Kind: KindJoin, Private: ed25519.PrivateKey("short")}},
		"neither public": {{Kind: KindJoin}},
	}
	for name, keys := range tests {
		if _, err := NewKeys(keys...); err == nil {
			t.Errorf("NewKeys(%s) = nil error, want one", name)
		}
	}
}

func TestDeriveKeyStable(t *testing.T) {
	master := make([]byte, 32)
	master[0] = 7
	a, _ := DeriveKey(master, KindJoin)
	b, _ := DeriveKey(master, KindJoin)
	c, _ := DeriveKey(master, KindSession)
	if !a.Equal(b) || a.Equal(c) {
		t.Errorf("DeriveKey: same kind gives different keys or kinds share one")
	}
	if _, err := DeriveKey(master[:31], KindJoin); err == nil {
		t.Error("DeriveKey(31-byte master) = nil error, want one")
	}
}

// TestJoinRefresh: an expired join token passes VerifyJoinForRefresh
// while it is younger than maxAge, and nothing else does.
func TestJoinRefresh(t *testing.T) {
	k := newTestKeys(t)
	now := time.Unix(1_800_000_000, 0).UTC()
	k.now = func() time.Time { return now }
	want := Join{PlayerID: "p1", Name: "Ada", MatchID: "m1", RoomID: "r1", Team: 1, GameserverID: "gs1"}
	tok, err := k.IssueJoin(want, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want.FirstIssued = now
	other := newTestKeys(t)
	other.now = k.now
	foreign, _ := other.IssueJoin(want, time.Minute)
	session, _ := k.IssueSession(Session{PlayerID: "p1"}, time.Hour)

	now = now.Add(10 * time.Minute) // expired
	if _, err := k.VerifyJoin(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyJoin(expired) = %v, want ErrInvalidToken", err)
	}
	got, err := k.VerifyJoinForRefresh(tok, time.Hour)
	if err != nil || got != want {
		t.Fatalf("VerifyJoinForRefresh(expired, young) = %+v, %v; want %+v", got, err, want)
	}
	for name, tk := range map[string]string{"other key": foreign, "session": session, "tampered": tok[:len(tok)-2] + "xx"} {
		if _, err := k.VerifyJoinForRefresh(tk, time.Hour); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("VerifyJoinForRefresh(%s) = %v, want ErrInvalidToken", name, err)
		}
	}
	now = now.Add(time.Hour) // older than maxAge
	if _, err := k.VerifyJoinForRefresh(tok, time.Hour); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyJoinForRefresh(too old) = %v, want ErrInvalidToken", err)
	}
}

// TestJoinRefreshLimitedFromFirstIssue: a player who refreshes a join
// token again and again, each new token for the last (as the matchmaker's
// RefreshJoinToken does), gets new ones only until maxAge after the first
// token of the seat was issued, not maxAge after the latest.
func TestJoinRefreshLimitedFromFirstIssue(t *testing.T) {
	k := newTestKeys(t)
	first := time.Unix(1_800_000_000, 0)
	now := first
	k.now = func() time.Time { return now }
	const ttl, maxAge, every = 2 * time.Minute, 6 * time.Hour, 10 * time.Minute
	tok, err := k.IssueJoin(Join{PlayerID: "p1", RoomID: "r1", GameserverID: "gs1"}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 * maxAge / every {
		now = now.Add(every) // the last token expired a while ago
		seat, err := k.VerifyJoinForRefresh(tok, maxAge)
		if err != nil {
			if age := now.Sub(first); age < maxAge || age >= maxAge+every {
				t.Fatalf("refresh refused %v after the first issue: %v; want it refused from %v", age, err, maxAge)
			}
			return
		}
		if tok, err = k.IssueJoin(seat, ttl); err != nil {
			t.Fatal(err)
		}
		if _, err := k.VerifyJoin(tok); err != nil {
			t.Fatalf("VerifyJoin(refreshed) = %v, want it valid", err)
		}
	}
	t.Fatalf("still refreshed %v after the first issue, want refused from %v", now.Sub(first), maxAge)
}

// TestJoinRefreshOfTokenWithoutFirstIssue: a join token made before the
// orig_iat claim existed counts its age from its own issue time, and a
// token refreshed from it keeps that time as the first issue; a token
// whose first issue is after its own is refused.
func TestJoinRefreshOfTokenWithoutFirstIssue(t *testing.T) {
	k := newTestKeys(t)
	issued := time.Unix(1_800_000_000, 0).UTC()
	now := issued
	k.now = func() time.Time { return now }
	const maxAge = 6 * time.Hour
	old, err := k.sign(KindJoin, "p1", 2*time.Minute, claims{RoomID: "r1", Gameserver: "gs1"}) // as before orig_iat
	if err != nil {
		t.Fatal(err)
	}
	now = issued.Add(maxAge - time.Minute)
	seat, err := k.VerifyJoinForRefresh(old, maxAge)
	if err != nil || !seat.FirstIssued.Equal(issued) {
		t.Fatalf("VerifyJoinForRefresh(old token, younger than maxAge) = %+v, %v; want first issued %v", seat, err, issued)
	}
	refreshed, err := k.IssueJoin(seat, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now = issued.Add(maxAge)
	for name, tok := range map[string]string{"old": old, "refreshed from old": refreshed} {
		if _, err := k.VerifyJoinForRefresh(tok, maxAge); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("VerifyJoinForRefresh(%s, maxAge after its first issue) = %v, want ErrInvalidToken", name, err)
		}
	}
	now = issued
	later, err := k.sign(KindJoin, "p1", 2*time.Minute, claims{RoomID: "r1", FirstIssued: jwt.NewNumericDate(issued.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.VerifyJoinForRefresh(later, maxAge); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyJoinForRefresh(first issued after itself) = %v, want ErrInvalidToken", err)
	}
}

func TestInviteRoundTrip(t *testing.T) {
	k := newTestKeys(t)
	tok, inv, err := k.IssueInvite(Invite{PlayerID: "p2", Name: "Bo", LeaderID: "p1", Mode: "team"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if inv.ID == "" {
		t.Fatal("IssueInvite gave no id")
	}
	got, exp, err := k.VerifyInvite(tok)
	if err != nil || got != inv || exp.IsZero() {
		t.Errorf("VerifyInvite = %+v, %v, %v; want %+v", got, exp, err, inv)
	}
}

// TestLoadOrCreateMasterAtOnce: parts starting at once on one data
// directory all read the one key that was made, never a half-written file.
func TestLoadOrCreateMasterAtOnce(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "auth.key")
		const parts = 8
		keys := make([][]byte, parts)
		errs := make([]error, parts)
		var wg sync.WaitGroup
		for i := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys[i], errs[i] = LoadOrCreateMaster(path)
			}()
		}
		wg.Wait()
		for i := range parts {
			if errs[i] != nil {
				t.Fatalf("round %d, part %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("round %d: part %d read another key than part 0", round, i)
			}
		}
	}
}
