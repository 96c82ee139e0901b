package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/skirmishgg/skirmish/internal/auth"
)

// kindKey is what the flags say of one kind of token's key.
type kindKey struct {
	private string // --<kind>-key: base64 Ed25519 seed
	public  string // --<kind>-public-key: base64 Ed25519 public key
}

// kindFlag is the flag prefix of a kind of token: the kind's name, but
// admin-token for admin tokens (the leaderboard's --admin-key is its
// static admin secret).
func kindFlag(kind auth.Kind) string {
	if kind == auth.KindAdmin {
		return "admin-token"
	}
	return string(kind)
}

// registerKindKeys registers --<kind>-key and --<kind>-public-key for
// every kind of token.
func (c *common) registerKindKeys(fs *flag.FlagSet) {
	c.kindKeys = make(map[auth.Kind]*kindKey, len(auth.Kinds))
	for _, kind := range auth.Kinds {
		k := &kindKey{}
		c.kindKeys[kind] = k
		fs.StringVar(&k.private, kindFlag(kind)+"-key", "", fmt.Sprintf("private key (base64 Ed25519 seed) that signs %s tokens, for the parts that mint them; overrides the key derived from --auth-key", kind))
		fs.StringVar(&k.public, kindFlag(kind)+"-public-key", "", fmt.Sprintf("public key (base64) that verifies %s tokens, for the parts that only verify them", kind))
	}
}

// keys returns the keys a part needs, as its flags give them: for each
// kind, --<kind>-key (private) or --<kind>-public-key; a kind given by
// neither is derived from the master key (--auth-key, or
// <data-dir>/auth.key when no per-kind key is set at all). A part that
// signs a kind needs its private key; a part that only verifies keeps
// the public half of whatever it is given, and a private key given to it
// is reported in the log. Under dev every part shares the flags.
func (c *common) keys(part string, needs auth.Needs, log *slog.Logger) (*auth.Keys, error) {
	anyKind := false
	for _, k := range c.kindKeys {
		anyKind = anyKind || k.private != "" || k.public != ""
	}
	var master []byte
	loadMaster := func(kind auth.Kind) ([]byte, error) {
		if master != nil {
			return master, nil
		}
		var err error
		switch {
		case c.authKey != "":
			if master, err = auth.ParseMaster(c.authKey); err != nil {
				return nil, settingError("auth-key", "%v", err)
			}
		case anyKind:
			return nil, settingError(kindFlag(kind)+"-key", "the %s %ss %s tokens: set its key (or --auth-key)", part, verb(needs[kind]), kind)
		default:
			if master, err = auth.LoadOrCreateMaster(filepath.Join(c.dataDir, "auth.key")); err != nil {
				return nil, err
			}
		}
		return master, nil
	}
	kinds := make([]auth.Kind, 0, len(needs))
	for kind := range needs {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	var keys []auth.Key
	for _, kind := range kinds {
		use, given := needs[kind], c.kindKeys[kind]
		key := auth.Key{Kind: kind}
		var err error
		switch {
		case given != nil && given.private != "":
			if key.Private, err = auth.ParsePrivateKey(given.private); err != nil {
				return nil, settingError(kindFlag(kind)+"-key", "%v", err)
			}
			if use == auth.Verify && log != nil && part != "" {
				log.Warn("a part that only verifies holds a private key: give it the public key instead",
					"part", part, "setting", "--"+kindFlag(kind)+"-key", "instead", "--"+kindFlag(kind)+"-public-key")
			}
		case given != nil && given.public != "":
			if use == auth.Sign {
				return nil, settingError(kindFlag(kind)+"-key", "the %s signs %s tokens and needs the private key; --%s-public-key only verifies", part, kind, kindFlag(kind))
			}
			if key.Public, err = auth.ParsePublicKey(given.public); err != nil {
				return nil, settingError(kindFlag(kind)+"-public-key", "%v", err)
			}
		default:
			m, err := loadMaster(kind)
			if err != nil {
				return nil, err
			}
			if key.Private, err = auth.DeriveKey(m, kind); err != nil {
				return nil, err
			}
		}
		if given != nil && given.private != "" && given.public != "" {
			pub, err := auth.ParsePublicKey(given.public)
			if err != nil {
				return nil, settingError(kindFlag(kind)+"-public-key", "%v", err)
			}
			key.Public = pub
		}
		keys = append(keys, key)
	}
	k, err := auth.NewKeys(keys...)
	if err != nil {
		return nil, fmt.Errorf("%s keys: %w", part, err)
	}
	return k.Only(needs)
}

func verb(u auth.Use) string {
	if u == auth.Sign {
		return "sign"
	}
	return "verifie"
}

// runKeys prints, for a master key (--auth-key, or a new one), each kind
// of token's private and public key as environment settings, and which
// part needs which: what to give each part instead of the master key.
func runKeys(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var authKey string
	fs := newFlagSet("keys", stderr)
	fs.StringVar(&authKey, "auth-key", "", "master key to derive the keys from (base64, 32 bytes), e.g. the one your parts share today; empty makes a new one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys takes no arguments, got %q", fs.Args())
	}
	if authKey == "" {
		var err error
		if authKey, err = auth.GenerateKey(); err != nil {
			return err
		}
	}
	master, err := auth.ParseMaster(authKey)
	if err != nil {
		return settingError("auth-key", "%v", err)
	}
	var errs []error
	p := func(format string, a ...any) {
		_, err := fmt.Fprintf(stdout, format, a...)
		errs = append(errs, err)
	}
	p("# Per-kind token keys derived from one master key. Give each part only what it needs:\n")
	p("#   leaderboard:  SKIRMISH_SESSION_KEY, SKIRMISH_ADMIN_TOKEN_PUBLIC_KEY\n")
	p("#   matchmaker:   SKIRMISH_SESSION_PUBLIC_KEY, SKIRMISH_JOIN_KEY, SKIRMISH_INVITE_KEY, SKIRMISH_CONTROL_KEY, SKIRMISH_REGISTRY_PUBLIC_KEY\n")
	p("#   gameserver:   SKIRMISH_JOIN_PUBLIC_KEY, SKIRMISH_CONTROL_PUBLIC_KEY, SKIRMISH_REGISTRY_KEY\n")
	p("#   stats-worker: none\n")
	p("# SKIRMISH_ADMIN_TOKEN_KEY mints admin tokens for the leaderboard's admin API: keep it with the operators, on no server.\n")
	p("# Tokens made with the master key (--auth-key) verify with these keys.\n")
	for _, kind := range auth.Kinds {
		priv, err := auth.DeriveKey(master, kind)
		if err != nil {
			return err
		}
		p("%s=%s\n", envName(kindFlag(kind)+"-key"), auth.EncodePrivateKey(priv))
		p("%s=%s\n", envName(kindFlag(kind)+"-public-key"), auth.EncodePublicKey(priv.Public().(ed25519.PublicKey)))
	}
	return errors.Join(errs...)
}
