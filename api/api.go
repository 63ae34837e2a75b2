// Package api holds the OpenAPI document of the service (openapi.yaml). It is
// embedded, so every binary serves the contract of exactly the code it was
// built from, and tests/openapi_test.go holds that code to it.
package api

import (
	_ "embed"
	"slices"
)

//go:embed openapi.yaml
var document []byte

// MediaType is the type the document is served with: application/yaml, the
// registered YAML media type (RFC 9512). application/openapi+yaml says more,
// but browsers, curl users and most tools do not know it yet, and the
// document's own "openapi: 3.1.0" line already says what kind of YAML it is.
const MediaType = "application/yaml"

// Document returns the OpenAPI 3.1 document, as YAML. The bytes are a copy:
// the embedded original cannot be changed by a caller.
func Document() []byte { return slices.Clone(document) }
