package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// upload sends content as a one-file multipart upload to the order and
// returns the status and the problem's detail.
func upload(t *testing.T, base, token, orderID string, content []byte) (int, string) {
	t.Helper()
	body, ctype := multipartBody(content)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/orders/"+orderID+"/files", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var problem struct{ Detail string }
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &problem)
	return resp.StatusCode, problem.Detail
}

// multipartBody is content as the one file of a form, and the form's type.
func multipartBody(content []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile("file", "note.txt")
	_, _ = part.Write(content)
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

func newOrder(t *testing.T, alice client) string {
	t.Helper()
	status, o := alice.do(http.MethodPost, "/api/v1/orders", orderBody)
	if status != http.StatusCreated {
		t.Fatalf("create order: %d %v", status, o)
	}
	return o["id"].(string)
}

// A cancelled or delivered order takes no more files, by upload or by
// import: 409, naming why. The import is refused before anything is
// fetched (the URL would not even resolve).
func TestClosedOrderRefusesFiles(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email)
	admin := login(t, srv, srv.Target.Admin.Email)
	text := []byte("a plain text attachment\n")

	cancelled := newOrder(t, alice)
	if status, _ := upload(t, srv.URL, alice.token, cancelled, text); status != http.StatusCreated {
		t.Fatalf("control: upload to a pending order answered %d", status)
	}
	if status, body := alice.do(http.MethodPost, "/api/v1/orders/"+cancelled+"/cancel", ""); status != http.StatusOK {
		t.Fatalf("cancel: %d %v", status, body)
	}
	delivered := newOrder(t, alice)
	for _, next := range []string{"paid", "shipped", "delivered"} {
		if status, body := admin.do(http.MethodPatch, "/api/v1/admin/orders/"+delivered, `{"status":"`+next+`"}`); status != http.StatusOK {
			t.Fatalf("move to %s: %d %v", next, status, body)
		}
	}
	for order, why := range map[string]string{cancelled: "cancelled", delivered: "delivered"} {
		status, detail := upload(t, srv.URL, alice.token, order, text)
		if status != http.StatusConflict || !strings.Contains(detail, why) {
			t.Errorf("upload to a %s order: %d %q, want 409 naming it", why, status, detail)
		}
		status, body := alice.do(http.MethodPost, "/api/v1/orders/"+order+"/files/import", `{"url":"https://files.invalid/a.txt"}`)
		if detail, _ := body["detail"].(string); status != http.StatusConflict || !strings.Contains(detail, why) {
			t.Errorf("import to a %s order: %d %v, want 409 naming it", why, status, body)
		}
	}
}

// One customer's storage is bounded over all their orders: by files (409)
// and by bytes (413), each answer naming the quota.
func TestStorageQuota(t *testing.T) {
	t.Run("files", func(t *testing.T) {
		srv := startServer(t, map[string]string{"STORAGE_QUOTA_FILES": "2"})
		alice := newcomer(t, srv)
		for i := range 3 {
			status, detail := upload(t, srv.URL, alice.token, newOrder(t, alice), []byte("text\n"))
			if i < 2 && status != http.StatusCreated {
				t.Fatalf("upload %d: %d %q", i, status, detail)
			}
			if i == 2 && (status != http.StatusConflict || !strings.Contains(detail, "quota of 2 files")) {
				t.Errorf("third file: %d %q, want 409 naming the quota of 2 files", status, detail)
			}
		}
	})
	t.Run("bytes", func(t *testing.T) {
		srv := startServer(t, map[string]string{"UPLOAD_MAX_BYTES": "2048", "STORAGE_QUOTA_BYTES": "3000"})
		alice := newcomer(t, srv)
		chunk := bytes.Repeat([]byte("quota text\n"), 150) // 1650 bytes
		if status, detail := upload(t, srv.URL, alice.token, newOrder(t, alice), chunk); status != http.StatusCreated {
			t.Fatalf("first upload: %d %q", status, detail)
		}
		status, detail := upload(t, srv.URL, alice.token, newOrder(t, alice), chunk)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(detail, "quota of 3000 bytes") {
			t.Errorf("second upload: %d %q, want 413 naming the quota of 3000 bytes", status, detail)
		}
	})
}

// newcomer registers and signs in an account with no files yet.
func newcomer(t *testing.T, srv *server) client {
	t.Helper()
	account := map[string]string{"email": "quota@example.net", "password": "a-long-enough-password", "name": "Quota"}
	if status := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/auth/register", "", account, nil); status != http.StatusCreated {
		t.Fatalf("register: %d", status)
	}
	return client{t: t, base: srv.URL, token: signIn(t, srv.URL, account["email"], account["password"]).Access}
}
