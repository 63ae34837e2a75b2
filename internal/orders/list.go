package orders

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// This file is the whole contract of listing orders, for a customer's own
// list (GET /orders) and the staff list of everyone's (GET /admin/orders)
// alike: the query string is parsed into allowlisted values and a verified
// cursor (ParseListParams), each sort and filter has its static queries
// (sortOrders), and a page is cut and its next cursor signed (ListPage).
// The two lists differ only in scope and in the row they return.
//
// Adding a sort column takes its Sort values and their rows in sortOrders
// here; its queries in db/queries/orders.sql, four per direction (customer
// and staff, with and without the status filter), then make generate; their
// indexes in a new db/migrations file; and the values in the sort enum of
// api/openapi.yaml. tests/plan_test.go finds the new queries by their names
// and checks their plans without being told.

// Sort is the allowlist of list orders. A request's sort parameter is
// parsed into one of these before any SQL is chosen, and each value maps to
// its own static queries (sortOrders): the request never contributes SQL
// text, so there is nothing to inject (docs/05-sql-injection.md).
type Sort string

// The sort orders a client may ask for. "-" means descending.
const (
	SortCreatedAsc  Sort = "created_at"
	SortCreatedDesc Sort = "-created_at"
	SortTotalAsc    Sort = "total"
	SortTotalDesc   Sort = "-total"
)

// DefaultSort applies when the parameter is absent. An unknown value is
// never replaced by it: a silent default hides client bugs and probing.
const DefaultSort = SortCreatedDesc

// sortOrder is a row of the table: a sort, the column it orders by, and
// its static queries (db/queries/orders.sql), without and with the status
// filter.
type sortOrder struct {
	sort       Sort
	column     column
	all        queries
	withStatus queries
}

// queries are the two scopes of one sort and filter: a customer's own
// orders, and every order for staff. They bind the same values; they
// differ only in the owner in the WHERE clause and in the row they return.
type queries struct {
	owner ownerQuery
	staff staffQuery
}

type (
	ownerQuery func(ctx context.Context, q *db.Queries, owner uuid.UUID, a listArgs) ([]orderRow, error)
	staffQuery func(ctx context.Context, q *db.Queries, a listArgs) ([]StaffRow, error)
)

// sortOrders is the table from each sort and filter to its static queries,
// in the order the API documents the sorts. Each has its own index, so
// every page is one index range scan (tests/plan_test.go). A filter is a
// query of its own, never an OR in one query: PostgreSQL cannot use such an
// OR as an index condition in a generic plan.
var sortOrders = []sortOrder{ //nolint:gochecknoglobals // the table: built once, only read.
	{
		sort: SortCreatedAsc, column: createdAt(),
		all: queries{
			owner: ownerList((*db.Queries).ListOrdersForOwnerCreatedAtAsc),
			staff: staffList((*db.Queries).AdminListOrdersCreatedAtAsc),
		},
		withStatus: queries{
			owner: ownerListWithStatus((*db.Queries).ListOrdersForOwnerWithStatusCreatedAtAsc),
			staff: staffListWithStatus((*db.Queries).AdminListOrdersWithStatusCreatedAtAsc),
		},
	},
	{
		sort: SortCreatedDesc, column: createdAt(),
		all: queries{
			owner: ownerList((*db.Queries).ListOrdersForOwnerCreatedAtDesc),
			staff: staffList((*db.Queries).AdminListOrdersCreatedAtDesc),
		},
		withStatus: queries{
			owner: ownerListWithStatus((*db.Queries).ListOrdersForOwnerWithStatusCreatedAtDesc),
			staff: staffListWithStatus((*db.Queries).AdminListOrdersWithStatusCreatedAtDesc),
		},
	},
	{
		sort: SortTotalAsc, column: totalCents(),
		all: queries{
			owner: ownerList((*db.Queries).ListOrdersForOwnerTotalAsc),
			staff: staffList((*db.Queries).AdminListOrdersTotalAsc),
		},
		withStatus: queries{
			owner: ownerListWithStatus((*db.Queries).ListOrdersForOwnerWithStatusTotalAsc),
			staff: staffListWithStatus((*db.Queries).AdminListOrdersWithStatusTotalAsc),
		},
	},
	{
		sort: SortTotalDesc, column: totalCents(),
		all: queries{
			owner: ownerList((*db.Queries).ListOrdersForOwnerTotalDesc),
			staff: staffList((*db.Queries).AdminListOrdersTotalDesc),
		},
		withStatus: queries{
			owner: ownerListWithStatus((*db.Queries).ListOrdersForOwnerWithStatusTotalDesc),
			staff: staffListWithStatus((*db.Queries).AdminListOrdersWithStatusTotalDesc),
		},
	},
}

// A column is what a sort orders by. Its value in a row is kept in keys
// and cursors as an integer; min and max bound every value it can hold,
// and a first page starts beyond one of them (FirstPageKey).
type column struct {
	value    func(Order) int64
	min, max int64
}

// createdAt is a time, kept as microseconds since 1970: PostgreSQL keeps
// microseconds, and so does the cursor. Its queries bind it as a UTC time
// (asParam). The bounds lie before and after any order's time, and inside
// what both PostgreSQL and Go can hold.
func createdAt() column {
	return column{
		value: func(o Order) int64 { return o.CreatedAt.UnixMicro() },
		min:   time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro(),
		max:   time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMicro(),
	}
}

func totalCents() column {
	return column{value: func(o Order) int64 { return o.TotalCents }, min: math.MinInt64, max: math.MaxInt64}
}

// lookup returns the row of s, or nil if s is no sort.
func lookup(s Sort) *sortOrder {
	for i := range sortOrders {
		if sortOrders[i].sort == s {
			return &sortOrders[i]
		}
	}
	return nil
}

// Sorts returns every sort a list accepts, in the order the API documents
// them.
func Sorts() []Sort {
	out := make([]Sort, 0, len(sortOrders))
	for _, o := range sortOrders {
		out = append(out, o.sort)
	}
	return out
}

// ParseSort returns the Sort for s, or a 400 naming the parameter.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return DefaultSort, nil
	}
	if lookup(Sort(s)) == nil {
		names := make([]string, 0, len(sortOrders))
		for _, sort := range Sorts() {
			names = append(names, string(sort))
		}
		return "", paramError("sort", "must be one of: "+strings.Join(names, ", "))
	}
	return Sort(s), nil
}

// ParseStatus returns the Status filter for s ("" means no filter), or a
// 400.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case "", StatusPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled:
		return Status(s), nil
	default:
		return "", paramError("status", "must be one of: pending, paid, shipped, delivered, cancelled")
	}
}

// Page sizes.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ListParams is a parsed, validated list request.
type ListParams struct {
	Sort   Sort
	Status Status // "" = all
	Limit  int
	After  *Key // nil = first page
}

// Key is the position of a row in a sort order: its value in the sort
// column, as an integer (a time as microseconds since 1970), and its id,
// the tie-breaker that makes the order total.
type Key struct {
	Value int64
	ID    uuid.UUID
}

// limitPattern accepts 1 to 3 plain digits: no sign, no spaces, no
// exponent, nothing strconv would quietly accept or trim.
var limitPattern = regexp.MustCompile(`^[1-9][0-9]{0,2}$`) //nolint:gochecknoglobals // compiled once, read-only.

// ParseListParams reads sort, status, limit and cursor from the raw query
// string (see parseQuery for why the raw one). Any other
// parameter, or a parameter given twice, is a 400 too: a parameter the
// server ignores is one a client or a probe believes works, and a repeated
// one is read differently by different layers (HTTP parameter pollution).
// scope ties cursors to the caller.
func ParseListParams(rawQuery string, cursors *Cursors, scope string) (ListParams, error) {
	q, err := parseQuery(rawQuery)
	if err != nil {
		return ListParams{}, err
	}
	for name, values := range q {
		switch name {
		case "sort", "status", "limit", "cursor":
		default:
			return ListParams{}, paramError(clip(name), "is not a known query parameter (use sort, status, limit, cursor)")
		}
		if len(values) > 1 {
			return ListParams{}, paramError(name, "must be given once")
		}
		// Present but empty is not "absent": it would be a silent default.
		if values[0] == "" {
			return ListParams{}, paramError(name, "must not be empty (leave the parameter out for the default)")
		}
	}
	sort, err := ParseSort(q.Get("sort"))
	if err != nil {
		return ListParams{}, err
	}
	status, err := ParseStatus(q.Get("status"))
	if err != nil {
		return ListParams{}, err
	}
	p := ListParams{Sort: sort, Status: status, Limit: DefaultLimit}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if !limitPattern.MatchString(raw) || err != nil || n > MaxLimit {
			return ListParams{}, paramError("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
		}
		p.Limit = n
	}
	if raw := q.Get("cursor"); raw != "" {
		key, err := cursors.Decode(raw, scope, sort, status)
		if err != nil {
			return ListParams{}, paramError("cursor", "is not a cursor from a previous page of this same list")
		}
		p.After = &key
	}
	return p, nil
}

// parseQuery splits the raw query string pair by pair. url.URL.Query is
// not used because it drops a malformed pair without a word:
// "sort=total;DROP…" or "sort=total%" would vanish and the default sort
// would answer. Here the bad value stays under its name and is refused by
// that parameter's allowlist, or named as malformed.
func parseQuery(rawQuery string) (url.Values, error) {
	q := url.Values{}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, paramError("(query)", "is not a well-formed query string")
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, paramError(clip(name), "is not a well-formed query value")
		}
		q.Add(name, value)
	}
	return q, nil
}

// Scope is the cursor scope of a customer's own list. The staff list has
// its own (internal/admin), so neither list's cursors work on the other.
func Scope(owner uuid.UUID) string { return "owner:" + owner.String() }

// Cursors encodes and verifies keyset-pagination cursors. A cursor carries
// the list it belongs to (caller scope, sort, status filter) and the key of
// the last row, signed with HMAC-SHA256. A forged or edited cursor, or one
// replayed by another user or for another sort or filter, fails
// verification: the cursor is opaque to the client and tamper-evident, and
// its contents never reach SQL unverified.
type Cursors struct {
	keys [][]byte // keys[0] signs; all verify
}

// NewCursors derives the cursor keys from server secrets, so that cursor
// MACs and the secrets' other uses never share a key. The first secret
// signs; all verify, so keys rotate without breaking pages in progress.
func NewCursors(secrets ...[]byte) *Cursors {
	c := &Cursors{}
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("bulwark/orders/cursor/v1"))
		c.keys = append(c.keys, mac.Sum(nil))
	}
	return c
}

const cursorVersion = "1"

// Encode returns the cursor for the page after key.
func (c *Cursors) Encode(scope string, s Sort, status Status, key Key) string {
	payload := strings.Join([]string{cursorVersion, scope, string(s), string(status), strconv.FormatInt(key.Value, 10), key.ID.String()}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(sign(c.keys[0], payload))
}

// Decode verifies raw and returns its key if it belongs to this list.
func (c *Cursors) Decode(raw, scope string, s Sort, status Status) (Key, error) {
	if len(raw) > 512 {
		return Key{}, errBadCursor
	}
	encPayload, encMAC, ok := strings.Cut(raw, ".")
	// The base64 decoder skips CR and LF even in strict mode, so they are
	// refused here: without this, "cursor\r\n" was a second spelling of a
	// valid cursor (found by FuzzCursor).
	if !ok || strings.ContainsAny(raw, "\r\n") {
		return Key{}, errBadCursor
	}
	// Strict: one spelling per cursor (unused low bits must be zero).
	payload, err1 := base64.RawURLEncoding.Strict().DecodeString(encPayload)
	mac, err2 := base64.RawURLEncoding.Strict().DecodeString(encMAC)
	// Verify before parsing: nothing in an unauthenticated payload is read.
	if err1 != nil || err2 != nil || !c.verify(string(payload), mac) {
		return Key{}, errBadCursor
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 6 || parts[0] != cursorVersion || parts[1] != scope || parts[2] != string(s) || parts[3] != string(status) {
		return Key{}, errBadCursor
	}
	value, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil {
		return Key{}, errBadCursor
	}
	id, err := uuid.Parse(parts[5])
	if err != nil {
		return Key{}, errBadCursor
	}
	return Key{Value: value, ID: id}, nil
}

func (c *Cursors) verify(payload string, mac []byte) bool {
	for _, k := range c.keys {
		if hmac.Equal(mac, sign(k, payload)) {
			return true
		}
	}
	return false
}

func sign(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var errBadCursor = fmt.Errorf("invalid cursor") //nolint:gochecknoglobals // sentinel.

// FirstPageKey is the sentinel "before the first row" of each sort, so the
// first page uses the same query and index range as every other page.
func FirstPageKey(s Sort) Key {
	o := lookup(s)
	switch {
	case o == nil:
		return Key{}
	case strings.HasPrefix(string(s), "-"):
		return Key{Value: o.column.max, ID: uuid.Max}
	default:
		return Key{Value: o.column.min, ID: uuid.Nil}
	}
}

// Page is one page of a list and the cursor of the next, if any.
type Page[T listed] struct {
	Orders     []T
	NextCursor *string
}

// listed is what a list holds: an Order, or a view of one that embeds it
// (admin.Order) and so has its order method.
type listed interface{ order() Order }

func (o Order) order() Order { return o }

// ListPage serves one list request of scope, a customer's or staff's: it
// parses rawQuery, fetches the page with fetch, which returns one row more
// than the page holds when there is a next page (listArgs.limit),
// and makes the next page's cursor from the key of the page's last row.
func ListPage[T listed](rawQuery string, cursors *Cursors, scope string, fetch func(ListParams) ([]T, error)) (Page[T], error) {
	p, err := ParseListParams(rawQuery, cursors, scope)
	if err != nil {
		return Page[T]{}, err
	}
	rows, err := fetch(p)
	if err != nil {
		return Page[T]{}, err
	}
	if len(rows) <= p.Limit {
		return Page[T]{Orders: rows}, nil
	}
	rows = rows[:p.Limit]
	last := rows[len(rows)-1].order()
	next := cursors.Encode(scope, p.Sort, p.Status, Key{Value: lookup(p.Sort).column.value(last), ID: last.ID})
	return Page[T]{Orders: rows, NextCursor: &next}, nil
}

// queries returns the table's queries for p's sort and filter.
func (p ListParams) queries() (queries, error) {
	o := lookup(p.Sort)
	switch {
	case o == nil:
		return queries{}, fmt.Errorf("no query for sort %q", p.Sort)
	case p.Status == "":
		return o.all, nil
	default:
		return o.withStatus, nil
	}
}

// listArgs are the values every list query binds, besides the owner.
type listArgs struct {
	status string
	after  Key
	// limit is one row more than the page: the extra row tells ListPage
	// whether there is a next page.
	limit int32
}

// args returns what p's query binds. A first page starts before the first
// row (FirstPageKey).
func (p ListParams) args() listArgs {
	a := listArgs{status: string(p.Status), after: FirstPageKey(p.Sort), limit: int32(p.Limit + 1)} //nolint:gosec // p.Limit is at most MaxLimit.
	if p.After != nil {
		a.after = *p.After
	}
	return a
}

// ListForStaff runs the staff query of p's sort and filter: a page of every
// customer's orders (ListPage). It is for internal/admin, behind the staff
// routes; a customer's list runs the owner's query of the same table
// (Store.listForOwner).
func ListForStaff(ctx context.Context, q *db.Queries, p ListParams) ([]StaffRow, error) {
	qs, err := p.queries()
	if err != nil {
		return nil, err
	}
	return qs.staff(ctx, q, p.args())
}

// StaffRow has the columns of every staff query of orders (the Admin…
// queries): the customer's columns, the internal note, and who placed the
// order. internal/admin makes its view of an order from it.
type StaffRow staffFields

// staffFields is the field list itself, as an alias, so that convertStaff
// can accept every sqlc row type with exactly these fields.
type staffFields = struct {
	ID              uuid.UUID
	OwnerID         uuid.UUID
	Status          string
	TotalCents      int64
	Currency        string
	ShippingAddress []byte
	Note            string
	InternalNote    string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CustomerName    string
	CustomerEmail   string
}

// Order returns the order in r, without its items.
func (r StaffRow) Order() (Order, error) {
	return orderRow{
		ID: r.ID, OwnerID: r.OwnerID, Status: r.Status, TotalCents: r.TotalCents, Currency: r.Currency,
		ShippingAddress: r.ShippingAddress, Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}.toOrder()
}

// The four shapes of list parameters, as sqlc generates them from the
// names every list query binds (db/queries/orders.sql): a customer's list
// binds the owner, a filtered one the status. K is the sort column's type.
type (
	ownerParams[K sortParam] = struct {
		OwnerID    uuid.UUID
		AfterValue K
		AfterID    uuid.UUID
		PageLimit  int32
	}
	ownerStatusParams[K sortParam] = struct {
		OwnerID    uuid.UUID
		Status     string
		AfterValue K
		AfterID    uuid.UUID
		PageLimit  int32
	}
	staffParams[K sortParam] = struct {
		AfterValue K
		AfterID    uuid.UUID
		PageLimit  int32
	}
	staffStatusParams[K sortParam] = struct {
		Status     string
		AfterValue K
		AfterID    uuid.UUID
		PageLimit  int32
	}
)

// sortParam is the type a query binds the sort column's value as.
type sortParam interface{ time.Time | int64 }

// asParam turns a key's value into the type its query binds: microseconds
// into a UTC time, an integer as it is.
func asParam[K sortParam](v int64) K {
	var k K
	switch p := any(&k).(type) {
	case *time.Time:
		*p = time.UnixMicro(v).UTC()
	case *int64:
		*p = v
	}
	return k
}

// ownerList, ownerListWithStatus, staffList and staffListWithStatus bind
// listArgs to a query of each shape. sqlc makes parameter and row types
// per query; every query of a shape converts to it, so one function serves
// them all, and the compiler checks that they stay the same.
func ownerList[K sortParam, P ~ownerParams[K], R ~orderFields](query func(*db.Queries, context.Context, P) ([]R, error)) ownerQuery {
	return func(ctx context.Context, q *db.Queries, owner uuid.UUID, a listArgs) ([]orderRow, error) {
		return convert(query(q, ctx, P{OwnerID: owner, AfterValue: asParam[K](a.after.Value), AfterID: a.after.ID, PageLimit: a.limit}))
	}
}

func ownerListWithStatus[K sortParam, P ~ownerStatusParams[K], R ~orderFields](query func(*db.Queries, context.Context, P) ([]R, error)) ownerQuery {
	return func(ctx context.Context, q *db.Queries, owner uuid.UUID, a listArgs) ([]orderRow, error) {
		return convert(query(q, ctx, P{OwnerID: owner, Status: a.status, AfterValue: asParam[K](a.after.Value), AfterID: a.after.ID, PageLimit: a.limit}))
	}
}

func staffList[K sortParam, P ~staffParams[K], R ~staffFields](query func(*db.Queries, context.Context, P) ([]R, error)) staffQuery {
	return func(ctx context.Context, q *db.Queries, a listArgs) ([]StaffRow, error) {
		return convertStaff(query(q, ctx, P{AfterValue: asParam[K](a.after.Value), AfterID: a.after.ID, PageLimit: a.limit}))
	}
}

func staffListWithStatus[K sortParam, P ~staffStatusParams[K], R ~staffFields](query func(*db.Queries, context.Context, P) ([]R, error)) staffQuery {
	return func(ctx context.Context, q *db.Queries, a listArgs) ([]StaffRow, error) {
		return convertStaff(query(q, ctx, P{Status: a.status, AfterValue: asParam[K](a.after.Value), AfterID: a.after.ID, PageLimit: a.limit}))
	}
}

// convert turns any slice of sqlc row types with orderRow's fields into
// orderRows.
func convert[R ~orderFields](rows []R, err error) ([]orderRow, error) {
	if err != nil {
		return nil, err
	}
	out := make([]orderRow, len(rows))
	for i, r := range rows {
		out[i] = orderRow(r)
	}
	return out, nil
}

// convertStaff is convert for the staff queries' rows.
func convertStaff[R ~staffFields](rows []R, err error) ([]StaffRow, error) {
	if err != nil {
		return nil, err
	}
	out := make([]StaffRow, len(rows))
	for i, r := range rows {
		out[i] = StaffRow(r)
	}
	return out, nil
}

func paramError(name, message string) error {
	return &web.ValidationError{Fields: []web.FieldError{{Field: name, Message: message}}}
}

// clip keeps echoed parameter names short, printable and valid UTF-8.
func clip(s string) string {
	if s == "" {
		return "(empty)"
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
