package gameservercmd

import (
	"crypto/tls"
	"flag"
	"net"
	"net/http"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	"github.com/skirmishgg/skirmish/internal/cli"
)

// WebFlags are the gameserver's settings for browsers: WebTransport and
// the browser page.
type WebFlags struct {
	WebTransportAddr, WebTransportURL string
	wtCert, wtKey                     string
	// MatchmakerURL and LeaderboardURL are what the page's /config.json
	// tells it to call.
	MatchmakerURL, LeaderboardURL string
	NoWeb                         bool
	publicHost                    string // also in the dev certificate (Agones mode: the GameServer's address)
}

func (w *WebFlags) register(fs *flag.FlagSet, prefix, addr string) {
	wtAddr := ""
	if host, _, err := net.SplitHostPort(addr); err == nil {
		wtAddr = net.JoinHostPort(host, "7801")
	}
	fs.StringVar(&w.WebTransportAddr, prefix+"webtransport-addr", wtAddr, "UDP address for WebTransport (HTTP/3); empty disables it")
	fs.StringVar(&w.WebTransportURL, prefix+"webtransport-url", "", "WebTransport URL players are sent to (default https://<webtransport-addr>/wt)")
	fs.StringVar(&w.wtCert, prefix+"webtransport-cert", "", "TLS certificate file for WebTransport (default: a self-signed one made at start, valid 10 days, pinned by its hash)")
	fs.StringVar(&w.wtKey, prefix+"webtransport-key", "", "TLS key file for --"+prefix+"webtransport-cert")
	fs.StringVar(&w.MatchmakerURL, prefix+"page-matchmaker-url", "", "matchmaker URL the browser game calls (Connect/gRPC-Web) (default http://<matchmaker address>)")
	fs.StringVar(&w.LeaderboardURL, prefix+"page-leaderboard-url", "", "leaderboard URL the browser game calls (REST) (default http://<matchmaker host>:7820, the leaderboard's default port beside the matchmaker)")
	fs.BoolVar(&w.NoWeb, prefix+"no-web", false, "do not serve the browser game at /")
}

// DerivePageURLs fills the page URLs left empty from the matchmaker
// address the gameserver registers with (host:port, the matchmaker's
// internal listener): the matchmaker's public port at its default 7810
// and the leaderboard at its default port 7820, both on the same host. A
// host left empty or unspecified (":7812", "0.0.0.0:7812") is taken as
// 127.0.0.1. With no matchmaker, the URLs stay empty.
func (w *WebFlags) DerivePageURLs(matchmakerAddr string) {
	host, _, err := net.SplitHostPort(matchmakerAddr)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	if w.MatchmakerURL == "" {
		w.MatchmakerURL = "http://" + net.JoinHostPort(host, "7810")
	}
	if w.LeaderboardURL == "" {
		w.LeaderboardURL = "http://" + net.JoinHostPort(host, "7820")
	}
}

// apply fills the browser settings of cfg; page is the browser client
// served at / (nil: none).
func (w *WebFlags) apply(prefix string, page http.Handler, cfg *gameserver.Config) error {
	if !w.NoWeb && page != nil {
		cfg.Web = page
		cfg.Page = gameserver.PageConfig{MatchmakerURL: w.MatchmakerURL, LeaderboardURL: w.LeaderboardURL}
	}
	if w.WebTransportAddr == "" {
		return nil
	}
	cfg.WebTransportAddr, cfg.WebTransportURL = w.WebTransportAddr, w.WebTransportURL
	if (w.wtCert == "") != (w.wtKey == "") {
		return cli.SettingError(prefix+"webtransport-cert", "needs --%swebtransport-key too, and the other way round", prefix)
	}
	if w.wtCert != "" {
		cert, err := tls.LoadX509KeyPair(w.wtCert, w.wtKey)
		if err != nil {
			return cli.SettingError(prefix+"webtransport-cert", "%v", err)
		}
		cfg.WebTransport.Certificate = cert
		return nil
	}
	host, _, err := net.SplitHostPort(w.WebTransportAddr)
	if err != nil {
		return cli.SettingError(prefix+"webtransport-addr", "%v", err)
	}
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if host != "" && host != "127.0.0.1" && host != "::1" && host != "localhost" && host != "0.0.0.0" && host != "::" {
		hosts = append(hosts, host)
	}
	if w.publicHost != "" {
		hosts = append(hosts, w.publicHost)
	}
	cert, hash, err := webtransport.DevCertificate(hosts...)
	if err != nil {
		return err
	}
	cfg.WebTransport.Certificate = cert
	cfg.WebTransportCertHashes = [][]byte{hash}
	return nil
}
