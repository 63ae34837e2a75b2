package files

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Handler is the HTTP face of the file service.
type Handler struct {
	svc *Service
}

func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// transferTime is the deadline for moving n bytes: 30 seconds plus one
// second per MiB.
func transferTime(n int64) time.Duration {
	return 30*time.Second + time.Duration(n>>20)*time.Second
}

// owned is the file ResolveOwned loads.
func owned() web.Resource[File] { return web.NewResource[File]("file") }

// ResolveOwned loads the file named by {id} for the caller before the
// handler runs; another customer's file, a missing one and a malformed id
// all get the same 404 (docs/01-bola.md).
func ResolveOwned(svc *Service) echo.MiddlewareFunc {
	return web.Resolve(owned(), ErrNotFound, func(c *echo.Context, id uuid.UUID) (File, error) {
		return svc.GetForOwner(c.Request().Context(), auth.UserID(c), id)
	})
}

var errNotMultipart = &web.ValidationError{Fields: []web.FieldError{{Field: "file", Message: "send the file as multipart/form-data in a field named file"}}} //nolint:gochecknoglobals // immutable sentinel.

// Upload handles POST /orders/{id}/files (multipart, one part named file).
// The part is streamed to storage as it arrives; the body is never held in
// memory or spooled to a temporary file by the framework.
func (h *Handler) Upload(c *echo.Context) error {
	order := orders.OwnedOrder(c)
	// The server's read timeout is sized for ordinary requests; an upload
	// gets time in proportion to the cap (at least 1 MiB/s), still bounded,
	// so a trickled upload cannot hold the connection forever.
	// The write deadline too: it runs from the start of the request, and the
	// answer comes only after the whole body was read.
	deadline := time.Now().Add(transferTime(h.svc.limits.MaxBytes))
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline.Add(30 * time.Second))
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return fmt.Errorf("multipart: %w", errNotMultipart)
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "file" {
		return fmt.Errorf("first part: %w", errNotMultipart)
	}
	defer func() { _ = part.Close() }()
	f, err := h.svc.Upload(c.Request().Context(), auth.UserID(c), order.ID, NormalizeFilename(part.FileName()), part)
	if errors.Is(err, ErrTooLarge) {
		// The rest of the body is not worth reading: close the connection
		// instead of draining an attacker's gigabytes.
		c.Response().Header().Set("Connection", "close")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toFileResponse(f))
}

// ListForOrder handles GET /orders/{id}/files.
func (h *Handler) ListForOrder(c *echo.Context) error {
	files, err := h.svc.ListForOrder(c.Request().Context(), auth.UserID(c), orders.OwnedOrder(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toFileListResponse(files))
}

// Get handles GET /files/{id}: the metadata.
func (h *Handler) Get(c *echo.Context) error {
	return c.JSON(http.StatusOK, toFileResponse(owned().Get(c)))
}

// DownloadURL handles GET /files/{id}/download-url.
func (h *Handler) DownloadURL(c *echo.Context) error {
	link, err := h.svc.Link(c.Request().Context(), owned().Get(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, linkResponse{URL: link.URL, ExpiresAt: link.ExpiresAt})
}

// Delete handles DELETE /files/{id}.
func (h *Handler) Delete(c *echo.Context) error {
	if err := h.svc.Delete(c.Request().Context(), auth.UserID(c), owned().Get(c).ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Download handles the signed download route. The signature is the
// permission, so there is no session. Every invalid link is the same 403;
// only a valid link to a file deleted since gets a 404.
func (h *Handler) Download(c *echo.Context) error {
	f, rc, err := h.svc.OpenSigned(c.Request().Context(), http.MethodGet, c.QueryParams())
	if errors.Is(err, ErrLinkInvalid) {
		secevent.Emit(c.Request().Context(), secevent.SignatureInvalid, secevent.ReasonDownloadLink)
	}
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	hdr := c.Response().Header()
	// The stored type, decided from the bytes at upload; never sniffed by
	// the browser (nosniff), never shown inline (attachment), and sandboxed
	// in case a browser renders it anyway: an uploaded file can never run
	// as a page on the API's origin.
	hdr.Set("Content-Disposition", ContentDisposition(f.Name))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'")
	hdr.Set("Cache-Control", "private, no-store")
	hdr.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(transferTime(f.Size)))
	c.Response().Header().Set(echo.HeaderContentType, f.ContentType)
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}
