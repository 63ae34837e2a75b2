//go:build workshop

package workshop

import (
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Binder switches nested validation (issue "validation") around the secure
// binder. Decoding is always the secure binder's own, strict decoding, so
// unknown, duplicated or differently-cased members are still a 400 and
// mass assignment is unchanged; only what happens after decoding differs.
//
// Vulnerable: no validation at all. Whatever decodes is handed to the
// service: 1001-character notes, 51 items, quantity 0, markup in address
// fields.
//
// Naive: only the top-level fields are validated, as if the DTO had no
// `dive` and nested structs were never descended into (what
// validator.StructFiltered with a top-level-only filter gives). The item
// count and the note's length are checked; the address fields and each
// item's product id and quantity are not. Here that is done by forgiving
// every validation error whose field path goes below the top level.
// Secure code: internal/web/bind.go and internal/web/validate.go (every
// level validated) and internal/orders/dto.go (`dive`, sizes, allowlists).
func Binder(b *Board, secure echo.Binder) echo.Binder {
	return &switchedBinder{board: b, secure: secure}
}

type switchedBinder struct {
	board  *Board
	secure echo.Binder
}

// Bind implements echo.Binder.
func (s *switchedBinder) Bind(c *echo.Context, target any) error {
	err := s.secure.Bind(c, target)
	variant := s.board.Get("validation")
	if err == nil || variant == Secure {
		return err
	}
	// Only a bare *web.ValidationError comes from the validator, after the
	// body decoded completely. Decoding errors are other types (or wrap a
	// ValidationError), so errors.As would wrongly catch them too.
	verr, ok := err.(*web.ValidationError) //nolint:errorlint // the exact type, not the chain, tells validation from decoding.
	if !ok {
		return err
	}
	if variant == Vulnerable {
		return nil
	}
	var top []web.FieldError
	for _, f := range verr.Fields {
		if !strings.ContainsAny(f.Field, ".[") {
			top = append(top, f)
		}
	}
	if len(top) == 0 {
		return nil
	}
	return &web.ValidationError{Fields: top}
}
