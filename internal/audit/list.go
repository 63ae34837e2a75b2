package audit

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// The list contract of GET /admin/audit: newest first, filtered by actor
// and action, limit rows a page, and a cursor that is the last row's id.
// The cursor is not signed as the order lists' are: staff may read every
// row of the trail, so a forged cursor reaches nothing they could not
// page to.
const (
	defaultLimit = 20
	maxLimit     = 100
)

var actionPattern = regexp.MustCompile(`^[a-z_]{1,30}\.[a-z_]{1,30}$`) //nolint:gochecknoglobals // compiled once.

// Filter is one page's query.
type Filter struct {
	Actor  *uuid.UUID
	Action *string
	Before *int64 // the cursor: rows with a smaller id
	Limit  int
}

// Page is one page of the trail.
type Page struct {
	Records    []Record
	NextCursor string
}

// ParseFilter reads actor, action, limit and cursor from the query; any
// other parameter, a repeated one or an empty one is a 400 naming it.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Limit: defaultLimit}
	for name, values := range q {
		switch name {
		case "actor", "action", "limit", "cursor":
		default:
			return Filter{}, web.Invalid("Query parameter " + strconv.Quote(clip(name)) + " is not known (use actor, action, limit, cursor).")
		}
		if len(values) != 1 || values[0] == "" {
			return Filter{}, web.Invalid("Query parameter " + strconv.Quote(name) + " must be given once, not empty.")
		}
	}
	if raw := q.Get("actor"); raw != "" {
		id, err := uuid.Parse(raw)
		if err != nil {
			return Filter{}, web.Invalid(`Query parameter "actor" must be a user id.`)
		}
		f.Actor = &id
	}
	if raw := q.Get("action"); raw != "" {
		if !actionPattern.MatchString(raw) {
			return Filter{}, web.Invalid(`Query parameter "action" must look like "order.update".`)
		}
		f.Action = &raw
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit || strconv.Itoa(n) != raw {
			return Filter{}, web.Invalid(fmt.Sprintf(`Query parameter "limit" must be a whole number from 1 to %d.`, maxLimit))
		}
		f.Limit = n
	}
	if raw := q.Get("cursor"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != raw {
			return Filter{}, web.Invalid(`Query parameter "cursor" is not a cursor from a previous page.`)
		}
		f.Before = &n
	}
	return f, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Store reads the trail, as the staff member the request runs as.
type Store struct{ q *db.Queries }

func NewStore(pool *pgxpool.Pool) *Store { return &Store{q: db.New(postgres.Scoped(pool))} }

// List returns the page f asks for. It reads one row more than the page to
// know whether there is a next one.
func (s *Store) List(ctx context.Context, f Filter) (Page, error) {
	var actor pgtype.UUID
	if f.Actor != nil {
		actor = pgtype.UUID{Bytes: *f.Actor, Valid: true}
	}
	rows, err := s.q.ListAuditEntries(ctx, db.ListAuditEntriesParams{ActorID: actor, Action: f.Action, BeforeID: f.Before, RowLimit: int32(f.Limit + 1)}) //nolint:gosec // f.Limit ≤ maxLimit.
	if err != nil {
		return Page{}, fmt.Errorf("list audit entries: %w", err)
	}
	var p Page
	for i, r := range rows {
		if i == f.Limit {
			p.NextCursor = strconv.FormatInt(p.Records[i-1].ID, 10)
			break
		}
		p.Records = append(p.Records, Record{
			ID: r.ID, ActorID: r.ActorID, Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID,
			Before: r.Before, After: r.After, CreatedAt: r.CreatedAt,
		})
	}
	if p.Records == nil {
		p.Records = []Record{}
	}
	return p, nil
}
