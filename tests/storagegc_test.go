package tests

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/app"
)

// objectKeys lists the object files under the storage directory.
func objectKeys(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(dir, "owners"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	return out
}

// A server killed between storing an object and recording it leaves an
// orphan, and so does a cascade; `api storage-gc` finds both (dry run:
// listed, kept) and with -apply deletes them, never a recorded object.
func TestStorageGCFindsWhatAKilledUploadLeft(t *testing.T) {
	p := startProcess(t, buildAPI(t), nil)
	dir := p.Env["FILE_STORAGE_DIR"]
	getenv := func(k string) string { return p.Env[k] }
	ctx := t.Context()
	super, err := pgx.Connect(ctx, p.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = super.Close(context.Background()) }()
	exec := func(sql string) {
		t.Helper()
		if _, err := super.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	alice := signIn(t, p.URL, "alice@example.com", "alice-demo-password")
	order := newOrder(t, client{t: t, base: p.URL, token: alice.Access})
	if status, detail := upload(t, p.URL, alice.Access, order, []byte("kept\n")); status != http.StatusCreated {
		t.Fatalf("control upload: %d %q", status, detail)
	}
	recorded := objectKeys(t, dir)

	// The fault: the insert of the next file's row hangs, so the object is
	// stored and not yet recorded when the process is killed (SIGKILL: no
	// cleanup runs).
	exec(`CREATE FUNCTION hang() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$`)
	exec(`CREATE TRIGGER hang BEFORE INSERT ON files FOR EACH ROW EXECUTE FUNCTION hang()`)
	go func() {
		// Not upload(): the request dies with the process, and t.Fatal
		// belongs to the test's goroutine.
		body, ctype := multipartBody([]byte("stored, never recorded\n"))
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, p.URL+"/api/v1/orders/"+order+"/files", body)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+alice.Access)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(objectKeys(t, dir)) <= len(recorded) {
		if time.Now().After(deadline) {
			t.Fatal("the hung upload never stored its object")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	exec(`DROP TRIGGER hang ON files`)

	// The cascade: an order deleted by the owner takes its rows, not its
	// objects. Alice's seeded order has files.
	cascaded := strings.Join(objectKeys(t, dir), "\n")
	exec(`DELETE FROM orders WHERE id = '` + aliceOrder + `'`)
	var left int
	if err := super.QueryRow(ctx, `SELECT count(*) FROM files`).Scan(&left); err != nil {
		t.Fatal(err)
	}

	gc := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := app.Run(ctx, append([]string{"storage-gc", "-min-age", "0s"}, args...), getenv, &out, &out); err != nil {
			t.Fatalf("storage-gc %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	var orphans []string
	for _, key := range objectKeys(t, dir) {
		var n int
		if err := super.QueryRow(ctx, `SELECT count(*) FROM files WHERE object_key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			orphans = append(orphans, key)
		}
	}
	if len(orphans) < 2 {
		t.Fatalf("fixture: want the killed upload's object and the cascade's, found orphans %q among\n%s", orphans, cascaded)
	}
	dry := gc()
	for _, key := range orphans {
		if !strings.Contains(dry, "orphan (dry run; -apply deletes it) "+key) {
			t.Errorf("dry run does not list %s:\n%s", key, dry)
		}
		if _, err := os.Stat(filepath.Join(dir, key)); err != nil {
			t.Errorf("dry run removed %s", key)
		}
	}
	applied := gc("-apply")
	for _, key := range orphans {
		if !strings.Contains(applied, "deleted "+key) {
			t.Errorf("-apply does not report deleting %s:\n%s", key, applied)
		}
		if _, err := os.Stat(filepath.Join(dir, key)); !os.IsNotExist(err) {
			t.Errorf("-apply left %s: %v", key, err)
		}
	}
	if got := len(objectKeys(t, dir)); got != left {
		t.Errorf("after -apply %d objects are stored, %d recorded", got, left)
	}
	if again := gc(); strings.Contains(again, "orphan (dry run") {
		t.Errorf("a second run still finds orphans:\n%s", again)
	}
}
