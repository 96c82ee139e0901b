// Package skirmish is the Go client SDK for Skirmish. It signs a player in
// as a guest and reads boards, ranks and match history (REST, leaderboard),
// finds a match alone or as a party (gRPC, matchmaker; members hand the
// leader party invites, never their sessions), and plays it over
// WebSocket or WebTransport (gameserver): it sends inputs, applies the
// delta snapshots the server sends and exposes the world the player sees.
// After a drop, Rejoin returns to the same seat with the join token, and
// with JoinOptions.Refresh gets a new one when it has expired. Games other
// than Arena take inputs as bytes (SendCustom) and send their own events
// (JoinOptions.OnEvent, in order, resent after a Rejoin); see events.go.
//
// A typical session:
//
//	lb, _ := skirmish.NewLeaderboard("http://127.0.0.1:7820", skirmish.LeaderboardOptions{})
//	s, _ := lb.SignInGuest(ctx, "Ada")
//	mm, _ := skirmish.DialMatchmakerOptions(ctx, "mm.example.com:443", s,
//		skirmish.MatchmakerOptions{TLS: &tls.Config{}})
//	a, _ := mm.FindMatch(ctx, "duel", nil)
//	g, _ := skirmish.Join(ctx, a, skirmish.JoinOptions{Refresh: mm.RefreshJoinToken})
//	// every tick until <-g.Done(): read g.World(), then g.SendArena(...)
//	if g.Dropped() { g, _ = g.Rejoin(ctx, skirmish.Backoff{}) }
//	outcome := g.Outcome()
//
// Calls a service refuses for now (HTTP 429 or 503, gRPC
// RESOURCE_EXHAUSTED or UNAVAILABLE) are retried after the server's
// Retry-After, with jittered exponential backoff (see Backoff); errors are
// *HTTPError, gRPC status errors, or *ServerError from the gameserver.
//
// The package imports no server package: entities and the snapshot codec
// come from proto/snapshot, which the gameserver encodes with, and a test
// holds the SDK's dependency list to that. The bot swarm in clients/go/bot
// is built on this package; the TypeScript SDK is in clients/ts.
package skirmish
