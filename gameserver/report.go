package gameserver

import (
	"context"
	"log/slog"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// reportQueue bounds the room reports waiting to reach the matchmaker.
const reportQueue = 1024

// reporter forwards room reports (cancelled, ended, backfill wanted or
// done) to the matchmaker's registry in order, retrying each a few times.
// Rooms hand reports over without ever waiting; when the matchmaker is
// unreachable for long, the queue fills and reports are dropped (the
// matchmaker also learns of ended rooms from the load in heartbeats).
type reporter struct {
	s     *Server
	queue chan *skirmishv1.ReportRoomRequest
}

func newReporter(s *Server) *reporter {
	return &reporter{s: s, queue: make(chan *skirmishv1.ReportRoomRequest, reportQueue)}
}

// Report implements room.Reporter.
func (rp *reporter) Report(req *skirmishv1.ReportRoomRequest) {
	select {
	case rp.queue <- req:
	default:
		rp.s.log.Warn("room report dropped: queue full", "room", req.RoomId, "event", req.Event)
	}
}

// run sends reports until ctx ends, then sends what is still queued for
// up to two more seconds.
func (rp *reporter) run(ctx context.Context) {
	if rp.s.cfg.MatchmakerAddr == "" {
		<-ctx.Done()
		return
	}
	conn, err := dialMatchmaker(rp.s.cfg.MatchmakerAddr)
	if err != nil {
		rp.s.log.Error("matchmaker address", "addr", rp.s.cfg.MatchmakerAddr, "err", err)
		<-ctx.Done()
		return
	}
	defer conn.Close()
	client := skirmishv1.NewGameserverRegistryServiceClient(conn)
	var interrupted *skirmishv1.ReportRoomRequest
loop:
	for {
		select {
		case req := <-rp.queue:
			// A report taken just as ctx ends (the room's ENDED report,
			// typically) is not lost: the flush below sends it again.
			if !rp.send(ctx, client, req) && ctx.Err() != nil {
				interrupted = req
				break loop
			}
		case <-ctx.Done():
			break loop
		}
	}
	flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if interrupted != nil {
		rp.send(flush, client, interrupted)
	}
	for {
		select {
		case req := <-rp.queue:
			rp.send(flush, client, req)
		default:
			return
		}
	}
}

// send delivers one report, retrying a few times; it reports whether the
// matchmaker took it.
func (rp *reporter) send(ctx context.Context, client skirmishv1.GameserverRegistryServiceClient, req *skirmishv1.ReportRoomRequest) bool {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := client.ReportRoom(rp.s.withToken(cctx), req)
		cancel()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt == 5 {
			rp.s.log.Warn("report room to matchmaker", "room", req.RoomId, "event", req.Event, "err", err)
			return false
		}
		rp.s.log.Log(ctx, slog.LevelDebug, "report room: retrying", "err", err)
		select {
		case <-time.After(backoff):
			backoff *= 2
		case <-ctx.Done():
		}
	}
}
