// Package skirmish is the Go client SDK for Skirmish. It signs a player in
// as a guest (REST, leaderboard), finds a match (gRPC, matchmaker), and plays
// it over WebSocket (gameserver): it sends inputs, applies the delta
// snapshots the server sends and exposes the world the player sees.
//
// A typical session:
//
//	s, _ := skirmish.SignInGuest(ctx, httpClient, "http://127.0.0.1:7820", "Ada")
//	mm, _ := skirmish.DialMatchmaker(ctx, "127.0.0.1:7810", s)
//	a, _ := mm.FindMatch(ctx, "duel", nil)
//	g, _ := skirmish.Join(ctx, a, skirmish.JoinOptions{})
//	for g.Running() { w := g.World(); g.SendArena(...) }
//
// The bot swarm in clients/go/bot is built on this package.
package skirmish
