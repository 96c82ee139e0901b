package main

import (
	"crypto/tls"
	"flag"
	"net"
	"net/http"

	"github.com/skirmishgg/skirmish/clients/dice"
	"github.com/skirmishgg/skirmish/clients/web"
	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/gameserver/webtransport"
)

// webFlags are the gameserver's settings for browsers: WebTransport and
// the embedded game page.
type webFlags struct {
	wtAddr, wtURL, wtCert, wtKey  string
	matchmakerURL, leaderboardURL string
	noWeb                         bool
	publicHost                    string // also in the dev certificate (Agones mode: the GameServer's address)
}

func (w *webFlags) register(fs *flag.FlagSet, prefix, addr string) {
	wtAddr := ""
	if host, _, err := net.SplitHostPort(addr); err == nil {
		wtAddr = net.JoinHostPort(host, "7801")
	}
	fs.StringVar(&w.wtAddr, prefix+"webtransport-addr", wtAddr, "UDP address for WebTransport (HTTP/3); empty disables it")
	fs.StringVar(&w.wtURL, prefix+"webtransport-url", "", "WebTransport URL players are sent to (default https://<webtransport-addr>/wt)")
	fs.StringVar(&w.wtCert, prefix+"webtransport-cert", "", "TLS certificate file for WebTransport (default: a self-signed one made at start, valid 10 days, pinned by its hash)")
	fs.StringVar(&w.wtKey, prefix+"webtransport-key", "", "TLS key file for --"+prefix+"webtransport-cert")
	fs.StringVar(&w.matchmakerURL, prefix+"page-matchmaker-url", "", "matchmaker URL the browser game calls (Connect/gRPC-Web) (default http://<matchmaker address>)")
	fs.StringVar(&w.leaderboardURL, prefix+"page-leaderboard-url", "", "leaderboard URL the browser game calls (REST) (default http://<matchmaker host>:7820, the leaderboard's default port beside the matchmaker)")
	fs.BoolVar(&w.noWeb, prefix+"no-web", false, "do not serve the browser game at /")
}

// derivePageURLs fills the page URLs left empty from the matchmaker
// address the gameserver registers with (host:port, the matchmaker's
// internal listener): the matchmaker's public port at its default 7810
// and the leaderboard at its default port 7820, both on the same host. A
// host left empty or unspecified (":7812", "0.0.0.0:7812") is taken as
// 127.0.0.1. With no matchmaker, the URLs stay empty.
func (w *webFlags) derivePageURLs(matchmakerAddr string) {
	host, _, err := net.SplitHostPort(matchmakerAddr)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	if w.matchmakerURL == "" {
		w.matchmakerURL = "http://" + net.JoinHostPort(host, "7810")
	}
	if w.leaderboardURL == "" {
		w.leaderboardURL = "http://" + net.JoinHostPort(host, "7820")
	}
}

// apply fills the browser settings of cfg.
func (w *webFlags) apply(prefix string, cfg *gameserver.Config) error {
	if !w.noWeb {
		cfg.Web = web.Handler()
		cfg.Pages = map[string]http.Handler{"/dice/": dice.Handler()} // Liar's Dice
		cfg.Page = gameserver.PageConfig{MatchmakerURL: w.matchmakerURL, LeaderboardURL: w.leaderboardURL}
	}
	if w.wtAddr == "" {
		return nil
	}
	cfg.WebTransportAddr, cfg.WebTransportURL = w.wtAddr, w.wtURL
	if (w.wtCert == "") != (w.wtKey == "") {
		return settingError(prefix+"webtransport-cert", "needs --%swebtransport-key too, and the other way round", prefix)
	}
	if w.wtCert != "" {
		cert, err := tls.LoadX509KeyPair(w.wtCert, w.wtKey)
		if err != nil {
			return settingError(prefix+"webtransport-cert", "%v", err)
		}
		cfg.WebTransport.Certificate = cert
		return nil
	}
	host, _, err := net.SplitHostPort(w.wtAddr)
	if err != nil {
		return settingError(prefix+"webtransport-addr", "%v", err)
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
