// Package webtest holds test helpers for code that binds request bodies
// through internal/web. The fuzz targets of the domain packages use it to
// check their own request DTOs against the binder's promises
// (docs/02-mass-assignment.md, docs/07-nested-validation.md).
package webtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Bind runs the service's binder on a POST carrying body as JSON, exactly
// as a handler's c.Bind does, and returns the bound value.
func Bind[T any](body []byte) (T, error) {
	e := echo.New()
	e.Binder = web.StrictJSONBinder{Validator: web.NewValidator()}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(string(body)))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	var dst T
	err := e.NewContext(req, httptest.NewRecorder()).Bind(&dst)
	return dst, err
}

// CheckStrictBind binds body into a T and fails t when the binder breaks
// one of its promises:
//   - a refusal is a client error (400) whose field names are short,
//     printable UTF-8, never a 500;
//   - an accepted body is valid JSON without duplicate names, and every
//     member it sent is a member of the DTO: re-encoding the bound value
//     yields a superset of the input's members, so nothing the client sent
//     was silently dropped (an ignored field is one a later change binds);
//   - the re-encoded value binds again to the same value.
//
// It returns the bound value and whether the body was accepted.
func CheckStrictBind[T any](t *testing.T, body []byte) (T, bool) {
	t.Helper()
	got, err := Bind[T](body)
	if err != nil {
		checkRefusal(t, body, err)
		return got, false
	}
	if !jsontext.Value(body).IsValid() {
		t.Fatalf("accepted a body that is not strict JSON: %q", body)
	}
	again, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("re-encode %T: %v", got, err)
	}
	if extra := ExtraMembers(body, again); len(extra) > 0 {
		t.Fatalf("accepted members the DTO does not have: %q\ninput: %q\nre-encoded: %s", extra, body, again)
	}
	round, err := Bind[T](again)
	if err != nil {
		t.Fatalf("the re-encoded value is refused: %v\ninput: %q\nre-encoded: %s", err, body, again)
	}
	if !reflect.DeepEqual(round, got) {
		t.Fatalf("the re-encoded value binds differently:\nfirst:  %#v\nsecond: %#v", got, round)
	}
	return got, true
}

func checkRefusal(t *testing.T, body []byte, err error) {
	t.Helper()
	if status := web.StatusOf(err); status != http.StatusBadRequest {
		t.Fatalf("refused with %d, want 400: %v\ninput: %q", status, err, body)
	}
	var verr *web.ValidationError
	if !errors.As(err, &verr) {
		return
	}
	if len(verr.Fields) == 0 {
		t.Fatalf("a validation error names no field: %q", body)
	}
	for _, f := range verr.Fields {
		// The name may come from the client (an unknown member): it is
		// echoed, so it must be short and printable.
		if f.Field == "" || f.Message == "" || !utf8.ValidString(f.Field) || utf8.RuneCountInString(f.Field) > 65 || strings.ContainsFunc(f.Field, isControl) {
			t.Fatalf("unsafe field error %q: %q\ninput: %q", f.Field, f.Message, body)
		}
	}
}

func isControl(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// ExtraMembers returns the JSON paths of object members in input that
// known does not have at the same place. Both are JSON texts; an input
// that is not JSON has no members.
func ExtraMembers(input, known []byte) []string {
	var in, kn any
	if json.Unmarshal(input, &in) != nil || json.Unmarshal(known, &kn) != nil {
		return nil
	}
	var out []string
	extraMembers("", in, kn, &out)
	return out
}

func extraMembers(path string, in, known any, out *[]string) {
	switch in := in.(type) {
	case map[string]any:
		k, _ := known.(map[string]any)
		for name, v := range in {
			kv, ok := k[name]
			if !ok {
				*out = append(*out, path+"/"+name)
				continue
			}
			extraMembers(path+"/"+name, v, kv, out)
		}
	case []any:
		k, _ := known.([]any)
		for i, v := range in {
			var kv any
			if i < len(k) {
				kv = k[i]
			}
			extraMembers(path+"/"+strconv.Itoa(i), v, kv, out)
		}
	}
}

// MemberNames returns the name of every object member in the JSON text
// input, at any depth; nil when input is not JSON.
func MemberNames(input []byte) []string {
	var v any
	if json.Unmarshal(input, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for name, m := range v {
				out = append(out, name)
				walk(m)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}
