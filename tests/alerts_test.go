package tests

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/bulwark-dev/bulwark/internal/web/redislimit/redistest"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// The example alerts (deploy/prometheus/alerts.yml) watch series the server
// exports: every metric an expression names is in a scrape of a running
// server, and every kind it filters on is a kind of security event. A
// renamed metric or kind would otherwise leave an alert that never fires.
func TestAlertsNameExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse alerts.yml: %v", err)
	}

	// A server with the shared limiter, so its series are there too, and
	// one security event, so the events' family has a series.
	rd := redistest.Start(t)
	srv := startServer(t, map[string]string{"RATE_LIMIT_STORE": "redis", "REDIS_URL": rd.URL()})
	if status, _, err := get(context.Background(), http.DefaultClient, srv.URL+"/api/v1/users/me", ""); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("unauthenticated request: %d %v", status, err)
	}
	exported := map[string]bool{}
	for name := range scrapeFamilies(t, "http://"+srv.logs.MetricsAddr()+"/metrics") {
		exported[name] = true
	}
	kinds := map[string]bool{}
	for _, k := range secevent.Kinds() {
		kinds[string(k)] = true
	}

	metric := regexp.MustCompile(`\bbulwark_[a-z_]+`)
	kindFilter := regexp.MustCompile(`kind=~?"([^"]+)"`)
	var alerts int
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			alerts++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("group %s: a rule needs alert, expr, and a summary and description: %+v", g.Name, r)
			}
			names := metric.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s: the expression names no bulwark metric: %s", r.Alert, r.Expr)
			}
			for _, name := range names {
				base := name
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if b, ok := strings.CutSuffix(name, suffix); ok && exported[b] {
						base = b
					}
				}
				if !exported[base] {
					t.Errorf("%s: %s is not exported by the server", r.Alert, name)
				}
			}
			for _, m := range kindFilter.FindAllStringSubmatch(r.Expr, -1) {
				for k := range strings.SplitSeq(m[1], "|") {
					if !kinds[k] {
						t.Errorf("%s: kind %q is no kind of security event (internal/web/secevent)", r.Alert, k)
					}
				}
			}
		}
	}
	if alerts == 0 {
		t.Fatal("alerts.yml has no rules")
	}
	// The control: the check sees a name that is not exported.
	if exported["bulwark_no_such_metric"] || !slices.Contains(metric.FindAllString(`rate(bulwark_no_such_metric[5m])`, -1), "bulwark_no_such_metric") {
		t.Error("control failed")
	}
}
