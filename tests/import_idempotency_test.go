package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// An import is a write a client retries (issue 17): the same
// Idempotency-Key with the same body attaches the file once and answers
// the first answer again; with another body it is refused (422); a burst of
// copies of one request attaches one file, whatever the interleaving.
func TestImportIsIdempotent(t *testing.T) {
	lab := startLab(t)
	srv := startServer(t, ssrfEnv(t, lab, nil))
	im := newImporter(t, srv)
	send := func(key, url string) (int, http.Header, []byte) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"url": url})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/v1/orders/"+im.order+"/files/import", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+im.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	fileID := func(body []byte) string {
		var f struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &f)
		return f.ID
	}
	files := func() int { return len(im.storedContents()) }

	before := files()
	key := uuid.NewString()
	status, _, first := send(key, lab.PublicURL("/file.txt"))
	if status != http.StatusCreated {
		t.Fatalf("import: %d %s", status, first)
	}
	status, header, again := send(key, lab.PublicURL("/file.txt"))
	if status != http.StatusCreated || fileID(again) != fileID(first) || header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the retry: %d %s (replayed %q), want the first answer again", status, again, header.Get("Idempotent-Replayed"))
	}
	if status, _, body := send(key, lab.PublicURL("/hops/0")); status != http.StatusUnprocessableEntity {
		t.Errorf("the key with another URL: %d %s, want 422", status, body)
	}
	if n := files(); n != before+1 {
		t.Fatalf("%d files after one import and its retries, want %d", n, before+1)
	}

	// Copies of one request, together: one runs, the others are refused
	// while it is in flight (409), shed (503) or get its answer.
	key = uuid.NewString()
	const copies = 8
	var wg sync.WaitGroup
	statuses := make([]int, copies)
	for i := range copies {
		wg.Go(func() { statuses[i], _, _ = send(key, lab.PublicURL("/file.txt")) })
	}
	wg.Wait()
	for _, s := range statuses {
		if s != http.StatusCreated && s != http.StatusConflict && s != http.StatusServiceUnavailable {
			t.Errorf("a copy answered %d; statuses %v", s, statuses)
		}
	}
	if n := files(); n != before+2 {
		t.Errorf("%d files after %d parallel copies of one import, want %d; statuses %v", n, copies, before+2, statuses)
	}
}
