//go:build workshop

package workshop

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/files"
)

// GET /api/v1/downloads, insecure file access.
//
// Vulnerable: the key comes from the query and no signature is checked:
// the link is no longer the permission, anyone can ask for any key. The
// key is joined onto the storage directory and opened with plain os.Open,
// so "../canary.txt" or "../../etc/passwd" reads files outside the storage
// root, and the body is served inline with a sniffed Content-Type (no
// nosniff, no sandbox, no attachment).
//
// Naive: the same, but "../" is stripped first, in one pass. The attacker
// nests it: "....//" becomes "../" after the strip, so
// "....//....//canary.txt" still climbs out.
// Secure code: the signature is checked before the key is read
// (internal/files/localfs/signer.go, Service.OpenSigned in
// internal/files/service.go), objects are opened through an os.Root that
// cannot be escaped (internal/files/localfs/localfs.go), and the download
// is an attachment with nosniff and a CSP sandbox (internal/files/handler.go,
// Download).
func downloadVulnerable(storageDir string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		return serveKey(c, storageDir, c.QueryParam("key"))
	}
}

func downloadNaive(storageDir string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		key := strings.ReplaceAll(c.QueryParam("key"), "../", "") // one pass: the bug is the point
		return serveKey(c, storageDir, key)
	}
}

// serveKey is what the variants share: join, open, sniff, send inline.
func serveKey(c *echo.Context, storageDir, key string) error {
	if key == "" {
		return fmt.Errorf("no key: %w", files.ErrLinkInvalid)
	}
	f, err := os.Open(filepath.Join(storageDir, key)) //nolint:gosec // G304: the traversal is the point of this variant.
	if err != nil {
		return fmt.Errorf("open %q: %w", key, files.ErrNotFound)
	}
	defer func() { _ = f.Close() }()
	if info, err := f.Stat(); err != nil || info.IsDir() {
		return fmt.Errorf("open %q: %w", key, files.ErrNotFound)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	c.Response().Header().Set(echo.HeaderContentType, http.DetectContentType(head[:n]))
	c.Response().WriteHeader(http.StatusOK)
	if _, err := c.Response().Write(head[:n]); err != nil {
		return err
	}
	_, err = io.Copy(c.Response(), f)
	return err
}
