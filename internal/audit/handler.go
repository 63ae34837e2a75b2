package audit

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Handler is the staff's read of the trail. There is no write route: rows
// are written only by Write, inside the staff action they describe.
type Handler struct{ store *Store }

func NewHandler(store *Store) *Handler { return &Handler{store: store} }

type recordResponse struct {
	ID         int64           `json:"id"`
	ActorID    string          `json:"actor_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	CreatedAt  time.Time       `json:"created_at"`
}

type listResponse struct {
	Items      []recordResponse `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// List handles GET /admin/audit?actor=&action=&limit=&cursor=.
func (h *Handler) List(c *echo.Context) error {
	// ParseQuery, not c.QueryParams: a malformed pair is a 400 here, not
	// silently dropped (and the filter with it).
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return web.Invalid("The query string is not well-formed.")
	}
	f, err := ParseFilter(q)
	if err != nil {
		return err
	}
	page, err := h.store.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := listResponse{Items: make([]recordResponse, 0, len(page.Records))}
	for _, r := range page.Records {
		out.Items = append(out.Items, recordResponse{
			ID: r.ID, ActorID: r.ActorID.String(), Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID,
			Before: r.Before, After: r.After, CreatedAt: r.CreatedAt,
		})
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, out)
}
