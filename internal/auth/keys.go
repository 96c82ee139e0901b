package auth

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Kind is a kind of token. Each kind is signed with its own key.
type Kind string

// The kinds of token. Service tokens come in three kinds, one per
// direction of trust, so that no part can call where it has no business:
// control (the matchmaker calls a gameserver's RoomService), registry (a
// gameserver calls the matchmaker's registry and room reports) and admin
// (an operator calls the leaderboard's admin API).
const (
	KindSession  Kind = "session"
	KindJoin     Kind = "join"
	KindInvite   Kind = "invite"
	KindControl  Kind = "control"
	KindRegistry Kind = "registry"
	KindAdmin    Kind = "admin"
)

// Kinds lists every kind of token.
var Kinds = []Kind{KindSession, KindJoin, KindInvite, KindControl, KindRegistry, KindAdmin}

// serviceKinds are the kinds of service token (IssueService).
var serviceKinds = []Kind{KindControl, KindRegistry, KindAdmin}

// Audience is the JWT audience of the kind's tokens.
func (k Kind) Audience() string {
	switch k {
	case KindSession:
		return AudienceSession
	case KindJoin:
		return AudienceJoin
	case KindInvite:
		return AudienceInvite
	case KindControl:
		return AudienceControl
	case KindRegistry:
		return AudienceRegistry
	case KindAdmin:
		return AudienceAdmin
	}
	return "skirmish-" + string(k)
}

// Use is what a part does with a kind of token.
type Use int

const (
	// Verify: the part checks tokens of the kind; it holds the public key.
	Verify Use = iota + 1
	// Sign: the part mints tokens of the kind (and checks them); it holds
	// the private key.
	Sign
)

func (u Use) String() string {
	switch u {
	case Verify:
		return "verify"
	case Sign:
		return "sign"
	}
	return "none"
}

// Needs says, for each kind of token a part uses, whether it signs or only
// verifies. A kind not named is neither signed nor verified.
type Needs map[Kind]Use

// Keys signs and verifies tokens: for each kind it holds a private key
// (sign and verify), a public key (verify only) or nothing. A Keys is not
// changed after it is built, and is safe for concurrent use. Build one
// with NewKeys, FromMaster, ParseKey or LoadOrCreateKey.
type Keys struct {
	signers   map[Kind]ed25519.PrivateKey
	verifiers map[Kind]ed25519.PublicKey
	now       func() time.Time
}

// Key is the key of one kind of token: Private set signs and verifies,
// Public alone only verifies.
type Key struct {
	Kind    Kind
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// NewKeys builds Keys from one key per kind. A kind given twice, a key of
// the wrong size, or a Public that is not Private's public half is an
// error.
func NewKeys(keys ...Key) (*Keys, error) {
	k := &Keys{signers: make(map[Kind]ed25519.PrivateKey), verifiers: make(map[Kind]ed25519.PublicKey), now: time.Now}
	for _, key := range keys {
		if !slices.Contains(Kinds, key.Kind) {
			return nil, fmt.Errorf("key of unknown kind %q", key.Kind)
		}
		if k.verifiers[key.Kind] != nil {
			return nil, fmt.Errorf("%s key given twice", key.Kind)
		}
		pub := key.Public
		if key.Private != nil {
			if len(key.Private) != ed25519.PrivateKeySize {
				return nil, fmt.Errorf("%s private key is %d bytes, want %d", key.Kind, len(key.Private), ed25519.PrivateKeySize)
			}
			own := key.Private.Public().(ed25519.PublicKey)
			if pub != nil && !own.Equal(pub) {
				return nil, fmt.Errorf("%s public key is not the private key's", key.Kind)
			}
			pub = own
			k.signers[key.Kind] = key.Private
		}
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s public key is %d bytes, want %d", key.Kind, len(pub), ed25519.PublicKeySize)
		}
		k.verifiers[key.Kind] = pub
	}
	return k, nil
}

// Only returns the subset of k that needs allow: the private key of the
// kinds to sign, the public key alone of the kinds to verify, nothing of
// the others. A need k cannot meet is an error naming the kind.
func (k *Keys) Only(needs Needs) (*Keys, error) {
	out := &Keys{signers: make(map[Kind]ed25519.PrivateKey), verifiers: make(map[Kind]ed25519.PublicKey), now: k.now}
	for kind, use := range needs {
		switch {
		case use == Sign && k.signers[kind] == nil:
			return nil, fmt.Errorf("%w: this part signs %s tokens and needs the %s private key", ErrNoKey, kind, kind)
		case use == Verify && k.verifiers[kind] == nil:
			return nil, fmt.Errorf("%w: this part verifies %s tokens and needs the %s public key", ErrNoKey, kind, kind)
		case use == Sign:
			out.signers[kind] = k.signers[kind]
		}
		if use == Sign || use == Verify {
			out.verifiers[kind] = k.verifiers[kind]
		}
	}
	return out, nil
}

// CanSign reports whether k holds the private key of the kind.
func (k *Keys) CanSign(kind Kind) bool { return k.signers[kind] != nil }

// CanVerify reports whether k holds a key that verifies the kind.
func (k *Keys) CanVerify(kind Kind) bool { return k.verifiers[kind] != nil }

// Public returns the public key of the kind, or nil.
func (k *Keys) Public(kind Kind) ed25519.PublicKey { return k.verifiers[kind] }

// Private returns the private key of the kind, or nil.
func (k *Keys) Private(kind Kind) ed25519.PrivateKey { return k.signers[kind] }

// masterSize is the size of a master key: one Ed25519 seed.
const masterSize = ed25519.SeedSize

// DeriveKey returns the private key of one kind of token derived from a
// 32-byte master key with HKDF-SHA256 (info "skirmish token key v1 " +
// kind). Whoever holds the master key can derive every kind's key; parts
// given only per-kind keys cannot.
func DeriveKey(master []byte, kind Kind) (ed25519.PrivateKey, error) {
	if len(master) != masterSize {
		return nil, fmt.Errorf("master key is %d bytes, want %d", len(master), masterSize)
	}
	seed, err := hkdf.Key(sha256.New, master, nil, "skirmish token key v1 "+string(kind), ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive %s key: %w", kind, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// FromMaster returns Keys that sign and verify every kind, each with its
// own key derived from the master key (DeriveKey). Restrict them to a
// part's needs with Only.
func FromMaster(master []byte) (*Keys, error) {
	keys := make([]Key, 0, len(Kinds))
	for _, kind := range Kinds {
		priv, err := DeriveKey(master, kind)
		if err != nil {
			return nil, err
		}
		keys = append(keys, Key{Kind: kind, Private: priv})
	}
	return NewKeys(keys...)
}

// GenerateKey returns a new random 32-byte key in the text form ParseKey
// and ParsePrivateKey read (base64): a master key, or one kind's private
// key (an Ed25519 seed).
func GenerateKey() (string, error) {
	b := make([]byte, masterSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// decode32 reads the base64 of 32 bytes.
func decode32(what, text string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("%s is not base64: %w", what, err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%s is %d bytes, want 32", what, len(b))
	}
	return b, nil
}

// ParseMaster reads a master key in its text form: base64 of 32 bytes.
func ParseMaster(text string) ([]byte, error) { return decode32("auth key", text) }

// ParsePrivateKey reads one kind's private key: the base64 of an Ed25519
// seed (32 bytes).
func ParsePrivateKey(text string) (ed25519.PrivateKey, error) {
	seed, err := decode32("private key", text)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey reads one kind's public key: the base64 of an Ed25519
// public key (32 bytes).
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	b, err := decode32("public key", text)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(b), nil
}

// EncodePrivateKey is the text form of a private key ParsePrivateKey reads.
func EncodePrivateKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Seed())
}

// EncodePublicKey is the text form of a public key ParsePublicKey reads.
func EncodePublicKey(k ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(k) }

// ParseKey reads a master key in its text form (base64 of 32 bytes) and
// returns Keys for every kind derived from it (FromMaster).
func ParseKey(text string) (*Keys, error) {
	master, err := ParseMaster(text)
	if err != nil {
		return nil, err
	}
	return FromMaster(master)
}

// LoadOrCreateMaster reads the master key stored at path, creating the
// file with a new key when it does not exist. Parts on one machine that
// share a data directory thereby share a master key.
func LoadOrCreateMaster(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		text, err := GenerateKey()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create key directory: %w", err)
		}
		// The key is written whole to a file of its own and then linked
		// into place: parts starting at once on one data directory never
		// read a half-written key, and the first link wins.
		f, err := os.CreateTemp(filepath.Dir(path), ".auth-key-*")
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		defer os.Remove(f.Name())
		if _, err := f.WriteString(text + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
			return LoadOrCreateMaster(path) // another process made it first
		} else if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		return ParseMaster(text)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	m, err := ParseMaster(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return m, nil
}

// LoadOrCreateKey is LoadOrCreateMaster, returning Keys for every kind
// derived from the master key.
func LoadOrCreateKey(path string) (*Keys, error) {
	m, err := LoadOrCreateMaster(path)
	if err != nil {
		return nil, err
	}
	return FromMaster(m)
}
