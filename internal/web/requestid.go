// Package web holds the cross-cutting HTTP defences every route shares:
// problem+json errors, strict JSON binding and validation, request ids and
// logging, security headers, CORS, client-IP extraction and rate limiting.
package web

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/labstack/echo/v5"
)

// HeaderRequestID carries the request id back to the client, which quotes it
// when reporting a problem.
const HeaderRequestID = "X-Request-Id"

const requestIDKey = "web.request_id"

// RequestIDMiddleware gives every request a fresh random id. An id sent by
// the client is ignored: it would let anyone write chosen text into the logs
// and make two requests share an id.
func RequestIDMiddleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			var b [12]byte
			_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
			id := hex.EncodeToString(b[:])
			c.Set(requestIDKey, id)
			c.Response().Header().Set(HeaderRequestID, id)
			return next(c)
		}
	}
}

// RequestID returns the id given by RequestIDMiddleware, or "" before it ran.
func RequestID(c *echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}
