//go:build workshop

package tests

import (
	"context"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// pairedOn is paired (workshop_test.go) for attacks that need a stage
// beside the server: start boots the server with the switches and returns
// its target.
func pairedOn(t *testing.T, vulns string, want map[string]attack.Verdict, start func(t *testing.T, env map[string]string) *attack.Target) {
	t.Helper()
	for id, verdict := range want {
		t.Run(vulns+"/"+id, func(t *testing.T) {
			target := start(t, map[string]string{"BULWARK_VULNS": vulns})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := findAttack(t, id).Run(ctx, target)
			if err != nil {
				t.Fatalf("attack could not run: %v", err)
			}
			t.Logf("%s %s: %s", res.Verdict, id, res.Evidence)
			if res.Verdict != verdict {
				t.Errorf("with BULWARK_VULNS=%s, %s is %s, want %s: %s", vulns, id, res.Verdict, verdict, res.Evidence)
			}
		})
	}
}

// ssrfStage: the lab, and a server that may fetch its public host.
func ssrfStage(t *testing.T, env map[string]string) *attack.Target {
	t.Helper()
	lab := startLab(t)
	srv := startServer(t, ssrfEnv(t, lab, env))
	srv.Target.SSRF = lab
	return srv.Target
}

// webhookStage: a server with the fake provider and a known secret.
func webhookStage(t *testing.T, env map[string]string) *attack.Target {
	t.Helper()
	return startPayStage(t, env).srv.Target
}

// SSRF: a default client fetches the metadata service; a blocklist of
// names stops the obvious URLs but not another spelling of loopback or a
// redirect from a host it allows.
func TestWorkshopSSRF(t *testing.T) {
	pairedOn(t, "ssrf", map[string]attack.Verdict{"ssrf/metadata": attack.Exploited}, ssrfStage)
	pairedOn(t, "ssrf:naive", map[string]attack.Verdict{
		"ssrf/metadata": attack.Blocked, "ssrf/address-encodings": attack.Exploited, "ssrf/redirect": attack.Exploited,
	}, ssrfStage)
	pairedOn(t, "", map[string]attack.Verdict{
		"ssrf/metadata": attack.Blocked, "ssrf/address-encodings": attack.Blocked, "ssrf/redirect": attack.Blocked,
	}, ssrfStage)
}

// Webhook: without a signature check anyone pays their own order; with
// the signature alone, a captured event replays and an underpayment pays
// the expensive order.
func TestWorkshopWebhook(t *testing.T) {
	pairedOn(t, "webhook", map[string]attack.Verdict{"webhook/unsigned": attack.Exploited}, webhookStage)
	pairedOn(t, "webhook:naive", map[string]attack.Verdict{
		"webhook/unsigned": attack.Blocked, "webhook/replay": attack.Exploited, "webhook/underpay": attack.Exploited,
	}, webhookStage)
	pairedOn(t, "", map[string]attack.Verdict{
		"webhook/unsigned": attack.Blocked, "webhook/replay": attack.Blocked, "webhook/underpay": attack.Blocked,
	}, webhookStage)
}
