//go:build workshop

package workshop

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/orders"
)

// GET /orders, SQL injection through sort.
//
// Vulnerable: ORDER BY cannot take a bind parameter, so sort is pasted into
// the SQL ("-total" becomes "total_cents DESC" by string surgery, not an
// allowlist), and the statement runs over the simple protocol, which takes
// several statements at once. sort=created_at;SELECT pg_sleep(2)-- runs a
// statement of the attacker's; a CASE WHEN on the users table makes the row
// order answer a yes/no question about it, such as a bit of a password hash.
//
// Naive: ";" and "--" are stripped first. Stacked statements die, but an
// expression inside ORDER BY needs neither, so the CASE WHEN still works.
// Secure code: internal/orders/list.go (sort is parsed into an allowlisted
// enum, anything else is a 400, and each sort has its static queries) and
// db/queries/orders.sql.
func listOrdersVulnerable(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error { return listSortedBy(c, pool, c.QueryParam("sort")) }
}

func listOrdersNaive(pool *pgxpool.Pool) echo.HandlerFunc {
	strip := strings.NewReplacer(";", "", "--", "")
	return func(c *echo.Context) error { return listSortedBy(c, pool, strip.Replace(c.QueryParam("sort"))) }
}

// sortlessOrContinued picks the list requests the sqli variants leave to the
// secure handler: those without a sort (nothing to paste) and those that
// continue a page with a cursor, which the variants do not implement. The
// variants' pages therefore stop at 100 orders and carry no next_cursor, and
// the cursor attack meets the secure cursor check whatever the switch.
func sortlessOrContinued(c *echo.Context) bool {
	return c.QueryParam("sort") == "" || c.QueryParam("cursor") != ""
}

func listSortedBy(c *echo.Context, pool *pgxpool.Pool, sort string) error {
	column, desc := strings.CutPrefix(cmp.Or(sort, "-created_at"), "-")
	if column == "total" {
		column = "total_cents"
	}
	if desc {
		column += " DESC"
	}
	// The same keys as the secure list, so only the sqli attacks notice
	// (bar limit and paging: see sortlessOrContinued).
	query := `SELECT id, status, total_cents, currency, shipping_address, note, created_at, updated_at,
		(SELECT coalesce(json_agg(json_build_object('product_id', product_id, 'name', name, 'quantity', quantity,
		'unit_price_cents', unit_price_cents) ORDER BY line), '[]') FROM order_items WHERE order_id = orders.id) AS items
		FROM orders WHERE owner_id = $1 ORDER BY ` + column + ` LIMIT 100`
	rows, _ := pool.Query(c.Request().Context(), query, pgx.QueryExecModeSimpleProtocol, auth.UserID(c).String())
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[struct {
		ID              uuid.UUID       `json:"id"`
		Status          string          `json:"status"`
		TotalCents      int64           `json:"total_cents"`
		Currency        string          `json:"currency"`
		ShippingAddress orders.Address  `json:"shipping_address"`
		Note            string          `json:"note"`
		Items           json.RawMessage `json:"items"`
		CreatedAt       time.Time       `json:"created_at"`
		UpdatedAt       time.Time       `json:"updated_at"`
	}])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}
