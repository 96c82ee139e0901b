package ops

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// kustomizeBuild renders an overlay with kustomize, or with kubectl's
// built-in kustomize when that is what the machine has.
func kustomizeBuild(t *testing.T, dir string) []byte {
	t.Helper()
	if _, err := exec.LookPath("kustomize"); err != nil {
		if k, err := exec.LookPath("kubectl"); err == nil {
			return run(t, ".", k, "kustomize", dir)
		}
	}
	k := tool(t, "kustomize", "go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.1")
	return run(t, ".", k, "build", dir)
}

// TestKubernetes renders every overlay, validates the result offline with
// kubectl-validate against Kubernetes 1.30 and the CRD schemas in
// k8s/crds (Agones 1.56 Fleet and FleetAutoscaler, KEDA ScaledObject and
// TriggerAuthentication, the ServiceMonitor), validates the Fleet's pod
// template as a core PodTemplate, and checks what operators rely on:
// probes, resources, disruption budgets, ServiceMonitors, the Fleet's
// ports, health and grace period, the matchmaker's replicas on Redis, the
// leaderboards on the Redis index, the stats workers' scaler,
// NetworkPolicies that keep internal ports internal, the internal wiring
// (checkInternalWiring), and SKIRMISH_* variables that are real flags.
func TestKubernetes(t *testing.T) {
	validate := tool(t, "kubectl-validate", "go install sigs.k8s.io/kubectl-validate@v0.0.4")
	overlays, _ := filepath.Glob("k8s/overlays/*")
	if len(overlays) < 2 {
		t.Fatalf("overlays = %v, want dev and prod", overlays)
	}
	for _, dir := range overlays {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := kustomizeBuild(t, dir)
			tmp := t.TempDir()
			file := filepath.Join(tmp, "rendered.yaml")
			if err := os.WriteFile(file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, ".", validate, "--version", "1.30", "--local-crds", "k8s/crds", file)
			objs := decodeObjects(t, out)
			pods := filepath.Join(tmp, "fleet-pod-template.yaml")
			if err := os.WriteFile(pods, fleetPodTemplates(t, objs), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, ".", validate, "--version", "1.30", pods)
			checkManifests(t, objs, filepath.Base(dir))
		})
	}
}

// obj is a rendered manifest, read generically.
type obj map[string]any

func (o obj) kind() string { return str(o, "kind") }
func (o obj) name() string { return str(o, "metadata", "name") }

// get walks maps by key and lists by index ("0").
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case obj:
			v = map[string]any(x)[p]
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string { s, _ := get(v, path...).(string); return s }
func num(v any, path ...string) int    { n, _ := get(v, path...).(int); return n }
func list(v any, path ...string) []any { l, _ := get(v, path...).([]any); return l }
func dict(v any, path ...string) map[string]any {
	m, _ := get(v, path...).(map[string]any)
	return m
}

func decodeObjects(t *testing.T, rendered []byte) []obj {
	t.Helper()
	var objs []obj
	dec := yaml.NewDecoder(bytes.NewReader(rendered))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered manifests: %v", err)
		}
		if o != nil {
			objs = append(objs, obj(o))
		}
	}
	return objs
}

// fleetPodTemplates turns each Fleet's pod template into a core
// PodTemplate, which kubectl-validate checks against Kubernetes' schema
// (the Agones CRD subset leaves the pod template open).
func fleetPodTemplates(t *testing.T, objs []obj) []byte {
	t.Helper()
	var docs [][]byte
	for _, o := range objs {
		if o.kind() != "Fleet" {
			continue
		}
		b, err := yaml.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "PodTemplate",
			"metadata": map[string]any{"name": o.name()},
			"template": get(o, "spec", "template", "spec", "template"),
		})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	if len(docs) == 0 {
		t.Fatal("no Fleet")
	}
	return bytes.Join(docs, []byte("---\n"))
}

// podSpec is the pod spec of a workload: a Deployment's or
// StatefulSet's, or a Fleet's GameServer template's.
func podSpec(o obj) any {
	if o.kind() == "Fleet" {
		return get(o, "spec", "template", "spec", "template", "spec")
	}
	return get(o, "spec", "template", "spec")
}

func podLabels(o obj) map[string]any {
	if o.kind() == "Fleet" {
		return dict(o, "spec", "template", "spec", "template", "metadata", "labels")
	}
	return dict(o, "spec", "template", "metadata", "labels")
}

// env is a container's environment: its env values and its ConfigMaps'.
func env(c any, configMaps map[string]obj) map[string]string {
	out := map[string]string{}
	for _, ef := range list(c, "envFrom") {
		if cm, ok := configMaps[str(ef, "configMapRef", "name")]; ok {
			for k, v := range dict(cm, "data") {
				out[k], _ = v.(string)
			}
		}
	}
	for _, e := range list(c, "env") {
		out[str(e, "name")] = str(e, "value")
	}
	return out
}

func checkManifests(t *testing.T, objs []obj, overlay string) {
	byKind := map[string]map[string]obj{}
	for _, o := range objs {
		if byKind[o.kind()] == nil {
			byKind[o.kind()] = map[string]obj{}
		}
		byKind[o.kind()][o.name()] = o
	}
	configMaps := byKind["ConfigMap"]
	workloads := map[string]string{
		"skirmish-matchmaker":   "Deployment",
		"skirmish-leaderboard":  "Deployment",
		"skirmish-stats-worker": "Deployment",
		"skirmish-gameserver":   "Fleet",
	}
	for name, kind := range workloads {
		w, ok := byKind[kind][name]
		if !ok {
			t.Errorf("no %s %s", kind, name)
			continue
		}
		containers := list(podSpec(w), "containers")
		if len(containers) == 0 {
			t.Errorf("%s: no containers", name)
		}
		for _, c := range containers {
			cname := str(c, "name")
			switch {
			case kind == "Fleet" && get(c, "livenessProbe") != nil:
				t.Errorf("%s/%s: a livenessProbe replaces the one Agones sets to its health check (/gshealthz): remove it", name, cname)
			case kind != "Fleet" && str(c, "livenessProbe", "httpGet", "path") != "/healthz":
				t.Errorf("%s/%s: want a liveness probe on /healthz", name, cname)
			}
			if str(c, "readinessProbe", "httpGet", "path") != "/readyz" {
				t.Errorf("%s/%s: want a readiness probe on /readyz", name, cname)
			}
			if str(c, "resources", "requests", "cpu") == "" || str(c, "resources", "requests", "memory") == "" || str(c, "resources", "limits", "memory") == "" {
				t.Errorf("%s/%s: want cpu and memory requests and a memory limit, got %v", name, cname, get(c, "resources"))
			}
			checkContainerEnv(t, name, c, configMaps)
		}
		// Agones protects GameServers itself (Allocated ones are never
		// scaled down; eviction.safe says what may evict them).
		if _, ok := byKind["PodDisruptionBudget"][name]; !ok && kind != "Fleet" {
			t.Errorf("%s: no PodDisruptionBudget", name)
		}
		svc, ok := byKind["Service"][name]
		if !ok {
			t.Errorf("%s: no Service", name)
			continue
		}
		sm, ok := byKind["ServiceMonitor"][name]
		if !ok {
			t.Errorf("%s: no ServiceMonitor", name)
			continue
		}
		for k, v := range dict(sm, "spec", "selector", "matchLabels") {
			if dict(svc, "metadata", "labels")[k] != v {
				t.Errorf("ServiceMonitor %s selects %s=%s, which Service %s lacks", name, k, v, name)
			}
		}
		if str(sm, "spec", "endpoints", "0", "path") != "/metrics" || str(sm, "spec", "endpoints", "0", "port") != "internal" {
			t.Errorf("ServiceMonitor %s endpoints = %v, want port internal path /metrics", name, get(sm, "spec", "endpoints"))
		}
		// The internal listener is on a port named internal, bound to all
		// addresses in the pod (the NetworkPolicies guard it).
		internal := 0
		for _, c := range containers {
			for _, p := range list(c, "ports") {
				if str(p, "name") == "internal" {
					internal = num(p, "containerPort")
				}
			}
		}
		if internal == 0 {
			t.Errorf("%s: no container port named internal (metrics and control APIs)", name)
		}
	}
	checkFleet(t, byKind)
	checkScaleOut(t, byKind, configMaps, overlay)
	checkNetworkPolicies(t, objs, byKind)
	checkInternalWiring(t, objs, byKind)
}

// checkFleet: dynamic TCP and UDP ports that the container listens on,
// health checked, counters declared, a grace period longer than the drain
// plus the outbox flush, and a FleetAutoscaler for it.
func checkFleet(t *testing.T, byKind map[string]map[string]obj) {
	fleet, ok := byKind["Fleet"]["skirmish-gameserver"]
	if !ok {
		return
	}
	gs := get(fleet, "spec", "template", "spec")
	container := get(podSpec(fleet), "containers", "0")
	e := env(container, byKind["ConfigMap"])
	wantPorts := map[string]struct {
		proto, addr string
	}{"ws": {"TCP", e["SKIRMISH_ADDR"]}, "wt": {"UDP", e["SKIRMISH_WEBTRANSPORT_ADDR"]}}
	for _, p := range list(gs, "ports") {
		name := str(p, "name")
		want, ok := wantPorts[name]
		if !ok {
			continue
		}
		delete(wantPorts, name)
		if str(p, "portPolicy") != "Dynamic" || str(p, "protocol") != want.proto {
			t.Errorf("Fleet port %s = %v, want Dynamic %s", name, p, want.proto)
		}
		if !strings.HasSuffix(want.addr, ":"+strconv.Itoa(num(p, "containerPort"))) {
			t.Errorf("Fleet port %s: containerPort %d, but the gameserver listens on %q", name, num(p, "containerPort"), want.addr)
		}
	}
	if len(wantPorts) > 0 {
		t.Errorf("Fleet: no port %v (the names the gameserver looks up)", wantPorts)
	}
	if e["SKIRMISH_AGONES"] != "on" {
		t.Errorf("Fleet: SKIRMISH_AGONES = %q, want on", e["SKIRMISH_AGONES"])
	}
	// The driver pings every 2 s: the period must leave room for it.
	if get(gs, "health", "disabled") == true || num(gs, "health", "periodSeconds") < 4 || num(gs, "health", "failureThreshold") < 2 {
		t.Errorf("Fleet health = %v, want enabled, periodSeconds >= 4 (pings every 2 s), failureThreshold >= 2", get(gs, "health"))
	}
	for _, name := range []string{"rooms", "players"} {
		if dict(gs, "counters", name) == nil {
			t.Errorf("Fleet: no counter %q (the gameserver keeps its counts there)", name)
		}
	}
	// The autoscaler counts seats by the players counter's capacity, which
	// the gameserver sets to its --capacity at start: the Fleet's must agree.
	if c := strconv.Itoa(num(gs, "counters", "players", "capacity")); c != e["SKIRMISH_CAPACITY"] {
		t.Errorf("Fleet: players counter capacity %s, SKIRMISH_CAPACITY %q: want them equal", c, e["SKIRMISH_CAPACITY"])
	}
	drain, err := time.ParseDuration(e["SKIRMISH_DRAIN_TIMEOUT"])
	if err != nil {
		t.Errorf("Fleet: SKIRMISH_DRAIN_TIMEOUT %q: %v", e["SKIRMISH_DRAIN_TIMEOUT"], err)
	}
	// Drain, then 10 s for outcomes to reach the outbox, 60 s to publish
	// it, 10 s for Shutdown (gameserver/agones defaults).
	need := drain + 80*time.Second
	grace := time.Duration(num(podSpec(fleet), "terminationGracePeriodSeconds")) * time.Second
	if grace <= need {
		t.Errorf("Fleet: terminationGracePeriodSeconds %v, want more than the drain %v + 80 s", grace, drain)
	}
	fas, ok := byKind["FleetAutoscaler"]["skirmish-gameserver"]
	if !ok || str(fas, "spec", "fleetName") != "skirmish-gameserver" {
		t.Errorf("no FleetAutoscaler for the Fleet")
	}
}

// checkScaleOut: several matchmaker replicas on the Redis store, rolled
// without downtime; leaderboards on the Redis index; stats workers scaled
// by KEDA on the SQS queue.
func checkScaleOut(t *testing.T, byKind map[string]map[string]obj, configMaps map[string]obj, overlay string) {
	mm := byKind["Deployment"]["skirmish-matchmaker"]
	if n := num(mm, "spec", "replicas"); n < 2 {
		t.Errorf("matchmaker replicas = %d, want several", n)
	}
	if str(mm, "spec", "strategy", "type") == "Recreate" {
		t.Error("matchmaker strategy Recreate: replicas share Redis, roll them")
	}
	me := env(get(podSpec(mm), "containers", "0"), configMaps)
	if me["SKIRMISH_MATCHMAKER_STORE"] != "redis" || me["SKIRMISH_REDIS_ADDR"] == "" {
		t.Errorf("matchmaker store %q at %q, want redis", me["SKIRMISH_MATCHMAKER_STORE"], me["SKIRMISH_REDIS_ADDR"])
	}
	lb := byKind["Deployment"]["skirmish-leaderboard"]
	le := env(get(podSpec(lb), "containers", "0"), configMaps)
	if le["SKIRMISH_RANK_INDEX"] != "redis" || le["SKIRMISH_REDIS_ADDR"] == "" {
		t.Errorf("leaderboard rank index %q at %q, want redis", le["SKIRMISH_RANK_INDEX"], le["SKIRMISH_REDIS_ADDR"])
	}
	if _, ok := byKind["Service"][strings.Split(me["SKIRMISH_REDIS_ADDR"], ":")[0]]; !ok {
		t.Errorf("no Service for the Redis address %q", me["SKIRMISH_REDIS_ADDR"])
	}
	so, ok := byKind["ScaledObject"]["skirmish-stats-worker"]
	if !ok {
		t.Error("no ScaledObject for the stats workers")
		return
	}
	if str(so, "spec", "scaleTargetRef", "name") != "skirmish-stats-worker" || str(so, "spec", "triggers", "0", "type") != "aws-sqs-queue" {
		t.Errorf("ScaledObject = %v, want the stats-worker Deployment on an aws-sqs-queue trigger", get(so, "spec"))
	}
	if ref := str(so, "spec", "triggers", "0", "authenticationRef", "name"); byKind["TriggerAuthentication"][ref] == nil {
		t.Errorf("ScaledObject authenticationRef %q: no such TriggerAuthentication", ref)
	}
	if overlay == "dev" && !strings.Contains(str(so, "spec", "triggers", "0", "metadata", "awsEndpoint"), "localstack") {
		t.Error("dev ScaledObject: want awsEndpoint on LocalStack")
	}
}

// checkNetworkPolicies: ingress is denied by default, and every internal
// port (named internal, and Redis) is reachable only from the peers a
// policy names: no rule that admits it from anywhere.
func checkNetworkPolicies(t *testing.T, objs []obj, byKind map[string]map[string]obj) {
	var policies []obj
	deny := false
	for _, np := range byKind["NetworkPolicy"] {
		policies = append(policies, np)
		if len(dict(np, "spec", "podSelector")) == 0 && len(list(np, "spec", "ingress")) == 0 {
			deny = true
		}
	}
	if !deny {
		t.Error("no default-deny ingress NetworkPolicy")
	}
	selects := func(np obj, labels map[string]any) bool {
		for k, v := range dict(np, "spec", "podSelector", "matchLabels") {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	for _, o := range objs {
		switch o.kind() {
		case "Deployment", "StatefulSet", "Fleet":
		default:
			continue
		}
		labels := podLabels(o)
		for _, c := range list(podSpec(o), "containers") {
			for _, p := range list(c, "ports") {
				port := num(p, "containerPort")
				internal := str(p, "name") == "internal" || port == 6379 || port == 5432
				if !internal {
					continue
				}
				admitted := false
				for _, np := range policies {
					if !selects(np, labels) {
						continue
					}
					for _, rule := range list(np, "spec", "ingress") {
						covers := len(list(rule, "ports")) == 0
						for _, rp := range list(rule, "ports") {
							covers = covers || num(rp, "port") == port
						}
						if !covers {
							continue
						}
						if len(list(rule, "from")) == 0 {
							t.Errorf("NetworkPolicy %s admits %s's internal port %d from anywhere", np.name(), o.name(), port)
						}
						admitted = true
					}
				}
				if !admitted {
					t.Errorf("%s: internal port %d is admitted by no NetworkPolicy (Prometheus or its clients cannot reach it)", o.name(), port)
				}
			}
		}
	}
}

// checkContainerEnv fails for SKIRMISH_* variables (set directly or
// through a ConfigMap) that are no flag of the container's command.
func checkContainerEnv(t *testing.T, workload string, c any, configMaps map[string]obj) {
	t.Helper()
	var args []string
	for _, a := range list(c, "args") {
		s, _ := a.(string)
		args = append(args, s)
	}
	if len(args) == 0 {
		t.Errorf("%s/%s: no args (the skirmish command)", workload, str(c, "name"))
		return
	}
	flags := commandFlags(t, args...)
	for n := range env(c, configMaps) {
		if strings.HasPrefix(n, "SKIRMISH_") && !flags[n] {
			t.Errorf("%s/%s: %s is no flag of skirmish %s", workload, str(c, "name"), n, strings.Join(args, " "))
		}
	}
}
