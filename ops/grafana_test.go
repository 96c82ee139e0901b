package ops

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// TestDashboards checks that there is a dashboard per part, that each is
// a well-formed Grafana dashboard, and that every query reads metrics the
// code exports.
func TestDashboards(t *testing.T) {
	recorded := map[string]bool{}
	for _, g := range loadRuleGroups(t) {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	uids := map[string]string{}
	for _, part := range []string{"gameserver", "matchmaker", "leaderboard", "pipeline"} {
		t.Run(part, func(t *testing.T) {
			path := filepath.Join("grafana", "dashboards", part+".json")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no dashboard for %s: %v", part, err)
			}
			var d dashboard
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
				t.Errorf("%s: uid %q, title %q, schemaVersion %d: want all set", path, d.UID, d.Title, d.SchemaVersion)
			}
			if other, ok := uids[d.UID]; ok {
				t.Errorf("%s: uid %q also used by %s", path, d.UID, other)
			}
			uids[d.UID] = path
			hasDS := false
			for _, v := range d.Templating.List {
				hasDS = hasDS || v.Type == "datasource" && v.Name == "datasource"
			}
			if !hasDS {
				t.Errorf("%s: no datasource variable", path)
			}
			ids := map[int]bool{}
			queries := 0
			var walk func([]panel)
			walk = func(ps []panel) {
				for _, p := range ps {
					if ids[p.ID] {
						t.Errorf("%s: panel id %d used twice", path, p.ID)
					}
					ids[p.ID] = true
					if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
						t.Errorf("%s: panel %q: bad gridPos %+v", path, p.Title, p.GridPos)
					}
					walk(p.Panels)
					if p.Type == "row" {
						continue
					}
					if p.Datasource == nil || p.Datasource.Type != "prometheus" {
						t.Errorf("%s: panel %q has no Prometheus data source", path, p.Title)
					}
					if len(p.Targets) == 0 {
						t.Errorf("%s: panel %q has no queries", path, p.Title)
					}
					refs := map[string]bool{}
					for _, q := range p.Targets {
						if q.Expr == "" || q.RefID == "" || refs[q.RefID] {
							t.Errorf("%s: panel %q: query %+v needs an expr and a unique refId", path, p.Title, q)
						}
						refs[q.RefID] = true
						checkMetricNames(t, path+": panel "+p.Title, q.Expr, recorded)
						queries++
					}
				}
			}
			walk(d.Panels)
			if queries == 0 {
				t.Errorf("%s: no queries", path)
			}
		})
	}
}

// TestGrafanaProvisioning checks that the provisioning files name the
// Prometheus data source and the dashboards folder that compose mounts.
func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, URL, UID string
		} `yaml:"datasources"`
	}
	decodeYAMLFile(t, "grafana/provisioning/datasources/prometheus.yml", &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("datasources = %+v, want one prometheus at http://prometheus:9090", ds)
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string
			Options struct{ Path string }
		} `yaml:"providers"`
	}
	decodeYAMLFile(t, "grafana/provisioning/dashboards/skirmish.yml", &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" {
		t.Fatalf("dashboard providers = %+v, want one file provider", dp)
	}
	c := loadCompose(t)
	want := "../grafana/dashboards:" + dp.Providers[0].Options.Path + ":ro"
	found := false
	for _, v := range c.Services["grafana"].Volumes {
		found = found || v == want
	}
	if !found {
		t.Errorf("compose grafana volumes %v: want %q (the provider's path)", c.Services["grafana"].Volumes, want)
	}
}
