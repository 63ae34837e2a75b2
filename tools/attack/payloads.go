package attack

import "slices"

// The payload lists of the catalogue, for tests that are not attacks. The
// fuzz targets next to the parsers (go test -fuzz, `make fuzz`) start their
// corpora from these, so a payload added to an attack is also a seed of the
// fuzzer that explores around it. Each call returns a fresh slice.

// SQLInjectionValues are the shared injection and pg_sleep values that the
// sqli/* attacks send in every list parameter.
func SQLInjectionValues() []string { return slices.Concat(injectionValues(), sleepValues()) }

// SortNearMisses, StatusNearMisses and LimitNearMisses are the values
// that look like a valid sort, status or limit and are not.
func SortNearMisses() []string   { return sortValues() }
func StatusNearMisses() []string { return statusValues() }
func LimitNearMisses() []string  { return limitValues() }

// ListQueries are the raw query strings, exactly as sent, of the sqli/sort,
// sqli/status and sqli/limit attacks: encoded and unencoded injections,
// near misses and parameter pollution.
func ListQueries() []string {
	var out []string
	for _, p := range slices.Concat(sortCorpus(), statusCorpus(), limitCorpus()) {
		out = append(out, p.query)
	}
	return out
}

// TraversalFilenames are the upload filenames of files/traversal-filename.
func TraversalFilenames() []string { return traversalFilenames() }

// TraversalSegments are the {id} path segments of files/traversal-path;
// own is an id of the caller's that some segments start from.
func TraversalSegments(own string) []string { return traversalSegments(own) }

// TraversalKeys are the object keys of files/traversal-signed-key, derived
// from the real key of a signed link.
func TraversalKeys(key string) []string { return traversalKeys(key) }

// PatchMeBodies are the PATCH /users/me bodies of the mass-assignment/*
// attacks; every one must be refused.
func PatchMeBodies() []string {
	var out []string
	for _, c := range patchMeCases() {
		out = append(out, c.body)
	}
	return out
}

// ValidOrderBody is the POST /orders body the mass-assignment/order-*
// attacks start from, with nothing added: a body the service accepts.
func ValidOrderBody() string { return orderCreateBody(nil, nil) }

// CreateOrderBodies are the POST /orders bodies of the mass-assignment/*
// attacks: a valid order plus fields no customer may write.
func CreateOrderBodies() []string {
	var out []string
	for _, c := range orderCreateCases() {
		out = append(out, orderCreateBody(c.extra, c.itemExtra))
	}
	return out
}

// UpdateOrderBody is the PATCH /orders/{id} body of
// mass-assignment/order-patch-status.
func UpdateOrderBody() string { return patchOrderBody }

// RegisterBody is the POST /auth/register body of
// mass-assignment/role-on-register for email.
func RegisterBody(email string) string { return registerBody(email) }
