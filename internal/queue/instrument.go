package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Instrumented is a Queue that counts what passes through it:
// skirmish_<part>_queue_sent_messages_total,
// skirmish_<part>_queue_received_messages_total,
// skirmish_<part>_queue_deleted_messages_total and
// skirmish_<part>_queue_errors_total{op}.
type Instrumented struct {
	q                       Queue
	sent, received, deleted prometheus.Counter
	errs                    *prometheus.CounterVec
}

var _ Queue = (*Instrumented)(nil)

// Instrument wraps q and registers its counters with reg under part
// (gameserver, stats, ...).
func Instrument(q Queue, reg prometheus.Registerer, part string) (*Instrumented, error) {
	name := func(what string) string { return "skirmish_" + part + "_queue_" + what }
	in := &Instrumented{
		q: q,
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("sent_messages_total"), Help: "Messages the queue accepted from this process.",
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("received_messages_total"), Help: "Messages this process received from the queue.",
		}),
		deleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("deleted_messages_total"), Help: "Messages this process deleted from the queue.",
		}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("errors_total"), Help: "Failed queue calls, by operation: send, receive, delete, extend.",
		}, []string{"op"}),
	}
	for _, op := range []string{"send", "receive", "delete", "extend"} {
		in.errs.WithLabelValues(op)
	}
	for _, c := range []prometheus.Collector{in.sent, in.received, in.deleted, in.errs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("queue metrics: %w", err)
		}
	}
	return in, nil
}

// Unwrap returns the queue Instrument wrapped.
func (in *Instrumented) Unwrap() Queue { return in.q }

func (in *Instrumented) Send(ctx context.Context, msgs []Outgoing) error {
	if err := in.q.Send(ctx, msgs); err != nil {
		in.errs.WithLabelValues("send").Inc()
		return err
	}
	in.sent.Add(float64(len(msgs)))
	return nil
}

func (in *Instrumented) Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error) {
	msgs, err := in.q.Receive(ctx, max, wait)
	if err != nil {
		if ctx.Err() == nil {
			in.errs.WithLabelValues("receive").Inc()
		}
		return nil, err
	}
	in.received.Add(float64(len(msgs)))
	return msgs, nil
}

func (in *Instrumented) Delete(ctx context.Context, receiptHandles []string) error {
	if err := in.q.Delete(ctx, receiptHandles); err != nil {
		in.errs.WithLabelValues("delete").Inc()
		return err
	}
	in.deleted.Add(float64(len(receiptHandles)))
	return nil
}

func (in *Instrumented) ExtendVisibility(ctx context.Context, receiptHandles []string, d time.Duration) error {
	if err := in.q.ExtendVisibility(ctx, receiptHandles, d); err != nil {
		in.errs.WithLabelValues("extend").Inc()
		return err
	}
	return nil
}
