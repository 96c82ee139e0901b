package ops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const promtoolInstall = "Debian package prometheus"

// TestPrometheusConfigs checks every scrape config with promtool, which
// also checks the rule files they load.
func TestPrometheusConfigs(t *testing.T) {
	promtool := tool(t, "promtool", promtoolInstall)
	for _, file := range []string{"prometheus.yml", "compose.yml", "kubernetes.yml"} {
		t.Run(file, func(t *testing.T) {
			out, err := runOut("prometheus", promtool, "check", "config", file)
			if err != nil && file == "kubernetes.yml" && strings.Contains(out, "kubernetes_sd_configs not found") {
				// Debian builds Prometheus without Kubernetes discovery;
				// check the structure instead.
				t.Logf("this promtool has no Kubernetes discovery; checking %s structurally", file)
				checkKubernetesScrapeConfig(t, filepath.Join("prometheus", file))
				return
			}
			if err != nil {
				t.Fatalf("promtool check config %s: %v\n%s", file, err, out)
			}
		})
	}
}

func checkKubernetesScrapeConfig(t *testing.T, path string) {
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName        string                  `yaml:"job_name"`
			KubernetesSD   []struct{ Role string } `yaml:"kubernetes_sd_configs"`
			RelabelConfigs []struct {
				SourceLabels []string `yaml:"source_labels"`
				TargetLabel  string   `yaml:"target_label"`
				Action       string   `yaml:"action"`
			} `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	decodeYAMLFile(t, path, &cfg)
	if len(cfg.ScrapeConfigs) == 0 || len(cfg.RuleFiles) == 0 {
		t.Fatalf("%s: want scrape configs and rule files, got %+v", path, cfg)
	}
	for _, sc := range cfg.ScrapeConfigs {
		if len(sc.KubernetesSD) == 0 || sc.KubernetesSD[0].Role != "pod" {
			t.Errorf("%s: job %s: want kubernetes_sd_configs with role pod", path, sc.JobName)
		}
		setsJob := false
		for _, rc := range sc.RelabelConfigs {
			setsJob = setsJob || rc.TargetLabel == "job"
		}
		if !setsJob {
			t.Errorf("%s: job %s does not set the job label the rules expect", path, sc.JobName)
		}
	}
}

// TestPrometheusRules checks the rule files and runs their promtool unit
// tests (prometheus/*_test.yml).
func TestPrometheusRules(t *testing.T) {
	promtool := tool(t, "promtool", promtoolInstall)
	rules, _ := filepath.Glob("prometheus/rules/*.yml")
	if len(rules) == 0 {
		t.Fatal("no rule files in prometheus/rules")
	}
	var rel []string
	for _, r := range rules {
		rel = append(rel, strings.TrimPrefix(r, "prometheus/"))
	}
	if out, err := runOut("prometheus", promtool, append([]string{"check", "rules"}, rel...)...); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	tests, _ := filepath.Glob("prometheus/*_test.yml")
	if len(tests) == 0 {
		t.Fatal("no promtool unit tests (prometheus/*_test.yml)")
	}
	for _, file := range tests {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if out, err := runOut("prometheus", promtool, "test", "rules", filepath.Base(file)); err != nil {
				t.Fatalf("promtool test rules %s: %v\n%s", file, err, out)
			}
		})
	}
}

// TestAlertsCovered checks that the alerts operators were promised exist
// and that each has a promtool unit test.
func TestAlertsCovered(t *testing.T) {
	alerts := map[string]bool{}
	for _, g := range loadRuleGroups(t) {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts[r.Alert] = true
				if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
					t.Errorf("alert %s: want a severity label and a summary annotation", r.Alert)
				}
			}
		}
	}
	tested := map[string]bool{}
	files, _ := filepath.Glob("prometheus/*_test.yml")
	for _, f := range files {
		var ut struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `yaml:"alertname"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		decodeYAMLFile(t, f, &ut)
		for _, tc := range ut.Tests {
			for _, a := range tc.AlertRuleTest {
				tested[a.Alertname] = true
			}
		}
	}
	for _, want := range []string{
		"SkirmishTickOverruns", "SkirmishMatchmakingWaitTooLong", "SkirmishOutboxGrowing",
		"SkirmishDeadLetters", "SkirmishGameserverDown",
	} {
		if !alerts[want] {
			t.Errorf("no alert %s in prometheus/rules", want)
		}
	}
	for a := range alerts {
		if !tested[a] {
			t.Errorf("alert %s has no promtool unit test in prometheus/*_test.yml", a)
		}
	}
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []struct {
		Record      string            `yaml:"record"`
		Alert       string            `yaml:"alert"`
		Expr        string            `yaml:"expr"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"rules"`
}

func loadRuleGroups(t *testing.T) []ruleGroup {
	t.Helper()
	files, _ := filepath.Glob("prometheus/rules/*.yml")
	var all []ruleGroup
	for _, f := range files {
		var rf struct {
			Groups []ruleGroup `yaml:"groups"`
		}
		decodeYAMLFile(t, f, &rf)
		all = append(all, rf.Groups...)
	}
	return all
}

func decodeYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
