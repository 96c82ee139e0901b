package loadtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/skirmishgg/skirmish/gameserver/webtransport"
)

// bareDatagrams is the floor over WebTransport, measured like bare: one
// 100-byte datagram per session per tick from a writer goroutine per
// session, all woken by each tick; with cfg.BareEcho a goroutine per
// session also receives the clients' 30-byte datagram per tick and
// discards it. It is what the gameserver's WebTransport path costs with no
// game: sessions, datagrams and wake-ups.
func bareDatagrams(ctx context.Context, cfg Config, n int, rate int) (StepResult, error) {
	cert, hash, err := webtransport.DevCertificate("127.0.0.1")
	if err != nil {
		return StepResult{}, err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return StepResult{}, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	mux := http.NewServeMux()
	h3 := &http3.Server{
		TLSConfig:  http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		QUICConfig: &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true, KeepAlivePeriod: 10 * time.Second, MaxIdleTimeout: time.Minute},
		Handler:    mux,
	}
	srv := &wt.Server{H3: h3, CheckOrigin: func(*http.Request) bool { return true }}
	wt.ConfigureHTTP3Server(h3)
	sessions := make(chan *wt.Session, n)
	var handlers sync.WaitGroup
	mux.HandleFunc("/bare", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		sess, err := srv.Upgrade(w, r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sessions <- sess
		// The session lives until the step ends.
		select {
		case <-sctx.Done():
		case <-sess.Context().Done():
		}
		sess.CloseWithError(0, "")
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(pc) }()
	defer func() {
		// Closing the server first means no handler starts (and calls
		// handlers.Add) while handlers.Wait runs.
		stop()
		srv.Close()
		handlers.Wait()
		<-served
	}()

	p, err := startClients(ctx, cfg.ClientCommand, Job{Mode: "bare", WebTransportURL: "https://" + pc.LocalAddr().String() + "/bare", CertHash: hash,
		N: n, Duration: cfg.StepDuration, Nice: cfg.ClientNice, Procs: cfg.ClientProcs, Echo: cfg.BareEcho})
	if err != nil {
		return StepResult{}, err
	}
	server := make([]*wt.Session, 0, n)
	var readers sync.WaitGroup
	defer func() {
		p.kill() // the clients close their sessions, ending the readers,
		stop()   // or, if they died, the readers' context ends them
		readers.Wait()
	}()
	for range n {
		s := <-sessions
		server = append(server, s)
		if cfg.BareEcho {
			readers.Go(func() {
				for {
					if _, err := s.ReceiveDatagram(sctx); err != nil {
						return
					}
				}
			})
		}
	}
	msg := make([]byte, 100)
	period := time.Second / time.Duration(rate)
	var writers, pending sync.WaitGroup
	wake := make([]chan struct{}, n)
	for i, s := range server {
		wake[i] = make(chan struct{}, 1)
		writers.Go(func() {
			for range wake[i] {
				s.SendDatagram(msg)
				pending.Done()
			}
		})
	}
	m := newMeter()
	t := time.NewTicker(period)
	start := time.Now()
	result := make(chan ClientResult, 1)
	failed := make(chan error, 1)
	go func() {
		cr, err := p.run()
		if err != nil {
			failed <- err
			return
		}
		result <- cr
	}()
	var overruns int
	for time.Since(start) < cfg.StepDuration && ctx.Err() == nil {
		<-t.C
		began := time.Now()
		pending.Add(n)
		for _, w := range wake {
			w <- struct{}{}
		}
		pending.Wait()
		took := time.Since(began)
		m.tick(took)
		if took > period {
			overruns++
		}
	}
	t.Stop()
	for _, w := range wake {
		close(w)
	}
	writers.Wait()
	res := m.result(n, time.Since(start))
	res.Overruns = overruns
	select {
	case cr := <-result:
		res.DeliveredRatio = float64(cr.Messages) / (float64(n) * float64(rate) * cr.Elapsed.Seconds())
		res.Delivered = cr.Messages
		res.ClientCPU = cr.CPU
	case err := <-failed:
		return res, err
	}
	return res, nil
}

// bareDatagramClients are the floor's readers over WebTransport: job.N
// sessions that count the datagrams they receive and, with job.Echo, send
// one 30-byte datagram per tick each on 32 phase clocks.
func bareDatagramClients(ctx context.Context, job Job, start func() error, report func(ClientResult) error) error {
	var received atomic.Int64
	var readers sync.WaitGroup
	rctx, stopReaders := context.WithCancel(ctx)
	d := &wt.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // a loopback server made this run
		QUICConfig:      &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true, KeepAlivePeriod: 10 * time.Second},
	}
	var sessions []*wt.Session
	defer func() {
		stopReaders()
		for _, s := range sessions {
			s.CloseWithError(0, "")
		}
		readers.Wait()
		d.Close()
	}()
	for range job.N {
		resp, s, err := d.Dial(ctx, job.WebTransportURL, http.Header{})
		if err != nil {
			return fmt.Errorf("dial %s: %w", job.WebTransportURL, err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("dial %s: status %d", job.WebTransportURL, resp.StatusCode)
		}
		sessions = append(sessions, s)
		readers.Go(func() {
			for {
				if _, err := s.ReceiveDatagram(rctx); err != nil {
					return
				}
				received.Add(1)
			}
		})
	}
	if err := start(); err != nil {
		return err
	}
	r0, t0, cpu0 := received.Load(), time.Now(), cpuTime()
	pctx, cancel := context.WithTimeout(ctx, job.Duration)
	defer cancel()
	var senders sync.WaitGroup
	if job.Echo {
		msg := make([]byte, 30)
		groups := make([][]*wt.Session, phases)
		for _, s := range sessions {
			k := rand.IntN(phases)
			groups[k] = append(groups[k], s)
		}
		for k := range phases {
			senders.Go(func() {
				onPhase(pctx, k, func() {
					for _, s := range groups[k] {
						s.SendDatagram(msg)
					}
				})
			})
		}
	}
	<-pctx.Done()
	senders.Wait()
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return report(ClientResult{Messages: received.Load() - r0, Elapsed: time.Since(t0), Connected: len(sessions),
		CPU: float64(cpuTime()-cpu0) / float64(time.Since(t0))})
}
