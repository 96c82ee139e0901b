package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/skirmishgg/skirmish/internal/queue"
)

var _ queue.Admin = (*Queue)(nil)

// peekVisibility hides dead letters while DeadLetters collects them, so that
// one is not returned twice; they are made visible again at once after.
const peekVisibility = 30

// Setup makes the queue and its dead-letter queue when missing, and sets the
// queue's redrive policy (MaxReceives) and visibility timeout whether it was
// made now or before: what `skirmish queues setup` runs.
func (q *Queue) Setup(ctx context.Context) error {
	if _, err := q.create(ctx); err != nil {
		return fmt.Errorf("sqsqueue: set up %s: %w", q.cfg.QueueName, err)
	}
	attrs, err := q.redriveAttrs(ctx)
	if err != nil {
		return fmt.Errorf("sqsqueue: set up %s: %w", q.cfg.QueueName, err)
	}
	if _, err := q.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(q.url), Attributes: attrs,
	}); err != nil {
		return fmt.Errorf("sqsqueue: set up %s: redrive policy: %w", q.cfg.QueueName, err)
	}
	return nil
}

// dlqURL finds the dead-letter queue's URL.
func (q *Queue) dlqURL(ctx context.Context) (string, error) {
	if q.dlq != "" {
		return q.dlq, nil
	}
	u, err := q.queueURL(ctx, DeadLetterName(q.cfg.QueueName))
	if err != nil {
		return "", fmt.Errorf("dead-letter queue %s: %w", DeadLetterName(q.cfg.QueueName), err)
	}
	q.dlq = u
	return u, nil
}

// Depth reads SQS's approximate counts of both queues.
func (q *Queue) Depth(ctx context.Context) (queue.Depth, error) {
	var d queue.Depth
	dlq, err := q.dlqURL(ctx)
	if err != nil {
		return d, fmt.Errorf("sqsqueue: depth of %s: %w", q.cfg.QueueName, err)
	}
	for _, u := range []string{q.url, dlq} {
		out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(u),
			AttributeNames: []types.QueueAttributeName{
				types.QueueAttributeNameApproximateNumberOfMessages,
				types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			},
		})
		if err != nil {
			return queue.Depth{}, fmt.Errorf("sqsqueue: depth of %s: %w", u, err)
		}
		visible, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
		hidden, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		if u == q.url {
			d.Visible, d.InFlight = visible, hidden
		} else {
			d.Dead = visible + hidden
		}
	}
	return d, nil
}

// DeadLetters receives up to max dead letters, then makes them visible
// again. Each look counts as a receive of the dead letter.
func (q *Queue) DeadLetters(ctx context.Context, max int) ([]queue.Message, error) {
	msgs, err := q.receiveDead(ctx, max)
	if len(msgs) > 0 {
		handles := make([]string, len(msgs))
		for i, m := range msgs {
			handles[i] = m.ReceiptHandle
		}
		err = errors.Join(err, q.changeVisibility(ctx, q.dlq, handles, 0))
	}
	if err != nil {
		return nil, fmt.Errorf("sqsqueue: dead letters of %s: %w", q.cfg.QueueName, err)
	}
	return msgs, nil
}

// Redrive moves up to max dead letters back: each is sent to the queue,
// then deleted from the dead-letter queue. A crash between the two leaves a
// copy in both, which consumers idempotent by match id tolerate.
func (q *Queue) Redrive(ctx context.Context, max int) (int, error) {
	moved := 0
	for moved < max {
		msgs, err := q.receiveDead(ctx, min(max-moved, queue.MaxBatch))
		if err != nil || len(msgs) == 0 {
			return moved, err
		}
		out := make([]queue.Outgoing, len(msgs))
		handles := make([]string, len(msgs))
		for i, m := range msgs {
			// A fresh deduplication id: on a FIFO queue the original one
			// may still be inside SQS's five-minute window.
			out[i] = queue.Outgoing{ID: "redrive-" + m.ID, Body: m.Body}
			handles[i] = m.ReceiptHandle
		}
		if err := q.Send(ctx, out); err != nil {
			return moved, fmt.Errorf("sqsqueue: redrive %s: %w", q.cfg.QueueName, err)
		}
		if err := q.deleteFrom(ctx, q.dlq, handles); err != nil {
			return moved, fmt.Errorf("sqsqueue: redrive %s: %w", q.cfg.QueueName, err)
		}
		moved += len(msgs)
	}
	return moved, nil
}

// receiveDead collects up to max distinct dead letters, hidden for
// peekVisibility seconds.
func (q *Queue) receiveDead(ctx context.Context, max int) ([]queue.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("max %d must be at least 1", max)
	}
	dlq, err := q.dlqURL(ctx)
	if err != nil {
		return nil, err
	}
	var msgs []queue.Message
	for len(msgs) < max {
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(dlq),
			MaxNumberOfMessages: int32(min(max-len(msgs), queue.MaxBatch)),
			VisibilityTimeout:   peekVisibility,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameApproximateReceiveCount,
				types.MessageSystemAttributeNameSentTimestamp,
			},
		})
		if err != nil {
			return msgs, err
		}
		if len(out.Messages) == 0 {
			break
		}
		msgs = append(msgs, toMessages(out.Messages)...)
	}
	return msgs, nil
}

func (q *Queue) deleteFrom(ctx context.Context, url string, all []string) error {
	for handles := range slices.Chunk(all, queue.MaxBatch) {
		if err := q.deleteBatch(ctx, url, handles); err != nil {
			return err
		}
	}
	return nil
}

func (q *Queue) deleteBatch(ctx context.Context, url string, handles []string) error {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(handles))
	for i, h := range handles {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
	}
	out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		return err
	}
	if len(out.Failed) > 0 {
		return batchError(out.Failed, nil)
	}
	return nil
}

func (q *Queue) changeVisibility(ctx context.Context, url string, all []string, secs int32) error {
	for handles := range slices.Chunk(all, queue.MaxBatch) {
		if err := q.changeBatch(ctx, url, handles, secs); err != nil {
			return err
		}
	}
	return nil
}

func (q *Queue) changeBatch(ctx context.Context, url string, handles []string, secs int32) error {
	entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(handles))
	for i, h := range handles {
		entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: secs,
		}
	}
	out, err := q.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(url), Entries: entries,
	})
	if err != nil {
		return err
	}
	if len(out.Failed) > 0 {
		return batchError(out.Failed, nil)
	}
	return nil
}
