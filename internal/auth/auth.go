// Package auth issues and verifies the signed tokens that Skirmish services
// exchange: session tokens for signed-in players, join tokens that admit a
// player to one room, and service tokens for calls between services.
//
// Tokens are JWTs signed with Ed25519 (EdDSA). Every service holds the same
// key, set by configuration; a service that only verifies tokens needs just
// the public half, so a gameserver admits players without calling back to the
// matchmaker.
package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audiences tell the kinds of token apart, so that one kind can never be
// used as another.
const (
	AudienceSession = "skirmish-session"
	AudienceJoin    = "skirmish-join"
	AudienceService = "skirmish-service"
)

const issuer = "skirmish"

// ErrInvalidToken is returned for any token that does not verify: malformed,
// badly signed, expired or of the wrong kind.
var ErrInvalidToken = errors.New("invalid token")

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
}

// claims is the JWT body of every token kind; the audience says which
// fields are set.
type claims struct {
	jwt.RegisteredClaims
	Name    string `json:"name,omitempty"`
	MatchID string `json:"mid,omitempty"`
	RoomID  string `json:"rid,omitempty"`
	Team    uint32 `json:"team,omitempty"`
}

// Keys signs and verifies tokens. The zero value is not usable; build one
// with NewKeys, ParseKey or LoadOrCreateKey.
type Keys struct {
	priv ed25519.PrivateKey // nil when the keys only verify
	pub  ed25519.PublicKey
	now  func() time.Time
}

// NewKeys makes keys from an Ed25519 private key.
func NewKeys(priv ed25519.PrivateKey) *Keys {
	return &Keys{priv: priv, pub: priv.Public().(ed25519.PublicKey), now: time.Now}
}

// GenerateKey returns a new random key in the text form ParseKey reads.
func GenerateKey() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(priv.Seed()), nil
}

// ParseKey reads a key in its text form: the base64 of a 32-byte Ed25519
// seed.
func ParseKey(text string) (*Keys, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("auth key is not base64: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("auth key is %d bytes, want an Ed25519 seed of %d bytes", len(seed), ed25519.SeedSize)
	}
	return NewKeys(ed25519.NewKeyFromSeed(seed)), nil
}

// LoadOrCreateKey reads the key stored at path, creating the file with a new
// key when it does not exist. Services on one machine that share a data
// directory thereby share a key.
func LoadOrCreateKey(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		text, err := GenerateKey()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create key directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateKey(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(text + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		return ParseKey(text)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// IssueSession signs a session token for a player, valid for ttl.
func (k *Keys) IssueSession(s Session, ttl time.Duration) (string, error) {
	return k.sign(AudienceSession, s.PlayerID, ttl, claims{Name: s.Name})
}

// VerifySession checks a session token and returns the player it names.
func (k *Keys) VerifySession(token string) (Session, error) {
	c, err := k.verify(token, AudienceSession)
	if err != nil {
		return Session{}, err
	}
	return Session{PlayerID: c.Subject, Name: c.Name}, nil
}

// IssueJoin signs a join token for one seat in one room, valid for ttl.
func (k *Keys) IssueJoin(j Join, ttl time.Duration) (string, error) {
	return k.sign(AudienceJoin, j.PlayerID, ttl, claims{Name: j.Name, MatchID: j.MatchID, RoomID: j.RoomID, Team: j.Team})
}

// VerifyJoin checks a join token and returns the seat it grants.
func (k *Keys) VerifyJoin(token string) (Join, error) {
	c, err := k.verify(token, AudienceJoin)
	if err != nil {
		return Join{}, err
	}
	return Join{PlayerID: c.Subject, Name: c.Name, MatchID: c.MatchID, RoomID: c.RoomID, Team: c.Team}, nil
}

// IssueService signs a token that lets the named service call another.
func (k *Keys) IssueService(service string, ttl time.Duration) (string, error) {
	return k.sign(AudienceService, service, ttl, claims{})
}

// VerifyService checks a service token and returns the calling service.
func (k *Keys) VerifyService(token string) (string, error) {
	c, err := k.verify(token, AudienceService)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}

func (k *Keys) sign(audience, subject string, ttl time.Duration, c claims) (string, error) {
	if k.priv == nil {
		return "", errors.New("sign token: keys hold no private key")
	}
	now := k.now()
	c.RegisteredClaims = jwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(k.priv)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

func (k *Keys) verify(token, audience string) (*claims, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c,
		func(*jwt.Token) (any, error) { return k.pub, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(audience),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(k.now),
		jwt.WithLeeway(5*time.Second),
	)
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
