package files

import (
	"fmt"
	"math/rand/v2"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalizeFilename(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain name kept", "report.pdf", "report.pdf"},
		{"non-ASCII kept", "résumé 2024.pdf", "résumé 2024.pdf"},
		{"slash traversal", "../../etc/passwd", "passwd"},
		{"backslash traversal", `..\..\win.ini`, "win.ini"},
		{"mixed separators", `a/b\c/..\d.txt`, "d.txt"},
		{"absolute path", "/abs/x", "x"},
		{"windows path", `C:\Users\eve\x.txt`, "x.txt"},
		{"trailing separator", "dir/", "file"},
		{"NUL removed", "a\x00b.txt", "ab.txt"},
		{"CR LF and tab removed", "a\r\nb\t.txt", "ab.txt"},
		{"DEL and C1 control removed", "a\x7fb\u0085c", "abc"},
		{"bidi override removed", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"zero-width space removed", "a\u200Bb.pdf", "ab.pdf"},
		{"byte order mark removed", "\uFEFFa.pdf", "a.pdf"},
		{"leading dot removed", ".htaccess", "htaccess"},
		{"leading dots removed", "...x", "x"},
		{"leading dot behind an invisible character", "\u200B.htaccess", "htaccess"},
		{"leading dot behind a control character", "\x01.env", "env"},
		{"leading space then dots", "  ..bashrc", "bashrc"},
		{"trailing dots and spaces removed", "x.pdf. . .", "x.pdf"},
		{"trailing spaces removed", "x.pdf   ", "x.pdf"},
		{"invalid UTF-8 dropped", "a\xffb\xc3.txt", "ab.txt"},
		{"lone continuation bytes dropped", "\x80\xbfok", "ok"},
		{"encoded surrogate dropped", "a\xed\xa0\x80b", "ab"},
		{"empty", "", "file"},
		{"single dot", ".", "file"},
		{"double dot", "..", "file"},
		{"only dots", ".....", "file"},
		{"only dots and spaces", " . . ", "file"},
		{"only separators", "///", "file"},
		{"only controls", "\x00\x01\x1f", "file"},
		{"only invisible", "\u200B\u202E", "file"},
		{"capped at 200 bytes", strings.Repeat("a", 250), strings.Repeat("a", 200)},
		{"cap does not split a rune", strings.Repeat("é", 150), strings.Repeat("é", 100)},
		{"cap drops a rune that would straddle it", strings.Repeat("a", 199) + "é", strings.Repeat("a", 199)},
		{"cap drops a 4-byte rune that would straddle it", strings.Repeat("a", 198) + "😀", strings.Repeat("a", 198)},
		// The cap is applied after the trailing trim; what the cut exposes
		// must be trimmed too, or the name ends in a space or a dot.
		{"cap does not leave a trailing space", strings.Repeat("a", 199) + " .pdf", strings.Repeat("a", 199)},
		{"cap does not leave trailing dots", strings.Repeat("a", 198) + "...pdf", strings.Repeat("a", 198)},
		// Regression (FuzzFilename, testdata/fuzz/FuzzFilename/11dc10fefea5db8c):
		// spaces were trimmed before dots, so a space behind a leading dot
		// stayed, and normalising the result changed it again.
		{"space behind a leading dot", ". 000.txt", "000.txt"},
		{"other space behind a leading dot", ".\u00a0x.txt", "x.txt"},
		{"other space before a trailing dot", "x.txt\u00a0.", "x.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeFilename(tt.in); got != tt.want {
				t.Errorf("NormalizeFilename(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// filenameProblems lists every way s breaks the promises NormalizeFilename
// makes; nil means none.
func filenameProblems(s string) []string {
	var problems []string
	if s == "" {
		problems = append(problems, "empty")
	}
	if !utf8.ValidString(s) {
		problems = append(problems, "invalid UTF-8")
	}
	if len(s) > maxNameBytes {
		problems = append(problems, fmt.Sprintf("%d bytes, over %d", len(s), maxNameBytes))
	}
	if strings.HasPrefix(s, ".") {
		problems = append(problems, "starts with a dot")
	}
	if strings.ContainsAny(s, `/\`) {
		problems = append(problems, "contains a path separator")
	}
	for _, r := range s {
		if r == 0 || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			problems = append(problems, fmt.Sprintf("contains %U", r))
		}
	}
	return problems
}

// The checker itself must see each kind of bad name, or the property test
// below could pass while checking nothing.
func TestFilenameProblemsDetectsBadNames(t *testing.T) {
	for _, bad := range []string{
		"", "a\xff", strings.Repeat("a", maxNameBytes+1), ".x", "a/b", `a\b`, "a\x00", "a\nb", "a\u202Eb", "a\u200Bb",
	} {
		if filenameProblems(bad) == nil {
			t.Errorf("filenameProblems(%q) found nothing", bad)
		}
	}
	if p := filenameProblems("ok.pdf"); p != nil {
		t.Errorf("filenameProblems(ok.pdf) = %v", p)
	}
}

// randomName builds a byte string weighted towards the pieces that break
// filenames: separators, dots, spaces, controls, invisible formatting
// characters, multi-byte runes and bytes that are not UTF-8 at all.
func randomName(rng *rand.Rand) string {
	pieces := []string{
		"/", `\`, ".", "..", " ", "\x00", "\r", "\n", "\t", "\x7f", "\u0085",
		"\u202E", "\u200B", "\uFEFF", "\u2066", "é", "😀", "\xff", "\xc3", "\xe2\x80", "\x80",
		"a", "Z", "0", "%", `"`, ";", "=", "'", "+",
	}
	var b strings.Builder
	for range rng.IntN(300) {
		if rng.IntN(4) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
			continue
		}
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func TestNormalizeFilenameProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2)) // fixed seed: a failure reproduces
	for i := range 5000 {
		in := randomName(rng)
		out := NormalizeFilename(in)
		if p := filenameProblems(out); p != nil {
			t.Fatalf("case %d: NormalizeFilename(%q) = %q: %s", i, in, out, strings.Join(p, "; "))
		}
	}
}

// dispositionPattern is the whole grammar ContentDisposition may produce:
// a quoted ASCII fallback without quotes, backslashes, semicolons, slashes
// or percent signs, then an RFC 8187 ext-value made of attr-chars and
// upper-case percent-encoded bytes only.
var dispositionPattern = regexp.MustCompile(
	"^attachment; filename=\"([ !#$&'()*+,\\-.0-:<-\\[\\]-~]*)\"; filename\\*=UTF-8''((?:[A-Za-z0-9!#$&+\\-.^_`|~]|%[0-9A-F]{2})*)$")

// dispositionProblems checks value as the Content-Disposition of a file
// named name.
func dispositionProblems(value, name string) []string {
	var problems []string
	if !strings.HasPrefix(value, "attachment;") {
		problems = append(problems, "not an attachment")
	}
	for i := range len(value) {
		if c := value[i]; c < 0x20 || c >= 0x7f {
			problems = append(problems, fmt.Sprintf("raw byte %#02x at %d", c, i))
		}
	}
	m := dispositionPattern.FindStringSubmatch(value)
	if m == nil {
		return append(problems, "does not match the grammar")
	}
	if decoded, err := url.PathUnescape(m[2]); err != nil || decoded != name {
		problems = append(problems, fmt.Sprintf("filename* decodes to %q (%v)", decoded, err))
	}
	return problems
}

func TestDispositionProblemsDetectsBadValues(t *testing.T) {
	for _, bad := range []struct{ value, name string }{
		{`inline; filename="a"; filename*=UTF-8''a`, "a"},
		{"attachment; filename=\"a\r\nb\"; filename*=UTF-8''a%0D%0Ab", "a\r\nb"},
		{`attachment; filename="a"b"; filename*=UTF-8''a%22b`, `a"b`},
		{`attachment; filename="a;b"; filename*=UTF-8''a%3Bb`, "a;b"},
		{`attachment; filename="a\b"; filename*=UTF-8''a%5Cb`, `a\b`},
		{`attachment; filename="é"; filename*=UTF-8''%C3%A9`, "é"},
		{`attachment; filename="a_b"; filename*=UTF-8''a b`, "a b"},
		{`attachment; filename="a_b"; filename*=UTF-8''a%20c`, "a b"},
		{`attachment; filename="a_b"; filename*=UTF-8''a%2fb`, "a/b"},
	} {
		if dispositionProblems(bad.value, bad.name) == nil {
			t.Errorf("dispositionProblems(%q) found nothing", bad.value)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		name         string
		filename     string
		wantFallback string
	}{
		{"plain", "report.pdf", "report.pdf"},
		{"spaces", "my annual report.pdf", "my annual report.pdf"},
		{"double quotes", `say "hi".pdf`, "say _hi_.pdf"},
		{"single quote", "it's.pdf", "it's.pdf"},
		{"semicolon", "a;b.pdf", "a_b.pdf"},
		{"parameter smuggling", `a.pdf"; filename="evil.html`, "a.pdf__ filename=_evil.html"},
		{"backslash and slash", `a\b/c.pdf`, "a_b_c.pdf"},
		{"percent", "100%25.txt", "100_25.txt"},
		{"CRLF", "a\r\nb.pdf", "a__b.pdf"},
		{"header injection", "a.pdf\r\nSet-Cookie: x=1", "a.pdf__Set-Cookie: x=1"},
		{"NUL and DEL", "a\x00b\x7f.pdf", "a_b_.pdf"},
		{"accents", "résumé.pdf", "r_sum_.pdf"},
		{"emoji", "😀 party.png", "_ party.png"},
		{"bidi override", "a\u202Efdp.exe", "a_fdp.exe"},
		{"attr-chars", "!#$&+-.^_`|~", "!#$&+-.^_`|~"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ContentDisposition(tt.filename)
			if p := dispositionProblems(got, tt.filename); p != nil {
				t.Fatalf("ContentDisposition(%q) = %q: %s", tt.filename, got, strings.Join(p, "; "))
			}
			if fallback := dispositionPattern.FindStringSubmatch(got)[1]; fallback != tt.wantFallback {
				t.Errorf("fallback %q, want %q", fallback, tt.wantFallback)
			}
			// A second, independent reader: Go's own RFC 2231 decoder must
			// see one disposition and the exact name.
			disposition, params, err := mime.ParseMediaType(got)
			if err != nil {
				t.Fatalf("mime.ParseMediaType(%q): %v", got, err)
			}
			if disposition != "attachment" || params["filename"] != tt.filename {
				t.Errorf("mime.ParseMediaType: %q, filename %q; want attachment, %q", disposition, params["filename"], tt.filename)
			}
		})
	}
}

// Whatever the uploader named the file, normalized or not, the header value
// stays within the grammar and names it exactly.
func TestContentDispositionProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4)) // fixed seed: a failure reproduces
	for i := range 5000 {
		name := randomName(rng)
		if i%2 == 0 {
			name = NormalizeFilename(name)
		}
		got := ContentDisposition(name)
		if p := dispositionProblems(got, name); p != nil {
			t.Fatalf("case %d: ContentDisposition(%q) = %q: %s", i, name, got, strings.Join(p, "; "))
		}
	}
}
