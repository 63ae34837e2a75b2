package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
)

// Domain packages describe their failures with these kinds and a message that
// is safe to show a client, for example
//
//	const ErrNotFound = web.NotFound("order not found")
//
// and wrap them with context for the log: fmt.Errorf("load %s: %w", id, ErrNotFound).
// The error handler finds the kind with errors.As and sends only the kind's
// own message, so the wrapping text (ids, SQL, driver errors) stays in the log.
type (
	// Invalid is a request the client must change before retrying (400).
	Invalid string
	// Unauthorized means the caller is not authenticated (401).
	Unauthorized string
	// Forbidden means the caller is authenticated but may not do this (403).
	Forbidden string
	// NotFound means the resource does not exist for this caller (404).
	NotFound string
	// Conflict means the request clashes with the current state (409).
	Conflict string
	// Unavailable means a dependency is down; the client may retry (503).
	Unavailable string
	// Unsupported means the body's media type is refused (415).
	Unsupported string
	// TooLarge means the body is over a size cap (413).
	TooLarge string
	// Unprocessable means the request is well formed but names something
	// the service cannot act on, such as an expired coupon (422).
	Unprocessable string
)

func (e Invalid) Error() string      { return string(e) }
func (e Unauthorized) Error() string { return string(e) }
func (e Forbidden) Error() string    { return string(e) }
func (e NotFound) Error() string     { return string(e) }
func (e Conflict) Error() string     { return string(e) }
func (e Unavailable) Error() string  { return string(e) }
func (e Unsupported) Error() string  { return string(e) }
func (e TooLarge) Error() string     { return string(e) }

func (e Unprocessable) Error() string { return string(e) }

// Typed gives the problem of Err (one of the kinds above) its own type
// URI, for a failure a client must tell apart from others of the same
// status and act on: "sign in again with your second factor" is a 403
// like any other, but the client's next step differs (RFC 9457 §3.1.1).
type Typed struct {
	Type string
	Err  error
}

func (e *Typed) Error() string { return e.Err.Error() }
func (e *Typed) Unwrap() error { return e.Err }

// FieldError names one invalid field by its JSON path, e.g. "items[0].quantity".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError is a 400 that lists every offending field.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("validation failed on %d field(s)", len(e.Fields))
}

// TooManyRequests is a 429 with the time after which a retry can succeed.
type TooManyRequests struct {
	RetryAfter time.Duration
}

func (e *TooManyRequests) Error() string { return "rate limit exceeded" }

// Problem is an RFC 9457 problem details body. It is built only from the
// public parts of an error; no field is ever filled from err.Error().
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// ErrorHandler is the one place where errors become responses. It logs the
// full error with the request id and sends a problem+json body that contains
// nothing the handler did not mean to say.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil && resp.Committed {
			// Headers are gone; all that is left to do is to record it.
			logger.ErrorContext(c.Request().Context(), "error after response started",
				"request_id", RequestID(c), "error", err)
			return
		}
		p := problemFor(err)
		p.RequestID = RequestID(c)
		p.Instance = c.Request().URL.Path

		level := slog.LevelInfo
		if p.Status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		// The full error, binder, driver and panic text included, goes to
		// the log only; the client gets the request id to quote.
		logger.Log(c.Request().Context(), level, "request failed",
			"request_id", p.RequestID, "status", p.Status, "error", err)

		var tooMany *TooManyRequests
		if errors.As(err, &tooMany) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(tooMany.RetryAfter)))
		}
		if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationProblemJSON)
		c.Response().Header().Set("Cache-Control", "no-store")
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		if werr := c.JSON(p.Status, p); werr != nil {
			logger.WarnContext(c.Request().Context(), "write error response", "request_id", p.RequestID, "error", werr)
		}
	}
}

// StatusOf is the HTTP status the error handler answers err with.
func StatusOf(err error) int { return problemFor(err).Status }

// problemFor maps an error to its public problem. Unknown errors are 500s
// that say only that something failed.
func problemFor(err error) Problem {
	var (
		invalid      Invalid
		unauthorized Unauthorized
		forbidden    Forbidden
		notFound     NotFound
		conflict     Conflict
		unavailable  Unavailable
		unsupported  Unsupported
		tooLarge     TooLarge
		unusable     Unprocessable
		typed        *Typed
		validation   *ValidationError
		tooMany      *TooManyRequests
		statusCoder  echo.HTTPStatusCoder
	)
	if errors.As(err, &typed) {
		p := problemFor(typed.Err)
		p.Type = typed.Type
		return p
	}
	switch {
	case errors.As(err, &validation):
		p := problem(http.StatusBadRequest, "The request has invalid fields.")
		p.Errors = validation.Fields
		return p
	case errors.As(err, &invalid):
		return problem(http.StatusBadRequest, string(invalid))
	case errors.As(err, &unauthorized):
		return problem(http.StatusUnauthorized, string(unauthorized))
	case errors.As(err, &forbidden):
		return problem(http.StatusForbidden, string(forbidden))
	case errors.As(err, &notFound):
		return problem(http.StatusNotFound, string(notFound))
	case errors.As(err, &conflict):
		return problem(http.StatusConflict, string(conflict))
	case errors.As(err, &unsupported):
		return problem(http.StatusUnsupportedMediaType, string(unsupported))
	case errors.As(err, &tooLarge):
		return problem(http.StatusRequestEntityTooLarge, string(tooLarge))
	case errors.As(err, &unusable):
		return problem(http.StatusUnprocessableEntity, string(unusable))
	case errors.As(err, &unavailable):
		return problem(http.StatusServiceUnavailable, string(unavailable))
	case errors.As(err, &tooMany):
		return problem(http.StatusTooManyRequests, "Too many requests; retry after the time in Retry-After.")
	case errors.As(err, &statusCoder):
		// Errors raised by echo itself: unknown route, wrong method, body
		// too large. Their status is public; their message is not used.
		status := statusCoder.StatusCode()
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
		if status >= http.StatusInternalServerError {
			return problem(status, "")
		}
		return problem(status, http.StatusText(status)+".")
	default:
		return problem(http.StatusInternalServerError, "")
	}
}

func problem(status int, detail string) Problem {
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

func retryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		return 1
	}
	return s
}
