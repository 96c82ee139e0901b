package ops

import (
	"bufio"
	"bytes"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The internal listeners carry /metrics, pprof and the internal gRPC
// services: gameservers register with the matchmaker's
// (GameserverRegistryService) and the matchmaker dials the gameserver's
// (RoomService). These tests check that compose, Kubernetes and the
// Prometheus configs use the ports the code defaults to, and wire the
// parts to each other's internal listeners.

var defaultInHelp = regexp.MustCompile(`\(default "([^"]*)"\)\s*$`)

// flagDefault returns the default of --name in `skirmish <args> -h`.
func flagDefault(t *testing.T, name string, args ...string) string {
	t.Helper()
	bin, err := skirmishBin()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, append(args, "-h")...).CombinedOutput() // -h exits non-zero
	sc := bufio.NewScanner(bytes.NewReader(out))
	found := false
	for sc.Scan() {
		line := sc.Text()
		if m := flagLine.FindStringSubmatch(line); m != nil {
			found = m[1] == name
			continue
		}
		if found {
			if m := defaultInHelp.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("skirmish %s -h: no default for --%s:\n%s", strings.Join(args, " "), name, out)
	return ""
}

// port is the port of a host:port address ("" when it is none).
func port(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return p
}

// internalPorts are the code's default internal ports, by part: the
// convention every deployment keeps.
func internalPorts(t *testing.T) map[string]string {
	return map[string]string{
		"gameserver":   port(flagDefault(t, "internal-addr", "gameserver")),
		"matchmaker":   port(flagDefault(t, "internal-addr", "matchmaker")),
		"leaderboard":  port(flagDefault(t, "internal-addr", "leaderboard")),
		"stats-worker": port(flagDefault(t, "addr", "stats-worker")), // its only listener
	}
}

type scrapeConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `yaml:"names"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

// scrapeTargets returns each job's targets as host:port.
func scrapeTargets(t *testing.T, file string) map[string][]string {
	var cfg scrapeConfig
	decodeYAMLFile(t, file, &cfg)
	out := map[string][]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			out[sc.JobName] = append(out[sc.JobName], s.Targets...)
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				out[sc.JobName] = append(out[sc.JobName], net.JoinHostPort(n, strconv.Itoa(d.Port)))
			}
		}
	}
	return out
}

// TestPrometheusDevTargets: prometheus.yml scrapes `skirmish dev` at the
// default internal listeners of its parts, and a lone stats worker at its
// default --addr.
func TestPrometheusDevTargets(t *testing.T) {
	want := map[string]string{
		"skirmish-gameserver":   flagDefault(t, "gameserver-internal-addr", "dev"),
		"skirmish-matchmaker":   flagDefault(t, "matchmaker-internal-addr", "dev"),
		"skirmish-leaderboard":  flagDefault(t, "leaderboard-internal-addr", "dev"),
		"skirmish-stats-worker": flagDefault(t, "addr", "stats-worker"),
	}
	got := scrapeTargets(t, "prometheus/prometheus.yml")
	for job, addr := range want {
		if len(got[job]) != 1 || got[job][0] != addr {
			t.Errorf("prometheus.yml job %s targets %v, want [%s]", job, got[job], addr)
		}
	}
}

// TestComposeWiring: every part's internal listener on the code's default
// port and never published beyond loopback; the gameserver registers with
// the matchmakers' internal listener and advertises its own as the
// control address; the stats worker writes through to the leaderboards'
// rank index; Prometheus scrapes the internal listeners.
func TestComposeWiring(t *testing.T) {
	c := loadCompose(t)
	ports := internalPorts(t)
	envs := map[string]map[string]string{}
	for part, want := range ports {
		e := c.Services[part].Environment
		envs[part] = e
		key := "SKIRMISH_INTERNAL_ADDR"
		if part == "stats-worker" {
			key = "SKIRMISH_ADDR"
		}
		if port(e[key]) != want {
			t.Errorf("%s: %s = %q, want port %s (the code's default)", part, key, e[key], want)
		}
		for _, p := range c.Services[part].Ports {
			f := strings.Split(strings.Split(p, "/")[0], ":")
			if f[len(f)-1] == want && !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes its internal port: %s", part, p)
			}
		}
	}
	gs := envs["gameserver"]
	if want := "matchmaker:" + ports["matchmaker"]; gs["SKIRMISH_MATCHMAKER"] != want {
		t.Errorf("gameserver SKIRMISH_MATCHMAKER = %q, want %s (the matchmakers' internal listener)", gs["SKIRMISH_MATCHMAKER"], want)
	}
	if want := "gameserver:" + ports["gameserver"]; gs["SKIRMISH_CONTROL_ADDRESS"] != want {
		t.Errorf("gameserver SKIRMISH_CONTROL_ADDRESS = %q, want %s (its internal listener)", gs["SKIRMISH_CONTROL_ADDRESS"], want)
	}
	sw, lb := envs["stats-worker"], envs["leaderboard"]
	if sw["SKIRMISH_RANK_INDEX"] != "redis" || sw["SKIRMISH_REDIS_ADDR"] != lb["SKIRMISH_REDIS_ADDR"] {
		t.Errorf("stats-worker rank index %q at %q, want redis at the leaderboards' %q", sw["SKIRMISH_RANK_INDEX"], sw["SKIRMISH_REDIS_ADDR"], lb["SKIRMISH_REDIS_ADDR"])
	}
	if c.Services["stats-worker"].DependsOn["redis"].Condition != "service_healthy" {
		t.Error("stats-worker: want it to wait for a healthy redis")
	}
	targets := scrapeTargets(t, "prometheus/compose.yml")
	for part, want := range ports {
		job := "skirmish-" + part
		if got := targets[job]; len(got) != 1 || got[0] != part+":"+want {
			t.Errorf("compose.yml job %s targets %v, want [%s:%s]", job, got, part, want)
		}
	}
}

// checkInternalWiring: every part's port named internal is the one it
// listens on and the code's default, and its Service exposes it on the
// same port; the gameservers register with the matchmakers' Service at
// its internal port and advertise their pod IP and internal port as the
// control address; the NetworkPolicies let the matchmakers reach the
// gameservers' internal port and the gameservers the matchmakers'; the
// stats workers write through to the leaderboards' Redis rank index.
func checkInternalWiring(t *testing.T, objs []obj, byKind map[string]map[string]obj) {
	ports := internalPorts(t)
	workloads := map[string]obj{
		"gameserver":   byKind["Fleet"]["skirmish-gameserver"],
		"matchmaker":   byKind["Deployment"]["skirmish-matchmaker"],
		"leaderboard":  byKind["Deployment"]["skirmish-leaderboard"],
		"stats-worker": byKind["Deployment"]["skirmish-stats-worker"],
	}
	envs := map[string]map[string]string{}
	for part, w := range workloads {
		c := get(podSpec(w), "containers", "0")
		e := env(c, byKind["ConfigMap"])
		envs[part] = e
		key := "SKIRMISH_INTERNAL_ADDR"
		if part == "stats-worker" {
			key = "SKIRMISH_ADDR"
		}
		internal := ""
		for _, p := range list(c, "ports") {
			if str(p, "name") == "internal" {
				internal = strconv.Itoa(num(p, "containerPort"))
			}
		}
		if internal != ports[part] || port(e[key]) != internal {
			t.Errorf("%s: container port internal %s, %s %q; want both on port %s (the code's default)", part, internal, key, e[key], ports[part])
		}
		for _, sp := range list(byKind["Service"]["skirmish-"+part], "spec", "ports") {
			if str(sp, "name") == "internal" && strconv.Itoa(num(sp, "port")) != internal {
				t.Errorf("Service skirmish-%s: internal port %d, want %s like the container", part, num(sp, "port"), internal)
			}
		}
	}
	gs := envs["gameserver"]
	if want := "skirmish-matchmaker:" + ports["matchmaker"]; gs["SKIRMISH_MATCHMAKER"] != want {
		t.Errorf("gameserver SKIRMISH_MATCHMAKER = %q, want %s (the matchmakers' internal listener)", gs["SKIRMISH_MATCHMAKER"], want)
	}
	if want := "$(POD_IP):" + ports["gameserver"]; gs["SKIRMISH_CONTROL_ADDRESS"] != want {
		t.Errorf("gameserver SKIRMISH_CONTROL_ADDRESS = %q, want %s (its internal listener)", gs["SKIRMISH_CONTROL_ADDRESS"], want)
	}
	podIP := false
	for _, e := range list(get(podSpec(workloads["gameserver"]), "containers", "0"), "env") {
		podIP = podIP || str(e, "name") == "POD_IP" && str(e, "valueFrom", "fieldRef", "fieldPath") == "status.podIP"
	}
	if !podIP {
		t.Error("gameserver: no POD_IP from status.podIP for SKIRMISH_CONTROL_ADDRESS")
	}
	sw, lb := envs["stats-worker"], envs["leaderboard"]
	if sw["SKIRMISH_RANK_INDEX"] != "redis" || sw["SKIRMISH_REDIS_ADDR"] != lb["SKIRMISH_REDIS_ADDR"] {
		t.Errorf("stats-worker rank index %q at %q, want redis at the leaderboards' %q", sw["SKIRMISH_RANK_INDEX"], sw["SKIRMISH_REDIS_ADDR"], lb["SKIRMISH_REDIS_ADDR"])
	}
	for _, c := range []struct{ to, from string }{{"gameserver", "matchmaker"}, {"matchmaker", "gameserver"}} {
		if !admits(byKind["NetworkPolicy"], podLabels(workloads[c.to]), ports[c.to], podLabels(workloads[c.from])) {
			t.Errorf("no NetworkPolicy admits the %s pods to the %s's internal port %s", c.from, c.to, ports[c.to])
		}
	}
}

// admits reports whether a policy selecting pods labelled to has a rule
// that admits pods labelled from, in the same namespace, to port.
func admits(policies map[string]obj, to map[string]any, port string, from map[string]any) bool {
	matches := func(sel map[string]any, labels map[string]any) bool {
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	for _, np := range policies {
		if !matches(dict(np, "spec", "podSelector", "matchLabels"), to) {
			continue
		}
		for _, rule := range list(np, "spec", "ingress") {
			covers := len(list(rule, "ports")) == 0
			for _, rp := range list(rule, "ports") {
				covers = covers || strconv.Itoa(num(rp, "port")) == port
			}
			if !covers {
				continue
			}
			for _, peer := range list(rule, "from") {
				if get(peer, "namespaceSelector") == nil && get(peer, "podSelector") != nil && matches(dict(peer, "podSelector", "matchLabels"), from) {
					return true
				}
			}
		}
	}
	return false
}
