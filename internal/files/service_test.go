package files

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader hands out at most n bytes per Read, as a slow or adversarial
// client's body would.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// tallyReader counts the bytes read through it.
type tallyReader struct {
	r io.Reader
	n int
}

func (t *tallyReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += n
	return n, err
}

// readInChunks drains r with a buffer of size buf and returns what came
// out and the first error other than io.EOF.
func readInChunks(t *testing.T, r io.Reader, buf int) ([]byte, error) {
	t.Helper()
	var out []byte
	p := make([]byte, buf)
	for range 1 << 20 { // bounded, so a reader that never ends fails the test
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
	t.Fatal("reader never ended")
	return nil, nil
}

func TestCapReader(t *testing.T) {
	const limit = 1000
	source := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"chunks of 7", func(r io.Reader) io.Reader { return chunkReader{r, 7} }},
		{"chunks of 333", func(r io.Reader) io.Reader { return chunkReader{r, 333} }},
		{"data with EOF", iotest.DataErrReader},
	}
	sizes := []struct {
		name string
		size int
		over bool
	}{
		{"empty", 0, false},
		{"under the cap", limit - 1, false},
		{"exactly the cap", limit, false},
		{"one byte over", limit + 1, true},
		{"far over", len(source), true},
	}
	for _, rd := range readers {
		for _, sz := range sizes {
			for _, buf := range []int{1, 5, 13, 512, 4096} {
				t.Run(fmt.Sprintf("%s/%s/buf %d", rd.name, sz.name, buf), func(t *testing.T) {
					src := &tallyReader{r: rd.wrap(bytes.NewReader(source[:sz.size]))}
					c := &capReader{r: src, left: limit}
					got, err := readInChunks(t, c, buf)
					if len(got) > limit {
						t.Errorf("passed %d bytes, over the cap of %d", len(got), limit)
					}
					// One byte past the cap is all it takes to know; an
					// attacker's body is not read further.
					if src.n > limit+1 {
						t.Errorf("pulled %d bytes from the source, want at most %d", src.n, limit+1)
					}
					if c.over != sz.over {
						t.Errorf("over = %t, want %t", c.over, sz.over)
					}
					if sz.over {
						if err == nil {
							t.Error("no error past the cap")
						}
						return
					}
					if err != nil {
						t.Fatalf("error within the cap: %v", err)
					}
					if !bytes.Equal(got, source[:sz.size]) {
						t.Errorf("passed %d bytes that differ from the %d sent", len(got), sz.size)
					}
				})
			}
		}
	}
}

// Once over, a capReader stays over: a caller that retries after the
// error gets no more bytes.
func TestCapReaderStaysOver(t *testing.T) {
	c := &capReader{r: strings.NewReader("abcdef"), left: 3}
	if _, err := io.ReadAll(c); err == nil || !c.over {
		t.Fatalf("ReadAll: err %v, over %t; want an error and over", err, c.over)
	}
	for range 3 {
		if n, err := c.Read(make([]byte, 10)); n != 0 || err == nil {
			t.Fatalf("read after going over: %d bytes, %v", n, err)
		}
	}
}

// A full body at the cap also satisfies the io.Reader contract checks of
// testing/iotest.
func TestCapReaderAtCapIsAWellBehavedReader(t *testing.T) {
	content := bytes.Repeat([]byte("x"), 777)
	if err := iotest.TestReader(&capReader{r: bytes.NewReader(content), left: 777}, content); err != nil {
		t.Fatal(err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		head   string
		want   string
		wantOK bool
	}{
		{"PDF", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf", true},
		{"PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02", "image/png", true},
		{"JPEG", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", "image/jpeg", true},
		{"ASCII text", "Delivery notes: leave at the door.\n", "text/plain; charset=utf-8", true},
		{"UTF-8 text", "Grüße aus Köln, 東京, ☕\n", "text/plain; charset=utf-8", true},
		{"HTML", "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "", false},
		{"HTML after whitespace", "\n\n   <html><script>alert(1)</script></html>", "", false},
		{"bare script tag", "<script>alert(document.cookie)</script>", "", false},
		{"SVG", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`, "", false},
		{"SVG with XML declaration", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "", false},
		{"XHTML", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><script>alert(1)</script></body></html>`, "", false},
		{"PE executable", "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00", "", false},
		{"ELF executable", "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00", "", false},
		{"ZIP", "PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00", "", false},
		{"GIF", "GIF89a\x01\x00\x01\x00\x80\x00\x00", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := detect([]byte(tt.head))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("detect(%q) = %q, %t; want %q, %t", tt.head, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
