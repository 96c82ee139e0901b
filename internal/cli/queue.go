package cli

import (
	"context"
	"flag"
	"time"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/queue/litequeue"
	"github.com/skirmishgg/skirmish/internal/queue/sqsqueue"
)

// Queue are the settings of the queue that carries match outcomes.
type Queue struct {
	Backend     string // sqlite or sqs
	Path        string
	SQSEndpoint string
	SQSQueue    string
	SQSRegion   string
	SQSCreate   bool
	Visibility  time.Duration
	MaxReceives int
}

// Register registers the queue settings on fs.
func (q *Queue) Register(fs *flag.FlagSet) {
	q.RegisterExisting(fs)
	fs.BoolVar(&q.SQSCreate, "sqs-create", true, "create the queue and its dead-letter queue when missing")
}

// RegisterExisting registers every queue setting but --sqs-create, for
// the commands that always create the queue (queues setup) or only read it.
func (q *Queue) RegisterExisting(fs *flag.FlagSet) {
	fs.StringVar(&q.Backend, "queue", "sqlite", "queue backend for match outcomes: sqlite (embedded) or sqs")
	fs.StringVar(&q.Path, "queue-path", "", "SQLite queue file (default <data-dir>/queue.db)")
	fs.StringVar(&q.SQSEndpoint, "sqs-endpoint", "", "SQS endpoint URL, e.g. http://localhost:4566 for LocalStack; empty uses AWS")
	fs.StringVar(&q.SQSQueue, "sqs-queue", "match-outcomes", "SQS queue name (a .fifo name makes a FIFO queue)")
	fs.StringVar(&q.SQSRegion, "sqs-region", "us-east-1", "AWS region of the SQS queue")
	fs.DurationVar(&q.Visibility, "queue-visibility-timeout", 30*time.Second, "how long a received outcome stays hidden before it is delivered again")
	fs.IntVar(&q.MaxReceives, "queue-max-receives", 5, "receives before an outcome moves to the dead-letter queue (redrive policy)")
}

// Validate checks the queue settings.
func (q *Queue) Validate() error {
	if q.Visibility < time.Second || q.Visibility > 12*time.Hour {
		return SettingError("queue-visibility-timeout", "must be between 1s and 12h, got %s", q.Visibility)
	}
	if q.MaxReceives < 1 || q.MaxReceives > 1000 {
		return SettingError("queue-max-receives", "must be between 1 and 1000, got %d", q.MaxReceives)
	}
	return OneOf("queue", q.Backend, "sqlite", "sqs")
}

// Name is the queue's name on its backend.
func (q *Queue) Name() string {
	if q.Backend == "sqs" {
		return q.SQSQueue
	}
	return queue.MatchOutcomes
}

// Open opens the match-outcome queue the settings name; an SQLite queue
// is closed by cl.
func (q *Queue) Open(ctx context.Context, c *Common, cl *Closer) (queue.Queue, error) {
	switch q.Backend {
	case "sqs":
		sq, err := sqsqueue.New(ctx, sqsqueue.Config{
			QueueName: q.SQSQueue,
			Endpoint:  q.SQSEndpoint,
			Region:    q.SQSRegion,
			Create:    q.SQSCreate,

			VisibilityTimeout: q.Visibility,
			MaxReceives:       q.MaxReceives,
		})
		if err != nil {
			return nil, SettingError("sqs-endpoint", "%v", err)
		}
		return sq, nil
	default:
		path := q.Path
		if path == "" {
			path = c.Path("queue.db")
		}
		lq, err := litequeue.Open(ctx, path, litequeue.Config{
			Name: queue.MatchOutcomes, VisibilityTimeout: q.Visibility, MaxReceives: q.MaxReceives,
		})
		if err != nil {
			return nil, SettingError("queue-path", "%v", err)
		}
		cl.Add(lq.Close)
		return lq, nil
	}
}
