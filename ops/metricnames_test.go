package ops

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// parts are the <part> of skirmish_<part>_<what>_<unit>.
var parts = []string{"gameserver", "matchmaker", "leaderboard", "stats"}

// grpcServerMetrics are the names go-grpc-middleware's Prometheus provider
// gives its server metrics after the namespace and subsystem.
var grpcServerMetrics = []string{
	"grpc_server_started_total", "grpc_server_handled_total", "grpc_server_msg_received_total",
	"grpc_server_msg_sent_total", "grpc_server_handling_seconds",
}

var (
	stringLit   = regexp.MustCompile(`"([a-zA-Z0-9_:]+)"`)
	subsystemRe = regexp.MustCompile(`WithSubsystem\("([a-z0-9_]+)"\)`)
	promqlName  = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// codeMetrics is what the Go code of the repository can export: string
// literals that are whole skirmish_ names, suffixes joined to a part name
// (metrics.NewHTTP), and gRPC server metrics of a provider configured with
// a part as subsystem.
var codeMetrics = sync.OnceValues(func() (func(string) bool, error) {
	literals := map[string]bool{}
	grpcParts := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		for _, m := range stringLit.FindAllStringSubmatch(src, -1) {
			literals[m[1]] = true
		}
		if strings.Contains(src, "go-grpc-middleware/providers/prometheus") {
			for _, m := range subsystemRe.FindAllStringSubmatch(src, -1) {
				grpcParts[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	exists := func(name string) bool {
		if literals[name] {
			return true
		}
		for _, p := range parts {
			rest, ok := strings.CutPrefix(name, "skirmish_"+p+"_")
			if !ok {
				continue
			}
			if literals["_"+rest] && literals["skirmish_"] || literals[rest] && literals["skirmish_"+p+"_"] {
				return true
			}
			if grpcParts[p] {
				for _, g := range grpcServerMetrics {
					if rest == g {
						return true
					}
				}
			}
		}
		return false
	}
	return exists, nil
})

// checkMetricNames fails the test for every metric an expression reads
// that no code exports. Go runtime and process metrics come from
// client_golang's collectors; recorded series (with a colon) from the
// recording rules, which are checked themselves.
func checkMetricNames(t *testing.T, where, expr string, recorded map[string]bool) {
	t.Helper()
	exists, err := codeMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range metricRefs(expr) {
		switch {
		case strings.Contains(name, ":"):
			if !recorded[name] {
				t.Errorf("%s: %q reads recorded series %s, which no recording rule makes", where, expr, name)
			}
		case strings.HasPrefix(name, "skirmish_"):
			base := name
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, s); ok && exists(b) {
					base = b
				}
			}
			if !exists(base) {
				t.Errorf("%s: metric %s is exported by no code in the repository", where, name)
			}
		}
	}
}

// metricRefs returns the metric names an expression reads: identifiers
// that are neither label names, functions, keywords, durations nor
// strings.
func metricRefs(expr string) []string {
	// Drop strings and label matchers' contents.
	expr = regexp.MustCompile(`"(\\.|[^"\\])*"`).ReplaceAllString(expr, `""`)
	expr = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(expr, "")
	expr = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(expr, "")
	expr = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`).ReplaceAllString(expr, "")
	var names []string
	for _, loc := range promqlName.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " ")
		if strings.HasPrefix(rest, "(") { // a function
			continue
		}
		if strings.HasPrefix(name, "skirmish_") || strings.Contains(name, ":") ||
			strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || name == "up" {
			names = append(names, name)
		}
	}
	return names
}

func TestRulesReadExportedMetrics(t *testing.T) {
	groups := loadRuleGroups(t)
	recorded := map[string]bool{}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	n := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			name := r.Record + r.Alert
			checkMetricNames(t, "rule "+name, r.Expr, recorded)
			n++
		}
	}
	if n == 0 {
		t.Fatal("no rules")
	}
}

func TestMetricRefs(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`up{job="skirmish-gameserver"} == 0`, "up"},
		{`histogram_quantile(0.95, sum by (mode, le) (rate(skirmish_matchmaker_time_to_match_seconds_bucket{instance=~"$instance"}[5m])))`, "skirmish_matchmaker_time_to_match_seconds_bucket"},
		{`a:b:rate5m / on (job, instance) (skirmish_gameserver_ticks_total > 0)`, "a:b:rate5m skirmish_gameserver_ticks_total"},
		{`sum(rate(go_goroutines[5m])) unless on (mode) process_cpu_seconds_total`, "go_goroutines process_cpu_seconds_total"},
	}
	for _, tt := range tests {
		if got := strings.Join(metricRefs(tt.expr), " "); got != tt.want {
			t.Errorf("metricRefs(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
