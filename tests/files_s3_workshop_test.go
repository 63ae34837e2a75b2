//go:build workshop

package tests

import (
	"context"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/files/s3store/s3test"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// The control of TestFileAttacksOnS3's catalogue part: on a server storing
// in S3, the attacks it runs still see the workshop's vulnerable and naive
// download routes, which open keys under FILE_STORAGE_DIR whatever the
// backend (internal/workshop/files.go), and the canary planted beside it.
// So a BLOCKED there is the secure route's doing, not a harness that cannot
// see an exploit.
func TestWorkshopFileVariantsOnS3(t *testing.T) {
	s3 := s3test.Start(t)
	for _, tt := range []struct {
		vulns, id string
		want      attack.Verdict
	}{
		{"files", "files/unsigned-traversal", attack.Exploited},
		{"files:naive", "files/nested-traversal", attack.Exploited},
		{"", "files/nested-traversal", attack.Blocked},
	} {
		t.Run(tt.vulns+"/"+tt.id, func(t *testing.T) {
			env := s3Env(t, s3)
			env["BULWARK_VULNS"] = tt.vulns
			srv := startServer(t, env)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := findAttack(t, tt.id).Run(ctx, srv.Target)
			if err != nil {
				t.Fatalf("attack could not run: %v", err)
			}
			t.Logf("%s %s: %s", res.Verdict, tt.id, res.Evidence)
			if res.Verdict != tt.want {
				t.Errorf("with BULWARK_VULNS=%q on S3, %s is %s, want %s", tt.vulns, tt.id, res.Verdict, tt.want)
			}
		})
	}
}
