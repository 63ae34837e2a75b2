package web

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"
)

// Resource names a resource a middleware resolved from the path, and the
// type it holds. Every {id} route of the service resolves its resource the
// same way (Resolve): handlers behind it read the resource with Get
// instead of the path, so none can forget the check that loaded it.
type Resource[T any] struct {
	name string
}

// NewResource returns the key for one kind of resolved resource; name
// appears in the panic of a route that forgot its resolver.
func NewResource[T any](name string) Resource[T] { return Resource[T]{name: name} }

// Resolve loads the resource named by the {id} path parameter before the
// handler runs. A malformed id fails with notFound, the same answer the
// lookup gives for a missing resource and for one the caller may not see,
// so the answer says nothing about which ids exist (docs/01-bola.md).
// find decides what the caller may see: the caller's own rows in the
// customer routes, every row in the staff routes.
func Resolve[T any](r Resource[T], notFound error, find func(c *echo.Context, id uuid.UUID) (T, error)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			id, err := uuid.Parse(c.Param("id"))
			if err != nil {
				// Not a miss (LimitMisses): a malformed id names no
				// resource, so it is no guess at one, and costs no lookup.
				return fmt.Errorf("%s id %q: %w", r.name, c.Param("id"), notFound)
			}
			v, err := find(c, id)
			if err != nil {
				// A well-formed id that is not the caller's counts against
				// their misses limit (LimitMisses): many in a short time is
				// someone guessing ids.
				c.Set(missKey, errors.Is(err, notFound))
				return err
			}
			c.Set(r.name, v)
			return next(c)
		}
	}
}

// Get returns the resource Resolve loaded. It panics on a route without
// the resolver: a wiring bug must fail loudly, never serve an unchecked id.
func (r Resource[T]) Get(c *echo.Context) T {
	v, ok := c.Get(r.name).(T)
	if !ok {
		panic("web: route is missing the resolver of " + r.name)
	}
	return v
}
