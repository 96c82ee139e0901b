// Package sqsqueue is the queue.Queue on Amazon SQS (or LocalStack, or any
// server that speaks SQS's JSON protocol), through aws-sdk-go-v2.
//
// Standard and FIFO queues (names ending in ".fifo") are supported. On a FIFO
// queue each message is its own group and is deduplicated by its
// queue.Outgoing.ID, so a publisher that sends the same message twice within
// SQS's five-minute window enqueues it once, and SQS accepts, then drops,
// a different message sent with an ID it has seen in that window.
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skirmishgg/skirmish/internal/queue"
)

// Config configures a Queue.
type Config struct {
	// QueueName is the queue's name. Default queue.MatchOutcomes.
	QueueName string
	// Endpoint, when set, is the base URL of the SQS API, for LocalStack or
	// a test server, e.g. "http://127.0.0.1:4566".
	Endpoint string
	// Region of the queue. Default us-east-1.
	Region string
	// Create makes the queue and its dead-letter queue DeadLetterName(QueueName)
	// when they are missing, with VisibilityTimeout and a redrive policy of
	// MaxReceives. Existing queues are left as they are.
	Create bool
	// VisibilityTimeout, when set, hides each received message this long,
	// whatever the queue's own setting (whole seconds, rounded up).
	VisibilityTimeout time.Duration
	// MaxReceives is the redrive policy's maxReceiveCount used by Create.
	// Default 5.
	MaxReceives int
	// AccessKeyID and SecretAccessKey, when both set, are static credentials
	// (for tests and LocalStack). Otherwise the default AWS chain is used.
	AccessKeyID     string
	SecretAccessKey string
}

// DeadLetterName is the dead-letter queue of the queue name: "<name>-dlq",
// keeping the ".fifo" suffix last for FIFO queues.
func DeadLetterName(name string) string {
	if base, ok := strings.CutSuffix(name, ".fifo"); ok {
		return base + "-dlq.fifo"
	}
	return name + "-dlq"
}

// Queue is a queue.Queue on one SQS queue.
type Queue struct {
	cfg    Config
	client *sqs.Client
	url    string
	dlq    string // the dead-letter queue's URL, once known
	fifo   bool
}

var _ queue.Queue = (*Queue)(nil)

// New connects to the queue, creating it first when cfg.Create is set.
func New(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.QueueName == "" {
		cfg.QueueName = queue.MatchOutcomes
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxReceives == 0 {
		cfg.MaxReceives = 5
	}
	switch {
	case cfg.MaxReceives < 1 || cfg.MaxReceives > 1000:
		return nil, fmt.Errorf("sqsqueue: max receives %d: want 1 to 1000", cfg.MaxReceives)
	case cfg.VisibilityTimeout < 0 || cfg.VisibilityTimeout > 12*time.Hour:
		return nil, fmt.Errorf("sqsqueue: visibility timeout %v: want 0 to 12h", cfg.VisibilityTimeout)
	case (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == ""):
		return nil, errors.New("sqsqueue: set both AccessKeyID and SecretAccessKey, or neither")
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("sqsqueue: load AWS config: %w", err)
	}
	client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	q := &Queue{cfg: cfg, client: client, fifo: strings.HasSuffix(cfg.QueueName, ".fifo")}
	q.url, err = q.queueURL(ctx, cfg.QueueName)
	var missing *types.QueueDoesNotExist
	if errors.As(err, &missing) && cfg.Create {
		q.url, err = q.create(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("sqsqueue: queue %s: %w", cfg.QueueName, err)
	}
	return q, nil
}

// URL is the queue's URL.
func (q *Queue) URL() string { return q.url }

func (q *Queue) queueURL(ctx context.Context, name string) (string, error) {
	out, err := q.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}

// create makes the dead-letter queue when missing, then the queue
// redriving to it when missing, and returns the queue's URL.
func (q *Queue) create(ctx context.Context) (string, error) {
	attrs, err := q.redriveAttrs(ctx)
	if err != nil {
		return "", err
	}
	if q.fifo {
		attrs[string(types.QueueAttributeNameFifoQueue)] = "true"
	}
	u, err := q.ensure(ctx, q.cfg.QueueName, attrs)
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	q.url = u
	return u, nil
}

// redriveAttrs makes the dead-letter queue when missing and returns the
// queue attributes that point the queue at it: the redrive policy of
// MaxReceives and, when set, the visibility timeout.
func (q *Queue) redriveAttrs(ctx context.Context) (map[string]string, error) {
	dlqAttrs := map[string]string{}
	if q.fifo {
		dlqAttrs[string(types.QueueAttributeNameFifoQueue)] = "true"
	}
	dlqName := DeadLetterName(q.cfg.QueueName)
	dlq, err := q.ensure(ctx, dlqName, withRetention(dlqAttrs))
	if err != nil {
		return nil, fmt.Errorf("create dead-letter queue %s: %w", dlqName, err)
	}
	q.dlq = dlq
	got, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(dlq),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("dead-letter queue %s ARN: %w", dlqName, err)
	}
	attrs := map[string]string{
		string(types.QueueAttributeNameRedrivePolicy): fmt.Sprintf(
			`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`,
			got.Attributes[string(types.QueueAttributeNameQueueArn)], q.cfg.MaxReceives),
	}
	if q.cfg.VisibilityTimeout > 0 {
		attrs[string(types.QueueAttributeNameVisibilityTimeout)] = strconv.Itoa(seconds(q.cfg.VisibilityTimeout))
	}
	return attrs, nil
}

// ensure returns the URL of the queue name, creating it with attrs when
// missing.
func (q *Queue) ensure(ctx context.Context, name string, attrs map[string]string) (string, error) {
	u, err := q.queueURL(ctx, name)
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		return u, err
	}
	out, err := q.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}

// withRetention keeps dead letters for SQS's longest retention, 14 days.
func withRetention(attrs map[string]string) map[string]string {
	out := map[string]string{string(types.QueueAttributeNameMessageRetentionPeriod): "1209600"}
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

// Send enqueues msgs with SendMessageBatch. When some were not accepted it
// returns an error naming them; sending them all again is safe.
func (q *Queue) Send(ctx context.Context, msgs []queue.Outgoing) error {
	if len(msgs) > queue.MaxBatch {
		return fmt.Errorf("sqsqueue: send %d messages: at most %d at a time", len(msgs), queue.MaxBatch)
	}
	if len(msgs) == 0 {
		return nil
	}
	entries := make([]types.SendMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(i)), // batch ids allow only [A-Za-z0-9_-]
			MessageBody: aws.String(string(m.Body)),
		}
		if q.fifo {
			entries[i].MessageGroupId = aws.String(m.ID)
			entries[i].MessageDeduplicationId = aws.String(m.ID)
		}
	}
	out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
	if err != nil {
		return fmt.Errorf("sqsqueue: send to %s: %w", q.cfg.QueueName, err)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("sqsqueue: send to %s: %w", q.cfg.QueueName, batchError(out.Failed, func(i int) string { return msgs[i].ID }))
	}
	return nil
}

// Receive long-polls for up to max messages. SQS waits in whole seconds, at
// most 20: wait is rounded down.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	if max < 1 || max > queue.MaxBatch {
		return nil, fmt.Errorf("sqsqueue: receive %d messages: want 1 to %d", max, queue.MaxBatch)
	}
	in := &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(q.url),
		MaxNumberOfMessages: int32(max),
		WaitTimeSeconds:     int32(min(wait/time.Second, 20)),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	}
	if q.cfg.VisibilityTimeout > 0 {
		in.VisibilityTimeout = int32(seconds(q.cfg.VisibilityTimeout))
	}
	out, err := q.client.ReceiveMessage(ctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("sqsqueue: receive from %s: %w", q.cfg.QueueName, err)
	}
	return toMessages(out.Messages), nil
}

func toMessages(in []types.Message) []queue.Message {
	msgs := make([]queue.Message, len(in))
	for i, m := range in {
		msgs[i] = queue.Message{
			ID:            aws.ToString(m.MessageId),
			Body:          []byte(aws.ToString(m.Body)),
			ReceiptHandle: aws.ToString(m.ReceiptHandle),
		}
		attrs := m.Attributes
		if n, err := strconv.Atoi(attrs[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
			msgs[i].ReceiveCount = n
		}
		if ms, err := strconv.ParseInt(attrs[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			msgs[i].SentAt = time.UnixMilli(ms)
		}
	}
	return msgs
}

// Delete removes messages with DeleteMessageBatch, ten at a time.
func (q *Queue) Delete(ctx context.Context, receiptHandles []string) error {
	for batch := range slices.Chunk(receiptHandles, queue.MaxBatch) {
		entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
		for i, h := range batch {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
		}
		out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("sqsqueue: delete from %s: %w", q.cfg.QueueName, err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("sqsqueue: delete from %s: %w", q.cfg.QueueName, batchError(out.Failed, nil))
		}
	}
	return nil
}

// ExtendVisibility hides messages for d from now (whole seconds, rounded up)
// with ChangeMessageVisibilityBatch.
func (q *Queue) ExtendVisibility(ctx context.Context, receiptHandles []string, d time.Duration) error {
	if d < 0 || d > 12*time.Hour {
		return fmt.Errorf("sqsqueue: extend visibility by %v: want 0 to 12h", d)
	}
	for batch := range slices.Chunk(receiptHandles, queue.MaxBatch) {
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i, h := range batch {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
				Id:                aws.String(strconv.Itoa(i)),
				ReceiptHandle:     aws.String(h),
				VisibilityTimeout: int32(seconds(d)),
			}
		}
		out, err := q.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(q.url), Entries: entries,
		})
		if err != nil {
			return fmt.Errorf("sqsqueue: extend visibility in %s: %w", q.cfg.QueueName, err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("sqsqueue: extend visibility in %s: %w", q.cfg.QueueName, batchError(out.Failed, nil))
		}
	}
	return nil
}

// BatchError reports the entries of a batch call that SQS did not accept.
type BatchError struct {
	// Failed maps each failed entry (the message's ID for Send, its index
	// in the batch otherwise) to SQS's code and message.
	Failed map[string]string
}

func (e *BatchError) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for id, why := range e.Failed {
		parts = append(parts, id+": "+why)
	}
	return fmt.Sprintf("%d entries failed: %s", len(e.Failed), strings.Join(parts, "; "))
}

func batchError(failed []types.BatchResultErrorEntry, name func(int) string) *BatchError {
	e := &BatchError{Failed: make(map[string]string, len(failed))}
	for _, f := range failed {
		id := aws.ToString(f.Id)
		if i, err := strconv.Atoi(id); err == nil && name != nil {
			id = name(i)
		}
		e.Failed[id] = aws.ToString(f.Code) + " " + aws.ToString(f.Message)
	}
	return e
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
