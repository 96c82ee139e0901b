package matchmaker

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	grpcauth "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

type sessionKey struct{}

// sessionFrom returns the session the auth interceptor verified.
func sessionFrom(ctx context.Context) auth.Session {
	s, _ := ctx.Value(sessionKey{}).(auth.Session)
	return s
}

// interceptors returns the server options chaining, from the outside in:
// metrics, logging, panic recovery, auth. Recovery sits inside logging and
// metrics so that a recovered panic is logged and counted as Internal.
func interceptors(keys *auth.Keys, sessions *sessionCache, lim *playerLimiter, srvMetrics *grpcprom.ServerMetrics, log *slog.Logger) []grpc.ServerOption {
	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(c codes.Code) logging.Level {
			if c == codes.OK {
				return logging.LevelDebug
			}
			return logging.DefaultServerCodeToLevel(c)
		}),
	}
	recoverOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in gRPC handler", "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
	authFn := authenticate(keys, sessions, lim)
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(
			srvMetrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(logger, logOpts...),
			recovery.UnaryServerInterceptor(recoverOpt),
			grpcauth.UnaryServerInterceptor(authFn),
		),
		grpc.ChainStreamInterceptor(
			srvMetrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(logger, logOpts...),
			recovery.StreamServerInterceptor(recoverOpt),
			grpcauth.StreamServerInterceptor(authFn),
		),
	}
}

// authenticate checks the bearer token each service needs: a session token
// for MatchmakerService, a service token for GameserverRegistryService.
// Health and reflection are open. Players over their request rate get
// RESOURCE_EXHAUSTED.
func authenticate(keys *auth.Keys, sessions *sessionCache, lim *playerLimiter) grpcauth.AuthFunc {
	matchmaker := "/" + skirmishv1.MatchmakerService_ServiceDesc.ServiceName + "/"
	registry := "/" + skirmishv1.GameserverRegistryService_ServiceDesc.ServiceName + "/"
	return func(ctx context.Context) (context.Context, error) {
		method, _ := grpc.Method(ctx)
		switch {
		case strings.HasPrefix(method, matchmaker):
			token, err := grpcauth.AuthFromMD(ctx, "bearer")
			if err != nil {
				return nil, err
			}
			sess, err := sessions.verify(token, time.Now())
			if err != nil {
				return nil, status.Error(codes.Unauthenticated, "authorization: invalid session token")
			}
			if !lim.allow(sess.PlayerID, time.Now()) {
				return nil, status.Error(codes.ResourceExhausted, "too many requests; slow down")
			}
			return context.WithValue(ctx, sessionKey{}, sess), nil
		case strings.HasPrefix(method, registry):
			token, err := grpcauth.AuthFromMD(ctx, "bearer")
			if err != nil {
				return nil, err
			}
			if _, err := keys.VerifyService(token); err != nil {
				return nil, status.Error(codes.Unauthenticated, "authorization: invalid service token")
			}
			return ctx, nil
		}
		return ctx, nil
	}
}
