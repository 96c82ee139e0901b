// Package ops holds what operators deploy and watch, and the tests that
// check it offline: Prometheus scrape configs, recording and alert rules
// with their promtool unit tests (prometheus/), Grafana dashboards and
// provisioning (grafana/), a docker compose file (compose/) and Kubernetes
// manifests with kustomize overlays (k8s/). See README.md.
package ops
