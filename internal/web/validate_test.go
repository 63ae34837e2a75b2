package web_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/internal/web"
)

type profile struct {
	Name string `json:"name" validate:"safetext"`
}

func TestSafeText(t *testing.T) {
	v := web.NewValidator()
	tests := []struct {
		name  string
		value string
		ok    bool
	}{
		{name: "plain", value: "Alice Smith", ok: true},
		{name: "accents", value: "Zoë Ångström-Núñez", ok: true},
		{name: "apostrophe", value: "O'Brien", ok: true},
		{name: "greek", value: "Ελένη", ok: true},
		{name: "cjk", value: "李小龍", ok: true},
		{name: "empty", value: "", ok: true},
		{name: "NUL", value: "a\x00b", ok: false},
		{name: "newline", value: "a\nb", ok: false},
		{name: "tab", value: "a\tb", ok: false},
		{name: "escape sequence", value: "\x1b[31mred", ok: false},
		{name: "DEL", value: "a\x7fb", ok: false},
		{name: "C1 control NEL", value: "a\u0085b", ok: false},
		{name: "right-to-left override", value: "invoice\u202efdp.exe", ok: false},
		{name: "right-to-left isolate", value: "a\u2067b", ok: false},
		{name: "zero width space", value: "ad\u200bmin", ok: false},
		{name: "zero width joiner", value: "a\u200db", ok: false},
		{name: "byte order mark", value: "\ufeffadmin", ok: false},
		{name: "soft hyphen", value: "ad\u00admin", ok: false},
		{name: "invalid UTF-8", value: "a\xffb", ok: false},
		{name: "truncated UTF-8", value: "Zo\xc3", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Struct(profile{Name: tt.value})
			if tt.ok {
				if err != nil {
					t.Errorf("safetext refused %q: %v", tt.value, err)
				}
				return
			}
			var verr *web.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("safetext accepted %q (err = %v)", tt.value, err)
			}
			want := []web.FieldError{{Field: "name", Message: "contains characters that are not allowed"}}
			if diff := cmp.Diff(want, verr.Fields); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatorNotAStruct(t *testing.T) {
	err := web.NewValidator().Struct("not a struct")
	var verr *web.ValidationError
	if err == nil || errors.As(err, &verr) {
		t.Errorf("Struct(string) = %v, want a programming error, not a client validation error", err)
	}
}
