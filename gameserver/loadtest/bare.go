package loadtest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// bare is the baseline: a loop that writes one 100-byte WebSocket message
// per connection per tick at the tick rate. With cfg.BareSingle, one goroutine
// writes to every connection in turn; else each connection has a writer
// goroutine, all woken by each tick, like the gameserver's. The readers run
// in a client process (cfg.ClientCommand); with cfg.BareEcho they also send
// a message each per tick, which a reading goroutine per connection here
// discards. It measures the per-tick write time, the process's CPU and RSS,
// and what the readers receive. Over WebTransport it is bareDatagrams.
func bare(ctx context.Context, cfg Config, n int, rate int) (StepResult, error) {
	if cfg.Transport == TransportWebTransport {
		return bareDatagrams(ctx, cfg, n, rate)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return StepResult{}, err
	}
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{}}
	conns := make(chan *websocket.Conn, n)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err == nil {
			conns <- c
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	p, err := startClients(ctx, cfg.ClientCommand, Job{Mode: "bare", URL: "ws://" + ln.Addr().String() + "/", N: n, Duration: cfg.StepDuration,
		Nice: cfg.ClientNice, Procs: cfg.ClientProcs, Echo: cfg.BareEcho})
	if err != nil {
		return StepResult{}, err
	}
	defer p.kill()
	server := make([]*websocket.Conn, 0, n)
	var readers sync.WaitGroup
	defer func() {
		for _, c := range server {
			c.Close()
		}
		readers.Wait()
	}()
	for range n {
		c := <-conns
		server = append(server, c)
		if cfg.BareEcho {
			readers.Go(func() {
				for {
					if _, _, err := c.NextReader(); err != nil {
						return
					}
				}
			})
		}
	}

	msg := make([]byte, 100)
	period := time.Second / time.Duration(rate)
	var writers sync.WaitGroup
	wake := make([]chan struct{}, n)
	var pending sync.WaitGroup
	for i, c := range server {
		wake[i] = make(chan struct{}, 1)
		if cfg.BareSingle {
			continue
		}
		writers.Go(func() {
			for range wake[i] {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.WriteMessage(websocket.BinaryMessage, msg)
				pending.Done()
			}
		})
	}
	m := newMeter()
	t := time.NewTicker(period)
	start := time.Now()
	var ticks, overruns int
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
	for time.Since(start) < cfg.StepDuration && ctx.Err() == nil {
		<-t.C
		began := time.Now()
		if cfg.BareSingle {
			for _, c := range server {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.WriteMessage(websocket.BinaryMessage, msg)
			}
		} else {
			pending.Add(n)
			for _, w := range wake {
				w <- struct{}{}
			}
			pending.Wait()
		}
		took := time.Since(began)
		m.tick(took)
		ticks++
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
