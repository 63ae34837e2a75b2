package tests

import (
	"testing"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// thirdParty is what the third-party routes need to succeed in
// TestOpenAPIResponsesMatchTheDocument: the SSRF lab's public host, which
// the server may fetch.
type thirdParty struct {
	lab *attack.SSRFLab
	env map[string]string
}

func startThirdParty(t *testing.T) *thirdParty {
	t.Helper()
	lab := startLab(t)
	return &thirdParty{lab: lab, env: ssrfEnv(lab, nil)}
}

// exercise drives the third-party routes through the conformance client:
// a success and the errors a client can provoke.
func (tp *thirdParty) exercise(c *apiClient, token, orderID string) {
	c.t.Helper()
	imp := "/api/v1/orders/" + orderID + "/files/import"
	c.expect(201, "POST", imp, token, map[string]any{"url": tp.lab.PublicURL("/file.txt")})
	c.expect(400, "POST", imp, token, map[string]any{"url": tp.lab.MetadataURL("127.0.0.1")})
	c.expect(400, "POST", imp, token, map[string]any{"url": "ftp://example.com/"})
	c.expect(404, "POST", "/api/v1/orders/00000000-0000-4000-8000-000000000000/files/import", token, map[string]any{"url": tp.lab.PublicURL("/file.txt")})
}
