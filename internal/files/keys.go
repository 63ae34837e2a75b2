package files

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"

	"github.com/google/uuid"
)

// NewObjectKey builds the storage key of a new file:
// owners/{owner_id}/files/{128 random bits}. Nothing the client sent, not
// the filename nor any path segment, takes part, so no input can steer a
// write or a read to another place (docs/06-file-access.md). The owner
// prefix keeps every customer's objects apart even in a shared bucket.
func NewObjectKey(owner uuid.UUID) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return "owners/" + owner.String() + "/files/" + hex.EncodeToString(b[:])
}

// objectKeyPattern is the only shape of key the service ever builds. Keys
// are checked against it wherever one comes back from outside (the signed
// download route), after the signature: a second, independent gate.
var objectKeyPattern = regexp.MustCompile(`^owners/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/files/[0-9a-f]{32}$`) //nolint:gochecknoglobals // compiled once, read-only.

// ValidObjectKey reports whether key has the shape NewObjectKey produces.
func ValidObjectKey(key string) bool { return objectKeyPattern.MatchString(key) }
