package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/outbound"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// ErrImportFailed is the one answer for every fetch that did not produce a
// file: a refused address, a closed port, a timeout, a name that does not
// resolve, an error status. One answer, so the route cannot be used to map
// what the server can reach (docs/10-ssrf.md); the log says which.
const ErrImportFailed = web.Invalid("The URL could not be fetched.")

// Fetcher fetches the URL a customer asks to attach. The service's is
// outbound.Fetcher; the workshop build swaps in weaker ones.
type Fetcher interface {
	ParseURL(raw string) (*url.URL, error)
	Fetch(ctx context.Context, u *url.URL) (*outbound.Response, error)
}

// ImportHandler attaches a file fetched from a URL to an order.
type ImportHandler struct {
	svc   *Service
	fetch Fetcher
}

// NewImportHandler builds the handler around the file service that stores
// uploads, so an imported file goes through exactly the upload's checks.
func NewImportHandler(svc *Service, fetch Fetcher) *ImportHandler {
	return &ImportHandler{svc: svc, fetch: fetch}
}

type importRequest struct {
	URL string `json:"url" validate:"required"`
}

// Import handles POST /orders/{id}/files/import {"url": ...}. The fetched
// bytes are stored by Service.Upload, like a multipart upload: type from
// the bytes, size cap while streaming, per-order cap, signed downloads.
func (h *ImportHandler) Import(c *echo.Context) error {
	order := orders.OwnedOrder(c)
	var req importRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	u, err := h.fetch.ParseURL(req.URL)
	if err != nil {
		var bad *outbound.URLError
		if errors.As(err, &bad) {
			secevent.Emit(c.Request().Context(), secevent.OutboundRefused, secevent.ReasonURL)
			return &web.ValidationError{Fields: []web.FieldError{{Field: "url", Message: bad.Reason}}}
		}
		// Not err's text: url.Parse quotes the raw URL, whose userinfo may
		// hold a password, and the log must never carry one.
		return fmt.Errorf("parse import url (%T): %w", err, ErrImportFailed)
	}
	ctx := c.Request().Context()
	// A closed order or a full quota refuses before anything is fetched.
	if err := h.svc.Admit(ctx, auth.UserID(c), order.ID); err != nil {
		return err
	}
	// Nor is anything fetched for a session that has ended (free here:
	// Admit's statements checked it).
	if err := h.svc.RequireLiveSession(ctx); err != nil {
		return err
	}
	resp, err := h.fetch.Fetch(ctx, u)
	if errors.Is(err, outbound.ErrRefused) {
		secevent.Emit(ctx, secevent.OutboundRefused, secevent.ReasonDestination)
	}
	if err != nil {
		// The cause reaches the log (the error handler logs the whole
		// error) as text, never in the error chain: a timeout there would
		// be mapped to a 503, and the answer would tell a closed port from
		// a silent one.
		return fmt.Errorf("import %s: %s: %w", outbound.LogForm(u.String()), err.Error(), ErrImportFailed)
	}
	defer func() { _ = resp.Body.Close() }()
	body := &firstError{r: resp.Body}
	name := NormalizeFilename(resp.Name)
	if name == "" {
		name = "import"
	}
	f, err := h.svc.Upload(ctx, auth.UserID(c), order.ID, name, body)
	if err != nil && errors.Is(body.err, outbound.ErrTooLarge) {
		return fmt.Errorf("import larger than %d bytes: %w", h.svc.limits.MaxBytes, ErrTooLarge)
	}
	if err != nil && body.err != nil {
		// The remote end failed mid-body (reset, timeout): the same answer
		// as a failed fetch; Upload stored nothing.
		return fmt.Errorf("import %s: body: %s: %w", outbound.LogForm(u.String()), body.err.Error(), ErrImportFailed)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toFileResponse(f))
}

// firstError remembers the first read error that is not the end of the
// body, to tell the remote side's failures from the upload rules' refusals.
type firstError struct {
	r   io.Reader
	err error
}

func (f *firstError) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && f.err == nil {
		f.err = err
	}
	return n, err
}
