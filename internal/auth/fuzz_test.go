package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: any string offered as a token is refused with
// ErrInvalidToken by every verifier, unless it is exactly a token the key
// signed for that verifier's audience; nothing panics.
func FuzzVerify(f *testing.F) {
	k, err := FromMaster(make([]byte, ed25519.SeedSize))
	if err != nil {
		f.Fatal(err)
	}
	k.now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	sess, _ := k.IssueSession(Session{PlayerID: "p1", Name: "Ada"}, time.Hour)
	join, _ := k.IssueJoin(Join{PlayerID: "p1", MatchID: "m", RoomID: "r", Team: 1}, time.Hour)
	svc, _ := k.IssueService(KindRegistry, "gameserver", time.Hour)
	ctl, _ := k.IssueService(KindControl, "matchmaker", time.Hour)
	adm, _ := k.IssueService(KindAdmin, "admin", time.Hour)
	inv, _, _ := k.IssueInvite(Invite{PlayerID: "p2", LeaderID: "p1", Mode: "team"}, time.Hour)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"p1","aud":["session"],"exp":9999999999}`)) + "."
	for _, s := range []string{sess, join, svc, ctl, adm, inv, none, "", ".", "..", "a.b.c", sess[:len(sess)-2], strings.ToUpper(sess),
		strings.Replace(sess, ".", "..", 1), "Bearer " + sess} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		_, es := k.VerifySession(token)
		_, ej := k.VerifyJoin(token)
		_, ev := k.VerifyService(KindRegistry, token)
		_, ec := k.VerifyService(KindControl, token)
		_, ea := k.VerifyService(KindAdmin, token)
		_, _, ei := k.VerifyInvite(token)
		_, er := k.VerifyJoinForRefresh(token, time.Hour)
		for name, err := range map[string]error{"session": es, "join": ej, "registry": ev, "control": ec, "admin": ea, "invite": ei, "join refresh": er} {
			if err != nil && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify %s(%q) = %v, want ErrInvalidToken", name, token, err)
			}
		}
		valid := 0
		for _, err := range []error{es, ej, ev, ec, ea, ei} {
			if err == nil {
				valid++
			}
		}
		if valid > 1 {
			t.Errorf("token %q verifies for %d audiences, want at most 1", token, valid)
		}
		BearerToken(token)
	})
}
