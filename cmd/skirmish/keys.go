package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/cli"
)

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
		p("%s=%s\n", envName(cli.KindFlag(kind)+"-key"), auth.EncodePrivateKey(priv))
		p("%s=%s\n", envName(cli.KindFlag(kind)+"-public-key"), auth.EncodePublicKey(priv.Public().(ed25519.PublicKey)))
	}
	return errors.Join(errs...)
}
