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
	"github.com/skirmishgg/skirmish/internal/limits"
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
	recoverOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in gRPC handler", "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
	authFn := authenticate(keys, sessions, lim)
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(
			srvMetrics.UnaryServerInterceptor(),
			func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
				start := time.Now()
				resp, err := handler(ctx, req)
				logCall(ctx, log, info.FullMethod, start, err)
				return resp, err
			},
			recovery.UnaryServerInterceptor(recoverOpt),
			grpcauth.UnaryServerInterceptor(authFn),
		),
		grpc.ChainStreamInterceptor(
			srvMetrics.StreamServerInterceptor(),
			func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
				start := time.Now()
				err := handler(srv, ss)
				logCall(ss.Context(), log, info.FullMethod, start, err)
				return err
			},
			recovery.StreamServerInterceptor(recoverOpt),
			grpcauth.StreamServerInterceptor(authFn),
		),
	}
}

// logErrorMax bounds the error message of a logged call, in bytes: the
// message may quote a client's value.
const logErrorMax = 512

// logCall logs a finished call: at debug level when it succeeded, else at
// the level go-grpc-middleware gives its code (warn for client errors such
// as NotFound, error for Internal and the like). Unlike that library's
// logging interceptor it builds nothing for a call whose level is off, so
// a successful call costs a time.Now and an Enabled check.
func logCall(ctx context.Context, log *slog.Logger, fullMethod string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelDebug
	if code != codes.OK {
		level = slog.Level(logging.DefaultServerCodeToLevel(code))
	}
	if !log.Enabled(ctx, level) {
		return
	}
	service, method := "", strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(method, '/'); i >= 0 {
		service, method = method[:i], method[i+1:]
	}
	attrs := []slog.Attr{
		slog.String("grpc.service", service),
		slog.String("grpc.method", method),
		slog.String("grpc.code", code.String()),
		slog.Float64("grpc.time_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if err != nil {
		attrs = append(attrs, slog.String("grpc.error", limits.Clip(status.Convert(err).Message(), logErrorMax)))
	}
	log.LogAttrs(ctx, level, "finished call", attrs...)
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
			if _, err := keys.VerifyService(auth.KindRegistry, token); err != nil {
				return nil, status.Error(codes.Unauthenticated, "authorization: invalid service token")
			}
			return ctx, nil
		}
		return ctx, nil
	}
}
