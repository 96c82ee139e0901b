// Package queue is the seam between the gameservers that publish match
// outcomes and the stats workers that consume them. Two backends implement
// Queue with the same semantics: Amazon SQS (package sqsqueue) for
// production, and an SQLite-backed queue (package litequeue) that
// `skirmish dev` embeds.
//
// The semantics are those of an SQS standard queue: a received message is
// hidden for the visibility timeout and comes back if it is not deleted in
// time; every receive counts; a message received more than MaxReceives times
// moves to the dead-letter queue.
package queue

import (
	"context"
	"time"
)

// MatchOutcomes is the name of the queue that carries match outcomes.
const MatchOutcomes = "match-outcomes"

// OutcomeID is the message id of a match's outcome as its gameserver
// publishes it (from its outbox): the match id.
func OutcomeID(matchID string) string { return matchID }

// ServerLostID is the message id of the record that the matchmaker
// publishes for a match it presumed lost with its gameserver
// (END_REASON_SERVER_LOST). It differs from OutcomeID of the same match:
// the gameserver may have been only cut off, and its own outcome, sent
// later, is another message, which replaces the record.
func ServerLostID(matchID string) string { return "server-lost:" + matchID }

// Outgoing is a message to send.
type Outgoing struct {
	// ID names the message: it identifies it within a batch and, on FIFO
	// queues, is its deduplication id, so a FIFO queue keeps one message
	// per ID for five minutes. A retry of a message keeps its ID; two
	// messages that must both arrive need different IDs, even when they
	// are about one match (OutcomeID, ServerLostID).
	ID   string
	Body []byte
}

// Message is a received message.
type Message struct {
	ID            string
	Body          []byte
	ReceiptHandle string
	// ReceiveCount is how many times the message has been received,
	// this time included.
	ReceiveCount int
	SentAt       time.Time
}

// Queue sends, receives and deletes messages of one queue.
type Queue interface {
	// Send enqueues the messages, at most 10 at a time. It returns an error
	// when any message was not accepted; the caller may send them all again.
	Send(ctx context.Context, msgs []Outgoing) error
	// Receive returns up to max messages (at most 10), waiting up to wait for
	// the first one to arrive. It returns no messages and no error when none
	// arrived in time.
	Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error)
	// Delete removes received messages by receipt handle.
	Delete(ctx context.Context, receiptHandles []string) error
	// ExtendVisibility keeps received messages hidden for d from now.
	ExtendVisibility(ctx context.Context, receiptHandles []string, d time.Duration) error
}

// MaxBatch is the most messages one Send, Receive or Delete handles.
const MaxBatch = 10

// Depth is how many messages a queue and its dead-letter queue hold.
// SQS reports approximate numbers.
type Depth struct {
	// Visible messages wait to be received.
	Visible int
	// InFlight messages were received and are hidden until deleted or
	// their visibility timeout ends.
	InFlight int
	// Dead messages wait in the dead-letter queue.
	Dead int
}

// Admin is what operators do to a queue beside sending and receiving:
// look at its depth and its dead letters, and move dead letters back.
// Both backends implement it.
type Admin interface {
	// Depth counts the messages of the queue and its dead-letter queue.
	Depth(ctx context.Context) (Depth, error)
	// DeadLetters returns up to max messages of the dead-letter queue
	// (oldest first where the backend knows the order) and leaves them there.
	DeadLetters(ctx context.Context, max int) ([]Message, error)
	// Redrive moves up to max messages from the dead-letter queue back to
	// the queue, as new messages with a receive count of 0, and returns how
	// many it moved.
	Redrive(ctx context.Context, max int) (int, error)
}
