// Package testenv finds or starts the outside services that tests need:
// PostgreSQL, the SQS-compatible server from npm. When a service is missing
// a test skips with a one-line reason, except in CI (CI=true), where a
// missing service fails the test: CI must never pass by skipping.
package testenv

import (
	"os"
	"testing"
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
