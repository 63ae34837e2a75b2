package attack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// The request-body mutations of the body/* cases, derived from the request
// schema and the schema of the success answer. Each one adds or changes
// one member of a valid body, and names the errors[].field the refusal
// must carry: items[0].quantity, shipping_address.battery_unknown.

// bodyMutation is one change to a valid body.
type bodyMutation struct {
	name  string                    // what the case is called: unknown/role, read-only/total_cents
	field string                    // the errors[].field the 400 must name
	apply func(map[string]any) bool // false when the body has no place for it
}

// unknownNames are members no request schema should have: a made-up one,
// then the privilege fields mass assignment goes for.
func unknownNames() []string { return []string{"battery_unknown", "role", "owner_id"} }

// bodyMutations lists the mutations of a body with schema req whose
// success answer has schema resp:
//   - unknown: a member neither schema has;
//   - read-only: a member the answer has and the request must not set (id,
//     status, total_cents), at the top and inside nested objects;
//   - case: a known member with its name's case changed (Note, NOTE), in
//     place of the member;
//   - nested-unknown: an unknown member inside each nested object;
//   - wrong-type: each member, top-level and nested, with a value of
//     another JSON type.
//
// few keeps one of each (every read-only member still), for routes whose
// rate limit allows only a handful of requests a minute.
func bodyMutations(req, resp *openapi3.Schema, few bool) []bodyMutation {
	var out []bodyMutation
	names := sortedProps(req)
	var unknown []string
	for _, n := range unknownNames() {
		if !hasProp(req, n) && !hasProp(resp, n) {
			unknown = append(unknown, n)
		}
	}
	if few {
		unknown = unknown[:min(1, len(unknown))]
	}
	for _, n := range unknown {
		out = append(out, setMember("unknown/"+n, nil, n, unknownValue(n)))
	}

	for _, n := range sortedProps(resp) {
		if !hasProp(req, n) {
			out = append(out, setMember("read-only/"+n, nil, n, sample(propSchema(resp, n), 1, 0)))
		}
	}
	for _, n := range names {
		inner, array := nested(propSchema(req, n))
		respInner, _ := nested(propSchema(resp, n))
		if inner == nil || respInner == nil {
			continue
		}
		for _, sub := range sortedProps(respInner) {
			if !hasProp(inner, sub) {
				out = append(out, setMember("read-only/"+fieldPath(n, array, sub), &parent{n, array}, sub, sample(propSchema(respInner, sub), 1, 0)))
			}
		}
	}

	caseNames := names
	if few {
		caseNames = names[:min(1, len(names))]
	}
	for i, n := range caseNames {
		variants := []string{titleCase(n)}
		if i == 0 && !few {
			variants = append(variants, strings.ToUpper(n))
		}
		for _, v := range slices.Compact(variants) {
			if v != n {
				out = append(out, renameMember("case/"+v, n, v, sample(propSchema(req, n), 1, 0)))
			}
		}
	}

	for _, n := range names {
		if inner, array := nested(propSchema(req, n)); inner != nil && !few {
			out = append(out, setMember("nested-unknown/"+fieldPath(n, array, "battery_unknown"), &parent{n, array}, "battery_unknown", 1))
		}
	}

	wrongNames := names
	if few {
		wrongNames = names[:min(1, len(names))]
	}
	for _, n := range wrongNames {
		out = append(out, setMember("wrong-type/"+n, nil, n, wrongType(propSchema(req, n))))
		inner, array := nested(propSchema(req, n))
		if inner == nil || few {
			continue
		}
		for _, sub := range sortedProps(inner) {
			out = append(out, setMember("wrong-type/"+fieldPath(n, array, sub), &parent{n, array}, sub, wrongType(propSchema(inner, sub))))
		}
	}
	return out
}

// parent is the nested object a mutation goes into: body[name], or
// body[name][0] for an array of objects.
type parent struct {
	name  string
	array bool
}

func fieldPath(name string, array bool, sub string) string {
	if array {
		return name + "[0]." + sub
	}
	return name + "." + sub
}

// setMember sets member (inside in, when given) to v; the refusal must
// name its path.
func setMember(name string, in *parent, member string, v any) bodyMutation {
	field := member
	if in != nil {
		field = fieldPath(in.name, in.array, member)
	}
	return bodyMutation{name: name, field: field, apply: func(body map[string]any) bool {
		target := body
		if in != nil {
			if target = child(body, *in); target == nil {
				return false
			}
		}
		target[member] = v
		return true
	}}
}

// renameMember sends member under another name (its case changed): a
// binder that matches names case-insensitively would take it.
func renameMember(name, member, to string, fallback any) bodyMutation {
	return bodyMutation{name: name, field: to, apply: func(body map[string]any) bool {
		v, ok := body[member]
		if !ok {
			v = fallback
		}
		delete(body, member)
		body[to] = v
		return true
	}}
}

func child(body map[string]any, p parent) map[string]any {
	v := body[p.name]
	if p.array {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil
		}
		v = list[0]
	}
	m, _ := v.(map[string]any)
	return m
}

func unknownValue(name string) any {
	switch name {
	case "role":
		return "admin"
	case "owner_id":
		return randomUUID()
	}
	return 1
}

// wrongType is a value of another JSON type than the schema's.
func wrongType(s *openapi3.Schema) any {
	switch schemaType(s) {
	case openapi3.TypeString:
		return 12345
	case openapi3.TypeInteger, openapi3.TypeNumber:
		return "12"
	case openapi3.TypeBoolean:
		return "true"
	case openapi3.TypeArray:
		return map[string]any{"battery": 1}
	case openapi3.TypeObject:
		return "battery"
	}
	return []any{}
}

// nested is the object schema inside a property: the property itself, or
// its array's items; array says which.
func nested(s *openapi3.Schema) (inner *openapi3.Schema, array bool) {
	switch schemaType(s) {
	case openapi3.TypeObject:
		if len(s.Properties) > 0 {
			return s, false
		}
	case openapi3.TypeArray:
		if s.Items != nil && schemaType(s.Items.Value) == openapi3.TypeObject && len(s.Items.Value.Properties) > 0 {
			return s.Items.Value, true
		}
	}
	return nil, false
}

func sortedProps(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func hasProp(s *openapi3.Schema, name string) bool {
	return s != nil && s.Properties[name] != nil
}

func propSchema(s *openapi3.Schema, name string) *openapi3.Schema {
	if s == nil || s.Properties[name] == nil {
		return nil
	}
	return s.Properties[name].Value
}

// titleCase upper-cases the first letter: note → Note.
func titleCase(s string) string {
	r := []rune(s)
	for i, c := range r {
		if unicode.IsLetter(c) {
			r[i] = unicode.ToUpper(c)
			break
		}
	}
	return string(r)
}

func marshalBody(body map[string]any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encode the body: %w", err)
	}
	return string(b), nil
}

// validValue reports whether the parameter's schema allows v, so that the
// server may serve it: a limit of "1" is a limit. A uuid must be one.
func validValue(p *openapi3.Parameter, v string) bool {
	if p.Schema == nil || p.Schema.Value == nil {
		return false
	}
	s := p.Schema.Value
	if s.Format == "uuid" && !isUUID(v) {
		return false
	}
	var value any = v
	if t := schemaType(s); t == openapi3.TypeInteger || t == openapi3.TypeNumber {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		value = n
	}
	return s.VisitJSON(value, openapi3.EnableJSONSchema2020()) == nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
