package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// series is one scrape of a server's metrics: the value of each series, by
// its name and labels as Prometheus writes them
// (`bulwark_security_events_total{kind="lockout",reason="login-account"}`).
type series map[string]float64

// scrape reads the server's metrics from its own listener (METRICS_ADDR).
func scrape(t *testing.T, srv *server) series {
	t.Helper()
	addr := srv.logs.MetricsAddr()
	if addr == "" {
		t.Fatal("the server logged no metrics address")
	}
	families := scrapeFamilies(t, "http://"+addr+"/metrics")
	out := series{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func scrapeFamilies(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape of %s: %v", url, err)
	}
	return families
}

// securityCounts sums bulwark_security_events_total by kind.
func (s series) securityCounts() map[string]float64 {
	out := map[string]float64{}
	for k, v := range s {
		rest, ok := strings.CutPrefix(k, `bulwark_security_events_total{kind="`)
		if !ok {
			continue
		}
		kind, _, _ := strings.Cut(rest, `"`)
		out[kind] += v
	}
	return out
}

// sum adds every series whose key starts with prefix.
func (s series) sum(prefix string) float64 {
	var total float64
	for k, v := range s {
		if strings.HasPrefix(k, prefix) {
			total += v
		}
	}
	return total
}

// secEvent is one security event line of the log.
type secEvent struct {
	Event     string `json:"event"`
	Kind      string `json:"kind"`
	Reason    string `json:"reason"`
	Level     string `json:"level"`
	Time      string `json:"time"`
	RequestID string `json:"request_id"`
	UserID    string `json:"user_id"`
	ClientIP  string `json:"client_ip"`
	Method    string `json:"method"`
	Route     string `json:"route"`
}

// securityEvents are the security event lines the server has logged.
func securityEvents(srv *server) []secEvent {
	var out []secEvent
	for line := range strings.SplitSeq(srv.Logs(), "\n") {
		var ev secEvent
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "security" {
			out = append(out, ev)
		}
	}
	return out
}
