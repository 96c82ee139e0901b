package cli

import (
	"flag"
	"fmt"
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

// KindFlag is the flag prefix of a kind of token: the kind's name, but
// admin-token for admin tokens (the leaderboard's --admin-key is its
// static admin secret).
func KindFlag(kind auth.Kind) string {
	if kind == auth.KindAdmin {
		return "admin-token"
	}
	return string(kind)
}

// registerKindKeys registers --<kind>-key and --<kind>-public-key for
// every kind of token.
func (c *Common) registerKindKeys(fs *flag.FlagSet) {
	c.kindKeys = make(map[auth.Kind]*kindKey, len(auth.Kinds))
	for _, kind := range auth.Kinds {
		k := &kindKey{}
		c.kindKeys[kind] = k
		fs.StringVar(&k.private, KindFlag(kind)+"-key", "", fmt.Sprintf("private key (base64 Ed25519 seed) that signs %s tokens, for the parts that mint them; overrides the key derived from --auth-key", kind))
		fs.StringVar(&k.public, KindFlag(kind)+"-public-key", "", fmt.Sprintf("public key (base64) that verifies %s tokens, for the parts that only verify them", kind))
	}
}

// Keys returns the keys a part needs, as its flags give them: for each
// kind, --<kind>-key (private) or --<kind>-public-key; a kind given by
// neither is derived from the master key (--auth-key, or
// <data-dir>/auth.key when no per-kind key is set at all). A part that
// signs a kind needs its private key; a part that only verifies keeps
// the public half of whatever it is given, and a private key given to it
// is reported in the log. Under dev every part shares the flags.
func (c *Common) Keys(part string, needs auth.Needs, log *slog.Logger) (*auth.Keys, error) {
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
		case c.AuthKey != "":
			if master, err = auth.ParseMaster(c.AuthKey); err != nil {
				return nil, SettingError("auth-key", "%v", err)
			}
		case anyKind:
			return nil, SettingError(KindFlag(kind)+"-key", "the %s %ss %s tokens: set its key (or --auth-key)", part, verb(needs[kind]), kind)
		default:
			if master, err = auth.LoadOrCreateMaster(filepath.Join(c.DataDir, "auth.key")); err != nil {
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
				return nil, SettingError(KindFlag(kind)+"-key", "%v", err)
			}
			if use == auth.Verify && log != nil && part != "" {
				log.Warn("a part that only verifies holds a private key: give it the public key instead",
					"part", part, "setting", "--"+KindFlag(kind)+"-key", "instead", "--"+KindFlag(kind)+"-public-key")
			}
		case given != nil && given.public != "":
			if use == auth.Sign {
				return nil, SettingError(KindFlag(kind)+"-key", "the %s signs %s tokens and needs the private key; --%s-public-key only verifies", part, kind, KindFlag(kind))
			}
			if key.Public, err = auth.ParsePublicKey(given.public); err != nil {
				return nil, SettingError(KindFlag(kind)+"-public-key", "%v", err)
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
				return nil, SettingError(KindFlag(kind)+"-public-key", "%v", err)
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
