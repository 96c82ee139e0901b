package ops

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
// kubectl-validate against Kubernetes 1.30 (and the ServiceMonitor CRD in
// k8s/crds), and checks what operators rely on: probes, resources,
// PodDisruptionBudgets, ServiceMonitors, and SKIRMISH_* variables that are
// real flags.
func TestKubernetes(t *testing.T) {
	validate := tool(t, "kubectl-validate", "go install sigs.k8s.io/kubectl-validate@v0.0.4")
	overlays, _ := filepath.Glob("k8s/overlays/*")
	if len(overlays) < 2 {
		t.Fatalf("overlays = %v, want dev and prod", overlays)
	}
	for _, dir := range overlays {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := kustomizeBuild(t, dir)
			file := filepath.Join(t.TempDir(), "rendered.yaml")
			if err := os.WriteFile(file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, ".", validate, "--version", "1.30", "--local-crds", "k8s/crds", file)
			checkManifests(t, out)
		})
	}
}

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}

type container struct {
	Name    string   `yaml:"name"`
	Args    []string `yaml:"args"`
	Env     []struct{ Name string }
	EnvFrom []struct {
		ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string
		ContainerPort int `yaml:"containerPort"`
		Protocol      string
	}
	LivenessProbe *struct {
		HTTPGet *struct{ Path string } `yaml:"httpGet"`
	} `yaml:"livenessProbe"`
	ReadinessProbe *struct {
		HTTPGet *struct{ Path string } `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

func checkManifests(t *testing.T, rendered []byte) {
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(rendered))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered manifests: %v", err)
		}
		objs = append(objs, o)
	}
	byKind := map[string]map[string]object{}
	configMaps := map[string]object{}
	for _, o := range objs {
		if byKind[o.Kind] == nil {
			byKind[o.Kind] = map[string]object{}
		}
		byKind[o.Kind][o.Metadata.Name] = o
		if o.Kind == "ConfigMap" {
			configMaps[o.Metadata.Name] = o
		}
	}
	workloads := map[string]string{
		"skirmish-matchmaker":   "Deployment",
		"skirmish-leaderboard":  "Deployment",
		"skirmish-stats-worker": "Deployment",
		"skirmish-gameserver":   "StatefulSet",
	}
	for name, kind := range workloads {
		w, ok := byKind[kind][name]
		if !ok {
			t.Errorf("no %s %s", kind, name)
			continue
		}
		for _, c := range w.Spec.Template.Spec.Containers {
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("%s/%s: want a liveness probe on /healthz", name, c.Name)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("%s/%s: want a readiness probe on /readyz", name, c.Name)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("%s/%s: want cpu and memory requests and a memory limit, got %+v", name, c.Name, c.Resources)
			}
			checkContainerEnv(t, name, c, configMaps)
		}
		if _, ok := byKind["PodDisruptionBudget"][name]; !ok {
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
		for k, v := range sm.Spec.Selector.MatchLabels {
			if svc.Metadata.Labels[k] != v {
				t.Errorf("ServiceMonitor %s selects %s=%s, which Service %s lacks", name, k, v, name)
			}
		}
		if len(sm.Spec.Endpoints) == 0 || sm.Spec.Endpoints[0].Path != "/metrics" || sm.Spec.Endpoints[0].Port != "http" {
			t.Errorf("ServiceMonitor %s endpoints = %+v, want port http path /metrics", name, sm.Spec.Endpoints)
		}
	}
	gs := byKind["StatefulSet"]["skirmish-gameserver"]
	udp := false
	for _, c := range gs.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			udp = udp || p.ContainerPort == 7801 && p.Protocol == "UDP"
		}
	}
	if !udp {
		t.Error("gameserver: want UDP port 7801 for WebTransport")
	}
}

// checkContainerEnv fails for SKIRMISH_* variables (set directly or
// through a ConfigMap) that are no flag of the container's command.
func checkContainerEnv(t *testing.T, workload string, c container, configMaps map[string]object) {
	t.Helper()
	if len(c.Args) == 0 {
		t.Errorf("%s/%s: no args (the skirmish command)", workload, c.Name)
		return
	}
	flags := commandFlags(t, c.Args...)
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		cm, ok := configMaps[ef.ConfigMapRef.Name]
		if !ok {
			t.Errorf("%s/%s: envFrom ConfigMap %s does not exist", workload, c.Name, ef.ConfigMapRef.Name)
		}
		for k := range cm.Data {
			names = append(names, k)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "SKIRMISH_") && !flags[n] {
			t.Errorf("%s/%s: %s is no flag of skirmish %s", workload, c.Name, n, strings.Join(c.Args, " "))
		}
	}
}
