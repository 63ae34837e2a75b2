package orders

import (
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

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Sort is the allowlist of list orders. A request's sort parameter is
// parsed into one of these before any SQL is chosen, and each value maps to
// its own static query (store.go): the request never contributes SQL text,
// so there is nothing to inject (docs/05-sql-injection.md).
type Sort string

// The sort orders a client may ask for. "-" means descending.
const (
	SortCreatedDesc Sort = "-created_at"
	SortCreatedAsc  Sort = "created_at"
	SortTotalDesc   Sort = "-total"
	SortTotalAsc    Sort = "total"
)

// DefaultSort applies when the parameter is absent. An unknown value is
// never replaced by it: a silent default hides client bugs and probing.
const DefaultSort = SortCreatedDesc

// ParseSort returns the Sort for s, or a 400 naming the parameter.
func ParseSort(s string) (Sort, error) {
	switch Sort(s) {
	case "":
		return DefaultSort, nil
	case SortCreatedDesc, SortCreatedAsc, SortTotalDesc, SortTotalAsc:
		return Sort(s), nil
	default:
		return "", paramError("sort", "must be one of: created_at, -created_at, total, -total")
	}
}

// Status is an order's state. The database has the same list as a CHECK.
type Status string

// Order states.
const (
	StatusPending   Status = "pending"
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
	StatusCancelled Status = "cancelled"
)

// ParseStatus returns the Status for s ("" means no filter), or a 400.
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

// Key is the position of a row in a sort order: its sort key and its id
// (the tie-breaker that makes the order total).
type Key struct {
	CreatedAt time.Time
	Total     int64
	ID        uuid.UUID
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
	var k int64
	if s == SortCreatedAsc || s == SortCreatedDesc {
		k = key.CreatedAt.UnixMicro() // PostgreSQL keeps microseconds; so does the cursor.
	} else {
		k = key.Total
	}
	payload := strings.Join([]string{cursorVersion, scope, string(s), string(status), strconv.FormatInt(k, 10), key.ID.String()}, "|")
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
	k, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil {
		return Key{}, errBadCursor
	}
	id, err := uuid.Parse(parts[5])
	if err != nil {
		return Key{}, errBadCursor
	}
	key := Key{ID: id, Total: k}
	if s == SortCreatedAsc || s == SortCreatedDesc {
		key.CreatedAt = time.UnixMicro(k).UTC()
	}
	return key, nil
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

// FirstPageKey is the sentinel "before the first row" for each sort, so the
// first page uses the same query and index range as every other page.
func FirstPageKey(s Sort) Key {
	switch s {
	case SortCreatedAsc:
		return Key{CreatedAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), ID: uuid.Nil}
	case SortTotalAsc:
		return Key{Total: math.MinInt64, ID: uuid.Nil}
	case SortTotalDesc:
		return Key{Total: math.MaxInt64, ID: uuid.Max}
	default:
		return Key{CreatedAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), ID: uuid.Max}
	}
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
