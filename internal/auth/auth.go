// Package auth issues and verifies the signed tokens that Skirmish services
// exchange: session tokens for signed-in players, join tokens that admit a
// player to one room, party invites that let one party leader bring a
// player onto a ticket, and service tokens of three kinds for calls
// between services (control, registry, admin).
//
// Tokens are JWTs signed with Ed25519 (EdDSA), and every kind of token has
// its own key pair (keys.go): a part holds the private key of only the
// kinds it mints and the public key of the kinds it only verifies, so a
// gameserver, which admits players with join tokens, can neither mint
// one nor a session token. The audience claim tells the kinds apart too.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Audiences tell the kinds of token apart, so that one kind can never be
// used as another.
const (
	AudienceSession  = "skirmish-session"
	AudienceJoin     = "skirmish-join"
	AudienceInvite   = "skirmish-party-invite"
	AudienceControl  = "skirmish-control"
	AudienceRegistry = "skirmish-registry"
	AudienceAdmin    = "skirmish-admin"
)

const issuer = "skirmish"

// ErrInvalidToken is returned for any token that does not verify: malformed,
// badly signed, expired or of the wrong kind.
var ErrInvalidToken = errors.New("invalid token")

// ErrNoKey is returned by an Issue or Verify method when the Keys hold no
// key for that kind of token: no private key to mint one, or no key at
// all to verify one. It is a configuration fault, not the client's.
var ErrNoKey = errors.New("no key for this kind of token")

// Session identifies a signed-in player.
type Session struct {
	PlayerID string
	Name     string
}

// Join admits one player to one room.
type Join struct {
	PlayerID string
	Name     string
	MatchID  string
	RoomID   string
	Team     uint32
	// GameserverID names the gameserver that hosts the room; the
	// matchmaker uses it to tell whether the room still runs before it
	// re-issues the token. Empty in tokens made before it existed.
	GameserverID string
	// FirstIssued is when the first join token of this seat was issued.
	// IssueJoin stamps it (now, when zero) and a token re-issued from a
	// verified one keeps it, so VerifyJoinForRefresh measures its maxAge
	// from the first token, however often it was refreshed. A token made
	// before the claim existed gives its own issue time. Verified tokens
	// give it in UTC, to the second.
	FirstIssued time.Time
}

// Invite lets one party leader put one player on one ticket: the player
// (PlayerID, Name) mints it with their own session and hands it to the
// leader (LeaderID), never their session token. ID is unique per invite,
// so that it can be used once.
type Invite struct {
	ID       string
	PlayerID string
	Name     string
	LeaderID string
	Mode     string
}

// claims is the JWT body of every token kind; the audience says which
// fields are set.
type claims struct {
	jwt.RegisteredClaims
	Name       string `json:"name,omitempty"`
	MatchID    string `json:"mid,omitempty"`
	RoomID     string `json:"rid,omitempty"`
	Team       uint32 `json:"team,omitempty"`
	Gameserver string `json:"gs,omitempty"`
	Leader     string `json:"ldr,omitempty"`
	Mode       string `json:"mode,omitempty"`
	// FirstIssued is a join token's orig_iat: the issue time of the first
	// token of its seat, carried over by every refresh.
	FirstIssued *jwt.NumericDate `json:"orig_iat,omitempty"`
}

// IssueSession signs a session token for a player, valid for ttl.
func (k *Keys) IssueSession(s Session, ttl time.Duration) (string, error) {
	return k.sign(KindSession, s.PlayerID, ttl, claims{Name: s.Name})
}

// VerifySession checks a session token and returns the player it names.
func (k *Keys) VerifySession(token string) (Session, error) {
	c, err := k.verify(token, KindSession, 0)
	if err != nil {
		return Session{}, err
	}
	return Session{PlayerID: c.Subject, Name: c.Name}, nil
}

// IssueJoin signs a join token for one seat in one room, valid for ttl.
// A j.FirstIssued that is set (a refresh: j came from
// VerifyJoinForRefresh) goes into the token as it is; zero means now.
func (k *Keys) IssueJoin(j Join, ttl time.Duration) (string, error) {
	first := j.FirstIssued
	if first.IsZero() {
		first = k.now()
	}
	return k.sign(KindJoin, j.PlayerID, ttl, claims{Name: j.Name, MatchID: j.MatchID, RoomID: j.RoomID, Team: j.Team,
		Gameserver: j.GameserverID, FirstIssued: jwt.NewNumericDate(first)})
}

// VerifyJoin checks a join token and returns the seat it grants.
func (k *Keys) VerifyJoin(token string) (Join, error) {
	c, err := k.verify(token, KindJoin, 0)
	if err != nil {
		return Join{}, err
	}
	return joinOf(c), nil
}

// VerifyJoinForRefresh checks a join token as VerifyJoin does, except that
// an expired token passes as long as the first token of its seat
// (Join.FirstIssued) was issued less than maxAge ago: the matchmaker
// re-issues such a token for a player whose room still runs, and however
// often it does, not past maxAge from the first. It returns
// ErrInvalidToken for anything else.
func (k *Keys) VerifyJoinForRefresh(token string, maxAge time.Duration) (Join, error) {
	c, err := k.verify(token, KindJoin, maxAge)
	if err != nil {
		return Join{}, err
	}
	return joinOf(c), nil
}

func joinOf(c *claims) Join {
	j := Join{PlayerID: c.Subject, Name: c.Name, MatchID: c.MatchID, RoomID: c.RoomID, Team: c.Team, GameserverID: c.Gameserver}
	if first := firstIssued(c); first != nil {
		j.FirstIssued = first.Time.UTC()
	}
	return j
}

// firstIssued is the issue time of the first token of a join token's
// seat: its orig_iat, or its own issue time when it has none (made before
// the claim existed).
func firstIssued(c *claims) *jwt.NumericDate {
	if c.FirstIssued != nil {
		return c.FirstIssued
	}
	return c.IssuedAt
}

// IssueInvite signs a party invite, valid for ttl. An empty inv.ID gets a
// new random one; the invite's ID is returned with the token.
func (k *Keys) IssueInvite(inv Invite, ttl time.Duration) (string, Invite, error) {
	if inv.ID == "" {
		inv.ID = uuid.NewString()
	}
	tok, err := k.sign(KindInvite, inv.PlayerID, ttl, claims{
		RegisteredClaims: jwt.RegisteredClaims{ID: inv.ID}, Name: inv.Name, Leader: inv.LeaderID, Mode: inv.Mode,
	})
	return tok, inv, err
}

// VerifyInvite checks a party invite and returns it with its expiry.
func (k *Keys) VerifyInvite(token string) (Invite, time.Time, error) {
	c, err := k.verify(token, KindInvite, 0)
	if err != nil {
		return Invite{}, time.Time{}, err
	}
	if c.ID == "" || c.Leader == "" {
		return Invite{}, time.Time{}, fmt.Errorf("%w: invite without id or leader", ErrInvalidToken)
	}
	return Invite{ID: c.ID, PlayerID: c.Subject, Name: c.Name, LeaderID: c.Leader, Mode: c.Mode}, c.ExpiresAt.Time, nil
}

// IssueService signs a service token of the kind (KindControl,
// KindRegistry or KindAdmin) that names the calling service.
func (k *Keys) IssueService(kind Kind, service string, ttl time.Duration) (string, error) {
	if !slices.Contains(serviceKinds, kind) {
		return "", fmt.Errorf("sign service token: %q is not a kind of service token", kind)
	}
	return k.sign(kind, service, ttl, claims{})
}

// VerifyService checks a service token of the kind and returns the
// calling service.
func (k *Keys) VerifyService(kind Kind, token string) (string, error) {
	if !slices.Contains(serviceKinds, kind) {
		return "", fmt.Errorf("%w: %q is not a kind of service token", ErrInvalidToken, kind)
	}
	c, err := k.verify(token, kind, 0)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}

func (k *Keys) sign(kind Kind, subject string, ttl time.Duration, c claims) (string, error) {
	priv := k.signers[kind]
	if priv == nil {
		return "", fmt.Errorf("sign %s token: %w: this part holds no %s signing key", kind, ErrNoKey, kind)
	}
	now := k.now()
	c.RegisteredClaims = jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{kind.Audience()},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		ID:        c.ID,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", kind, err)
	}
	return s, nil
}

// verify checks a token of the kind. With maxAge > 0 (join tokens only)
// the expiry is not checked; the first token of the seat must instead have
// been issued less than maxAge ago (firstIssued).
func (k *Keys) verify(token string, kind Kind, maxAge time.Duration) (*claims, error) {
	pub := k.verifiers[kind]
	if pub == nil {
		return nil, fmt.Errorf("verify %s token: %w: this part holds no %s key", kind, ErrNoKey, kind)
	}
	const leeway = 5 * time.Second
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()})}
	if maxAge > 0 {
		// The claims are checked below, after the signature: jwt checks
		// claims first and would stop at the expiry.
		opts = append(opts, jwt.WithoutClaimsValidation())
	} else {
		opts = append(opts,
			jwt.WithAudience(kind.Audience()),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(k.now),
			jwt.WithLeeway(leeway),
		)
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return pub, nil }, opts...)
	if err == nil && maxAge > 0 {
		now := k.now()
		switch {
		case c.Issuer != issuer || !slices.Contains(c.Audience, kind.Audience()):
			err = errors.New("wrong issuer or audience")
		case c.IssuedAt == nil || c.ExpiresAt == nil:
			err = errors.New("no issue or expiry time")
		case c.IssuedAt.After(now.Add(leeway)):
			err = errors.New("issued in the future")
		case firstIssued(&c).After(c.IssuedAt.Time):
			err = errors.New("first issued after this token")
		case now.Sub(firstIssued(&c).Time) >= maxAge:
			err = fmt.Errorf("first issued more than %v ago", maxAge)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	return &c, nil
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header value, or "" when there is none.
func BearerToken(header string) string {
	const prefix = "bearer "
	if len(header) > len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		return strings.TrimSpace(header[len(prefix):])
	}
	return ""
}
