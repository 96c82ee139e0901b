package ops

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image  string `yaml:"image"`
	Deploy struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
	Build       *struct{ Context, Dockerfile string }
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	decodeYAMLFile(t, "compose/compose.yaml", &c) // yaml/v3 resolves the anchors and merge keys
	return c
}

// TestCompose checks the compose file's structure, since no Docker engine
// runs here: every part, PostgreSQL, LocalStack, Prometheus and Grafana;
// the ports; SKIRMISH_* variables that are real flags of each command;
// mounted files that exist.
func TestCompose(t *testing.T) {
	c := loadCompose(t)
	parts := map[string]struct {
		command string
		port    string
	}{
		"gameserver":   {"gameserver", "7800:7800/tcp"},
		"matchmaker":   {"matchmaker", "7810-7812:7810"},
		"leaderboard":  {"leaderboard", "7820-7821:7820"},
		"stats-worker": {"stats-worker", "127.0.0.1:7830:7830"},
		"queues-setup": {"queues", ""},
	}
	for name, want := range parts {
		t.Run(name, func(t *testing.T) {
			s, ok := c.Services[name]
			if !ok {
				t.Fatalf("no service %s", name)
			}
			if s.Build == nil || s.Build.Context != "../.." || s.Build.Dockerfile != "Dockerfile" {
				t.Errorf("build = %+v, want the repository's Dockerfile", s.Build)
			}
			if _, err := os.Stat(filepath.Join("compose", s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("Dockerfile: %v", err)
			}
			if len(s.Command) == 0 || s.Command[0] != want.command {
				t.Fatalf("command = %v, want skirmish %s", s.Command, want.command)
			}
			if want.port != "" && !slices.Contains(s.Ports, want.port) {
				t.Errorf("ports = %v, want %s", s.Ports, want.port)
			}
			flags := commandFlags(t, s.Command...)
			for k := range s.Environment {
				if strings.HasPrefix(k, "SKIRMISH_") && !flags[k] {
					t.Errorf("environment sets %s, which is no flag of skirmish %s", k, strings.Join(s.Command, " "))
				}
			}
			if strings.Contains(s.Environment["SKIRMISH_QUEUE"], "sqs") && s.Environment["SKIRMISH_SQS_ENDPOINT"] != "http://localstack:4566" {
				t.Errorf("SKIRMISH_SQS_ENDPOINT = %q, want LocalStack", s.Environment["SKIRMISH_SQS_ENDPOINT"])
			}
		})
	}
	// Several matchmakers on the Redis store, leaderboards on the Redis
	// index (issue 13).
	mm, lb := c.Services["matchmaker"], c.Services["leaderboard"]
	if mm.Deploy.Replicas < 2 || mm.Environment["SKIRMISH_MATCHMAKER_STORE"] != "redis" || mm.Environment["SKIRMISH_REDIS_ADDR"] != "redis:6379" {
		t.Errorf("matchmaker: %d replicas, store %q at %q; want several on redis:6379", mm.Deploy.Replicas, mm.Environment["SKIRMISH_MATCHMAKER_STORE"], mm.Environment["SKIRMISH_REDIS_ADDR"])
	}
	if lb.Deploy.Replicas < 2 || lb.Environment["SKIRMISH_RANK_INDEX"] != "redis" || lb.Environment["SKIRMISH_REDIS_ADDR"] != "redis:6379" {
		t.Errorf("leaderboard: %d replicas, rank index %q at %q; want several on redis:6379", lb.Deploy.Replicas, lb.Environment["SKIRMISH_RANK_INDEX"], lb.Environment["SKIRMISH_REDIS_ADDR"])
	}
	for _, name := range []string{"matchmaker", "leaderboard"} {
		if c.Services[name].DependsOn["redis"].Condition != "service_healthy" {
			t.Errorf("%s: want it to wait for a healthy redis", name)
		}
	}
	for _, name := range []string{"postgres", "localstack", "redis", "prometheus", "grafana"} {
		if s, ok := c.Services[name]; !ok || s.Image == "" {
			t.Errorf("service %s: want it with an image", name)
		}
	}
	if got := c.Services["gameserver"].DependsOn["queues-setup"].Condition; got != "service_completed_successfully" {
		t.Errorf("gameserver waits for queues-setup with %q, want service_completed_successfully", got)
	}
	if !slices.Contains(c.Services["gameserver"].Ports, "7801:7801/udp") {
		t.Errorf("gameserver ports %v: want 7801:7801/udp (WebTransport)", c.Services["gameserver"].Ports)
	}
	// Mounted config exists, and Prometheus loads the compose scrape config.
	for _, name := range []string{"prometheus", "grafana"} {
		for _, v := range c.Services[name].Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which is not declared", name, src)
			}
		}
	}
	if !slices.Contains(c.Services["prometheus"].Command, "--config.file=/etc/prometheus/compose.yml") {
		t.Errorf("prometheus command %v: want --config.file=/etc/prometheus/compose.yml", c.Services["prometheus"].Command)
	}
}
