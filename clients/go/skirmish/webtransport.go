package skirmish

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	wt "github.com/quic-go/webtransport-go"
	"google.golang.org/protobuf/encoding/protowire"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// WebTransportOptions tune WebTransport connections.
type WebTransportOptions struct {
	// URL overrides the assignment's webtransport_url.
	URL string
	// CertHashes are SHA-256 hashes of self-signed server certificates to
	// accept (a development gameserver's); they add to the assignment's
	// webtransport_cert_hashes. With none, the system roots verify.
	CertHashes [][]byte
	// TLS, when set, is the TLS configuration to dial with.
	TLS *tls.Config
}

// wtLink is a WebTransport session: messages on one bidirectional control
// stream, length-prefixed with a varint, plus datagrams. Two goroutines
// read the stream and the datagrams into in; once the Game set receive,
// datagrams go to it directly.
type wtLink struct {
	dialer *wt.Transport
	sess   *wt.Session
	stream *wt.Stream
	// Write state, guarded by the Game's writeMu. deadlineSet is when the
	// write deadline last moved: it moves at most once a second.
	wbuf        []byte
	deadlineSet time.Time

	receive atomic.Pointer[func([]byte) error]

	in       chan []byte
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu       sync.Mutex
	err      error
	deadline time.Time
}

func dialWebTransport(ctx context.Context, a *skirmishv1.Assignment, opts JoinOptions) (link, error) {
	o := opts.WebTransport
	url := o.URL
	if url == "" {
		url = a.GetWebtransportUrl()
	}
	if url == "" {
		return nil, errors.New("dial webtransport: the assignment has no webtransport_url")
	}
	hashes := append(append([][]byte(nil), o.CertHashes...), a.GetWebtransportCertHashes()...)
	tlsConf := o.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	if len(hashes) > 0 {
		tlsConf = tlsConf.Clone()
		tlsConf.InsecureSkipVerify = true // replaced by the pinning below
		tlsConf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no server certificate")
			}
			return pinned(cs.PeerCertificates[0], hashes)
		}
	}
	d := &wt.Transport{
		TLSClientConfig: tlsConf,
		QUICConfig:      &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true, KeepAlivePeriod: 10 * time.Second},
	}
	resp, sess, err := d.Dial(ctx, url, http.Header{})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		d.Close()
		return nil, fmt.Errorf("dial %s: status %d", url, resp.StatusCode)
	}
	stream, err := sess.OpenStreamSync(ctx)
	if err != nil {
		sess.CloseWithError(0, "")
		d.Close()
		return nil, fmt.Errorf("dial %s: open stream: %w", url, err)
	}
	l := &wtLink{dialer: d, sess: sess, stream: stream, in: make(chan []byte, 64), stop: make(chan struct{})}
	l.wg.Add(2)
	go l.readStream()
	go l.readDatagrams()
	return l, nil
}

// pinned checks a certificate the way browsers check
// serverCertificateHashes: its SHA-256 is listed and it is currently valid
// for at most 14 days.
func pinned(cert *x509.Certificate, hashes [][]byte) error {
	sum := sha256.Sum256(cert.Raw)
	now := time.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) || cert.NotAfter.Sub(cert.NotBefore) > 14*24*time.Hour {
		return errors.New("pinned certificate must be valid now and for at most 14 days")
	}
	for _, h := range hashes {
		if bytes.Equal(h, sum[:]) {
			return nil
		}
	}
	return errors.New("server certificate hash is not among the pinned ones")
}

func (l *wtLink) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	l.stopOnce.Do(func() { close(l.stop) })
}

func (l *wtLink) deliver(b []byte) bool {
	select {
	case l.in <- b:
		return true
	case <-l.stop:
		return false
	}
}

func (l *wtLink) readStream() {
	defer l.wg.Done()
	r := bufio.NewReader(l.stream)
	for {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			l.fail(err)
			return
		}
		if n > maxFrame {
			l.fail(fmt.Errorf("frame of %d bytes", n))
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			l.fail(err)
			return
		}
		if !l.deliver(b) {
			return
		}
	}
}

func (l *wtLink) readDatagrams() {
	defer l.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		b, err := l.sess.ReceiveDatagram(ctx)
		if err != nil {
			return // the stream reader reports why the session ended
		}
		if receive := l.receive.Load(); receive != nil {
			if err := (*receive)(b); err != nil {
				l.fail(err)
				return
			}
			continue
		}
		if !l.deliver(b) {
			return
		}
	}
}

// pushDatagrams: datagrams delivered before go through ReadMessage still,
// in a different order, as datagrams may arrive anyway.
func (l *wtLink) pushDatagrams(receive func(b []byte) error) { l.receive.Store(&receive) }

func (l *wtLink) WriteMessage(b []byte, now time.Time) error {
	l.wbuf = protowire.AppendVarint(l.wbuf[:0], uint64(len(b)))
	l.wbuf = append(l.wbuf, b...)
	if now.Sub(l.deadlineSet) > time.Second {
		l.stream.SetWriteDeadline(now.Add(defaultCallTimeout))
		l.deadlineSet = now
	}
	_, err := l.stream.Write(l.wbuf)
	return err
}

func (l *wtLink) WriteDatagram(b []byte, now time.Time) error {
	err := l.sess.SendDatagram(b)
	var tl *quic.DatagramTooLargeError
	if errors.As(err, &tl) {
		return l.WriteMessage(b, now)
	}
	return err
}

// ReadMessage returns the next message from the stream or a datagram; once
// the stream ended it returns why, after the messages read before.
func (l *wtLink) ReadMessage() ([]byte, error) {
	l.mu.Lock()
	dl := l.deadline
	l.mu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case b := <-l.in:
		return b, nil
	case <-timeout:
		return nil, os.ErrDeadlineExceeded
	case <-l.stop:
		select {
		case b := <-l.in:
			return b, nil
		default:
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	}
}

func (l *wtLink) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	l.deadline = t
	l.mu.Unlock()
	return nil
}

func (l *wtLink) CloseGracefully() { l.stream.Close() }

func (l *wtLink) Close() error {
	err := l.sess.CloseWithError(0, "")
	l.fail(errClosedLink)
	l.wg.Wait()
	l.dialer.Close()
	return err
}

var errClosedLink = errors.New("connection closed")

// NormalClose: the server ends the control stream (EOF) after the match
// end or an error message, and a session closed with code 0 is normal.
func (l *wtLink) NormalClose(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, errClosedLink) {
		return true
	}
	var se *wt.SessionError
	return errors.As(err, &se) && se.ErrorCode == 0
}

var _ datagramPusher = (*wtLink)(nil)
