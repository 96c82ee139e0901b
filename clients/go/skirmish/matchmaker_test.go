package skirmish_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/matchmaker"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// mmServer is a real matchmaker behind TLS terminated in front of it (as
// production deployments do), on a loopback port with a certificate for
// 127.0.0.1 made at start; Keys sign its players' session tokens.
type mmServer struct {
	Addr string
	TLS  *tls.Config // trusts the server's certificate
	Keys *auth.Keys
	stop func() error
}

func startMatchmaker(cfg matchmaker.Config) (*mmServer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "skirmish test matchmaker"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	text, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	keys, err := auth.ParseKey(text)
	if err != nil {
		return nil, err
	}
	mm, err := matchmaker.New(cfg, keys, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tln := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{"h2"},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mm.Run(ctx, tln, nil) }()
	return &mmServer{Addr: ln.Addr().String(), TLS: &tls.Config{RootCAs: roots}, Keys: keys, stop: func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return errors.New("matchmaker did not stop within 15s")
		}
	}}, nil
}

// session signs a session token for player, as the leaderboard's guest
// sign-in does.
func (m *mmServer) session(player string) (skirmish.Session, error) {
	tok, err := m.Keys.IssueSession(auth.Session{PlayerID: player, Name: player}, time.Hour)
	return skirmish.Session{PlayerID: player, Name: player, Token: tok}, err
}

func tlsMatchmaker(t *testing.T, cfg matchmaker.Config) (addr string, roots *x509.CertPool, keys *auth.Keys) {
	t.Helper()
	m, err := startMatchmaker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.stop(); err != nil {
			t.Errorf("matchmaker: %v", err)
		}
	})
	return m.Addr, m.TLS.RootCAs, m.Keys
}

func session(t *testing.T, keys *auth.Keys, player string) skirmish.Session {
	t.Helper()
	tok, err := keys.IssueSession(auth.Session{PlayerID: player, Name: player}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return skirmish.Session{PlayerID: player, Name: player, Token: tok}
}

// TestMatchmakerOverTLS: with TLS options the SDK reaches a matchmaker
// behind TLS and its token is accepted; without them, or trusting another
// certificate, it does not get through.
func TestMatchmakerOverTLS(t *testing.T) {
	addr, roots, keys := tlsMatchmaker(t, matchmaker.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ada := session(t, keys, "ada")

	mm, err := skirmish.DialMatchmakerOptions(ctx, addr, ada, skirmish.MatchmakerOptions{TLS: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	defer mm.Close()
	tk, err := mm.CreateTicket(ctx, "duel", skirmish.FindOptions{})
	if err != nil {
		t.Fatalf("CreateTicket over TLS: %v", err)
	}
	if got := tk.GetPlayerIds(); len(got) != 1 || got[0] != "ada" {
		t.Errorf("ticket players = %v, want [ada]: the bearer token did not name the caller", got)
	}
	if err := mm.CancelTicket(ctx, tk.GetId()); err != nil {
		t.Errorf("CancelTicket: %v", err)
	}

	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	plain, err := skirmish.DialMatchmakerOptions(short, addr, ada, skirmish.MatchmakerOptions{Backoff: skirmish.Backoff{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.CreateTicket(short, "duel", skirmish.FindOptions{}); err == nil {
		t.Error("CreateTicket in plaintext against a TLS listener succeeded, want an error")
	}
	untrusting, err := skirmish.DialMatchmakerOptions(short, addr, ada, skirmish.MatchmakerOptions{
		TLS: &tls.Config{RootCAs: x509.NewCertPool()}, Backoff: skirmish.Backoff{Attempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer untrusting.Close()
	if _, err := untrusting.CreateTicket(short, "duel", skirmish.FindOptions{}); err == nil {
		t.Error("CreateTicket trusting no root succeeded, want a certificate error")
	}
}

// TestCreateTicketRetriesResourceExhausted: a matchmaker allowing one call
// a second per player refuses the second quick call with
// RESOURCE_EXHAUSTED; without retries the caller sees it, with the default
// backoff the SDK waits and gets through.
func TestCreateTicketRetriesResourceExhausted(t *testing.T) {
	addr, roots, keys := tlsMatchmaker(t, matchmaker.Config{PlayerRequestRate: 1, PlayerRequestBurst: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds := &tls.Config{RootCAs: roots}

	once, err := skirmish.DialMatchmakerOptions(ctx, addr, session(t, keys, "bo"), skirmish.MatchmakerOptions{TLS: creds, Backoff: skirmish.Backoff{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer once.Close()
	if _, err := once.CreateTicket(ctx, "duel", skirmish.FindOptions{}); err != nil {
		t.Fatalf("first CreateTicket: %v", err)
	}
	_, err = once.CreateTicket(ctx, "ffa", skirmish.FindOptions{})
	if status.Code(errors.Unwrap(err)) != codes.ResourceExhausted {
		t.Fatalf("second CreateTicket without retries = %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, ok := skirmish.Retryable(err); !ok {
		t.Errorf("Retryable(%v) = false, want true", err)
	}

	cy := session(t, keys, "cy")
	mm, err := skirmish.DialMatchmakerOptions(ctx, addr, cy, skirmish.MatchmakerOptions{TLS: creds, Backoff: skirmish.Backoff{Initial: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer mm.Close()
	var tk *skirmishv1.Ticket
	for i := range 3 { // create, cancel, create: three calls at once, the limit is one a second
		switch i {
		case 0, 2:
			tk, err = mm.CreateTicket(ctx, "duel", skirmish.FindOptions{})
		case 1:
			err = skirmish.Retry(ctx, skirmish.Backoff{Initial: 100 * time.Millisecond}, func(ctx context.Context) error { return mm.CancelTicket(ctx, tk.GetId()) })
		}
		if err != nil {
			t.Fatalf("call %d with retries: %v", i, err)
		}
	}
	if tk.GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		t.Errorf("ticket after retries is %v, want SEARCHING", tk.GetState())
	}
}
