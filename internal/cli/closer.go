package cli

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
)

// Closer collects what a command opened, to close in reverse order.
type Closer []func() error

// Add adds f to what Close calls.
func (c *Closer) Add(f func() error) { *c = append(*c, f) }

// Close calls every function added, the last added first, and joins
// their errors.
func (c Closer) Close() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i]())
	}
	return errors.Join(errs...)
}

// RunAll runs fns until ctx ends or one fails, and waits for all of them.
func RunAll(ctx context.Context, fns ...func(ctx context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(gctx) })
	}
	return g.Wait()
}
