package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v5"
)

// StrictJSONBinder decodes a JSON request body into a request DTO and
// validates it. It is echo's Binder, so handlers call c.Bind(&req) and get a
// value that is complete and valid, or an error the error handler turns into
// a 400, 413 or 415.
//
// It closes the holes of encoding/json (docs/02-mass-assignment.md):
//   - a member the DTO does not declare is an error naming it, so a client
//     sending {"role":"admin"} is told so instead of silently ignored;
//   - names match case-sensitively, so "Role" cannot reach a field tagged
//     "role", and a duplicated name is an error, so {"name":..,"name":..}
//     cannot smuggle a second value past a proxy or WAF that read the first;
//   - trailing data after the value is an error;
//   - only the body is read: path and query parameters are never bound, so
//     a body cannot overwrite the id in the URL.
type StrictJSONBinder struct {
	Validator *Validator
}

// Bind implements echo.Binder.
func (b StrictJSONBinder) Bind(c *echo.Context, target any) error {
	req := c.Request()
	if err := requireJSON(req); err != nil {
		return err
	}
	if err := decodeStrict(req.Body, target); err != nil {
		return err
	}
	return b.Validator.Struct(target)
}

// requireJSON refuses every body that is not declared as JSON. Accepting
// form or text bodies would let a cross-site HTML form post to the API
// without a CORS preflight.
func requireJSON(req *http.Request) error {
	mediaType, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != echo.MIMEApplicationJSON {
		return errUnsupportedMediaType
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return errUnsupportedMediaType
		}
	}
	return nil
}

var strictOptions = json.JoinOptions( //nolint:gochecknoglobals // immutable decoder options, built once.
	json.RejectUnknownMembers(true),
	// These are the v2 defaults, spelled out because they are the defence.
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
	json.MatchCaseInsensitiveNames(false),
)

func decodeStrict(body io.Reader, target any) error {
	err := json.UnmarshalRead(body, target, strictOptions)
	if err == nil {
		return nil
	}
	// The body limit's 413 arrives as a read error from inside the decoder.
	var statusCoder echo.HTTPStatusCoder
	if errors.As(err, &statusCoder) {
		return statusCoder.(error) //nolint:errorlint,forcetypeassert // the value errors.As found is itself the error to return.
	}
	var syntactic *jsontext.SyntacticError
	if errors.As(err, &syntactic) {
		if errors.Is(syntactic.Err, jsontext.ErrDuplicateName) {
			return fieldError(syntactic.JSONPointer, "appears more than once", err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) && syntactic.ByteOffset == 0 {
			return &decodeError{public: "The request body is empty; send a JSON object.", cause: err}
		}
		return &decodeError{public: "The request body is not valid JSON (near byte " + strconv.FormatInt(syntactic.ByteOffset, 10) + ").", cause: err}
	}
	var semantic *json.SemanticError
	if errors.As(err, &semantic) {
		if errors.Is(semantic.Err, json.ErrUnknownName) {
			return fieldError(semantic.JSONPointer, "is not a known field", err)
		}
		return fieldError(semantic.JSONPointer, "has the wrong type or is out of range", err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &decodeError{public: "The request body is empty or cut short; send a JSON object.", cause: err}
	}
	return &decodeError{public: "The request body could not be read.", cause: err}
}

// decodeError is a 400 whose public text is fixed here; the decoder's own
// message (which names Go types) stays in the log through Unwrap.
type decodeError struct {
	public string
	cause  error
}

func (e *decodeError) Error() string { return e.public + ": " + e.cause.Error() }
func (e *decodeError) Unwrap() error { return Invalid(e.public) }

// fieldError reports a problem with one member, named by its JSON path.
func fieldError(ptr jsontext.Pointer, message string, cause error) error {
	return &wrappedValidation{
		ValidationError: ValidationError{Fields: []FieldError{{Field: pointerPath(ptr), Message: message}}},
		cause:           cause,
	}
}

type wrappedValidation struct {
	ValidationError
	cause error
}

func (e *wrappedValidation) Error() string { return e.ValidationError.Error() + ": " + e.cause.Error() }
func (e *wrappedValidation) Unwrap() error { return &e.ValidationError }

// pointerPath turns the JSON pointer /items/0/quantity into items[0].quantity,
// the form validation errors use. Names come from the client, so they are
// made printable (a JSON string may carry a NUL, DEL or a bidi override;
// found by FuzzBindUpdateOrder) and cut to a short length before being
// echoed.
func pointerPath(ptr jsontext.Pointer) string {
	var b strings.Builder
	for tok := range ptr.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, b.String())
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		return "(body)"
	}
	return s
}

// errUnsupportedMediaType is the one answer to a body that is not JSON.
const errUnsupportedMediaType = Unsupported("Send the body as application/json.")
