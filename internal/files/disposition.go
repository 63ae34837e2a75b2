package files

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ContentDisposition returns the header value that makes every download an
// attachment, never an inline page, named after the stored filename. The
// name goes in twice (RFC 6266): filename* carries the exact UTF-8 name
// percent-encoded (RFC 8187), so no byte of it can end the header value or
// start a parameter; filename is an ASCII fallback with every risky byte
// replaced, for clients that ignore filename*.
func ContentDisposition(filename string) string {
	return `attachment; filename="` + asciiFallback(filename) + `"; filename*=UTF-8''` + encodeRFC8187(filename)
}

func asciiFallback(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r > unicode.MaxASCII, r < 0x20, r == 0x7f, strings.ContainsRune(`"\/;%`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// encodeRFC8187 percent-encodes every byte that is not an attr-char.
func encodeRFC8187(name string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isAttrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// maxNameBytes caps the stored filename (the files table allows 255).
const maxNameBytes = 200

// NormalizeFilename turns the client's filename into harmless metadata: the
// last path element only (both / and \ count as separators), no control or
// invisible formatting characters, no leading dots or trailing spaces and
// dots, valid UTF-8, at most maxNameBytes. It is only ever displayed and
// put in Content-Disposition; it never becomes part of a storage key.
func NormalizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	// Dots and spaces are trimmed together, of every kind: trimming one
	// and then the other left ". x" as " x", a name that changed again when
	// normalised twice (found by FuzzFilename).
	name = strings.TrimFunc(name, isDotOrSpace)
	for len(name) > maxNameBytes {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	// The cut can expose a space or dot at the end again.
	name = strings.TrimRightFunc(name, isDotOrSpace)
	if name == "" {
		return "file"
	}
	return name
}

func isDotOrSpace(r rune) bool { return r == '.' || unicode.IsSpace(r) }
