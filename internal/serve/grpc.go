package serve

import (
	"context"
	"net/netip"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/internal/limits"
)

// GRPCLimits bounds what one client may make a gRPC server hold. Zero
// fields take the defaults shown.
type GRPCLimits struct {
	// MaxRecvMsgSize is the largest request message, in bytes (64 KiB);
	// a larger one is refused with RESOURCE_EXHAUSTED before it is
	// decoded.
	MaxRecvMsgSize int
	// MaxConcurrentStreams is the most calls open at once on one HTTP/2
	// connection (100).
	MaxConcurrentStreams uint32
	// MaxHeaderListSize bounds a call's metadata, in bytes (16 KiB).
	MaxHeaderListSize uint32
	// StreamsPerPeer is the most streaming calls one peer (limits.Key of
	// its address) holds open at once over all its connections (256);
	// more are refused with RESOURCE_EXHAUSTED. Negative: no limit.
	StreamsPerPeer int
	// PeerRate and PeerBurst bound the calls each peer may start, before
	// any authentication (100/s, burst 200). Negative rate: no limit.
	PeerRate  float64
	PeerBurst int
	// Proxies are the reverse proxies whose x-forwarded-for metadata (and
	// X-Forwarded-For header, for calls that came through HTTP) names the
	// peer.
	Proxies limits.Proxies
	// ErrorMessageMax bounds the message of every error status a call
	// returns, in bytes (512): a handler that quotes a client's value
	// cannot make an answer large.
	ErrorMessageMax int
}

func (l *GRPCLimits) fill() {
	if l.MaxRecvMsgSize <= 0 {
		l.MaxRecvMsgSize = 64 << 10
	}
	if l.MaxConcurrentStreams == 0 {
		l.MaxConcurrentStreams = MaxConcurrentStreams
	}
	if l.MaxHeaderListSize == 0 {
		l.MaxHeaderListSize = 16 << 10
	}
	if l.StreamsPerPeer == 0 {
		l.StreamsPerPeer = 256
	}
	if l.PeerRate == 0 {
		l.PeerRate = 100
	}
	if l.PeerBurst <= 0 {
		l.PeerBurst = 200
	}
	if l.ErrorMessageMax <= 0 {
		l.ErrorMessageMax = 512
	}
}

// ServerOptions returns the grpc.ServerOptions that apply l: message,
// stream and metadata bounds, keepalive enforcement (a client may ping at
// most every 10 s; an idle connection is closed after 5 min), and the
// peer guard as the outermost interceptors. Chain the part's own
// interceptors with grpc.ChainUnaryInterceptor and
// grpc.ChainStreamInterceptor after these.
func (l GRPCLimits) ServerOptions() []grpc.ServerOption {
	l.fill()
	g := &peerGuard{lim: l, rates: limits.NewPeerRates(l.PeerRate, l.PeerBurst, 0), streams: limits.NewPeerConns(l.StreamsPerPeer)}
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(l.MaxRecvMsgSize),
		grpc.MaxConcurrentStreams(l.MaxConcurrentStreams),
		grpc.MaxHeaderListSize(l.MaxHeaderListSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 5 * time.Minute}),
		grpc.ChainUnaryInterceptor(g.unary),
		grpc.ChainStreamInterceptor(g.stream),
	}
}

// peerGuard refuses calls over their peer's rate or stream count, and
// clips the message of every error a call returns.
type peerGuard struct {
	lim     GRPCLimits
	rates   *limits.PeerRates
	streams *limits.PeerConns
}

// PeerAddr returns the client address of a call: its connection's peer,
// or, when that is a trusted proxy, the address the proxy forwarded in
// x-forwarded-for.
func PeerAddr(ctx context.Context, proxies limits.Proxies) netip.Addr {
	var remote netip.Addr
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = limits.AddrOf(p.Addr.String())
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return proxies.Client(remote, md.Get("x-forwarded-for"))
}

func (g *peerGuard) allow(ctx context.Context) (string, error) {
	key := limits.Key(PeerAddr(ctx, g.lim.Proxies))
	if ok, _ := g.rates.Allow(key, time.Now()); !ok {
		return key, status.Error(codes.ResourceExhausted, "too many calls from this address; slow down")
	}
	return key, nil
}

func (g *peerGuard) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if _, err := g.allow(ctx); err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	return resp, g.clip(err)
}

func (g *peerGuard) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	key, err := g.allow(ss.Context())
	if err != nil {
		return err
	}
	if !g.streams.Acquire(key) {
		return status.Error(codes.ResourceExhausted, "too many open streams from this address")
	}
	defer g.streams.Release(key)
	return g.clip(handler(srv, ss))
}

// clip shortens the message of an error status to ErrorMessageMax bytes.
func (g *peerGuard) clip(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok || len(st.Message()) <= g.lim.ErrorMessageMax {
		return err
	}
	p := st.Proto()
	p.Message = limits.Clip(p.Message, g.lim.ErrorMessageMax)
	p.Details = nil
	return status.FromProto(p).Err()
}
