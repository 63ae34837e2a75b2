package web

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

// Validator checks request DTOs against their `validate` tags. Every string
// and slice in a DTO carries a maximum, and `dive` descends into every
// element, so no nested value reaches the service unchecked
// (docs/07-nested-validation.md).
type Validator struct {
	v *validator.Validate
}

// NewValidator builds the validator. WithRequiredStructEnabled makes
// `required` on a struct field mean "present", which the v11 default will be.
func NewValidator() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by the name the client sent, not the Go field name.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	// safetext: no control or invisible formatting characters. They have no
	// business in a name or an address, and bidi overrides and zero-width
	// characters are how a stored string is made to display as something
	// else on a staff screen.
	_ = v.RegisterValidation("safetext", func(fl validator.FieldLevel) bool {
		return isSafeText(fl.Field().String())
	})
	// addresstext: an allowlist, not a denylist. Letters and digits of any
	// script, combining marks, spaces and . , ' - / # & ( ) cover real
	// addresses; <, >, double quotes, backticks, braces and the rest never
	// reach a staff screen from an address field.
	_ = v.RegisterValidation("addresstext", func(fl validator.FieldLevel) bool {
		return addressText.MatchString(fl.Field().String())
	})
	_ = v.RegisterValidation("postalcode", func(fl validator.FieldLevel) bool {
		return postalCode.MatchString(fl.Field().String())
	})
	_ = v.RegisterValidation("countrycode", func(fl validator.FieldLevel) bool {
		return IsCountryCode(fl.Field().String())
	})
	// notetext: free text, stored as given (markup included; the dashboard
	// renders it as text), but line breaks and tabs are the only control
	// characters, and no invisible formatting characters.
	_ = v.RegisterValidation("notetext", func(fl validator.FieldLevel) bool {
		return isSafeText(strings.NewReplacer("\n", "", "\t", "", "\r", "").Replace(fl.Field().String()))
	})
	return &Validator{v: v}
}

//nolint:gochecknoglobals // compiled once, read-only.
var (
	addressText = regexp.MustCompile(`^[\p{L}\p{M}\p{N} .,'\-/#&()]*$`)
	postalCode  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 \-]{0,15}$`)
)

func isSafeText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// Struct validates s and returns a *ValidationError listing every bad field.
func (v *Validator) Struct(s any) error {
	err := v.v.Struct(s)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		// InvalidValidationError: a programming error (nil or non-struct).
		return fmt.Errorf("validate: %w", err)
	}
	fields := make([]FieldError, 0, len(verrs))
	for _, fe := range verrs {
		fields = append(fields, FieldError{Field: fieldPath(fe.Namespace()), Message: message(fe)})
	}
	return &ValidationError{Fields: fields}
}

// fieldPath drops the struct's own name: "UpdateMe.name" → "name".
func fieldPath(ns string) string {
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

// message says what is wrong in words a client developer can act on,
// without repeating the rejected value back.
func message(fe validator.FieldError) string {
	unit := ""
	switch fe.Kind() {
	case reflect.String:
		unit = " characters"
	case reflect.Slice, reflect.Array, reflect.Map:
		unit = " items"
	default:
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "max", "lte":
		return "must be at most " + fe.Param() + unit
	case "min", "gte":
		return "must be at least " + fe.Param() + unit
	case "len":
		return "must be exactly " + fe.Param() + unit
	case "oneof":
		return "must be one of: " + fe.Param()
	case "email":
		return "must be an email address"
	case "uuid", "uuid4":
		return "must be a UUID"
	case "countrycode":
		return "must be two capital letters, an ISO 3166 alpha-2 code such as DE"
	case "unique":
		return "must not list the same product twice"
	case "safetext", "addresstext", "notetext", "postalcode", "printascii", "alphanum", "alphanumunicode", "excludesall":
		return "contains characters that are not allowed"
	default:
		return "is invalid (" + fe.Tag() + ")"
	}
}
