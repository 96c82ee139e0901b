// Package testenv finds or starts the outside services that tests need:
// PostgreSQL, the SQS-compatible server from npm. When a service is missing
// a test skips with a one-line reason, except in CI (CI=true), where a
// missing service fails the test: CI must never pass by skipping.
package testenv

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI, where every service must be
// present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test because a service it needs is not available:
// a skip on a developer machine, a failure in CI.
func Missing(t testing.TB, service string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI but not available: %v", service, err)
	}
	t.Skipf("%s not available (%v); set CI=true to make this a failure", service, err)
}

// Run starts a component's Run method on its own goroutine and returns a
// stop function that cancels its context and waits for Run to return,
// failing the test if it returns an error or takes longer than 15 seconds.
// Stop is also registered with t.Cleanup; calling it twice is safe.
func Run(t testing.TB, run func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("Run did not return within 15s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
