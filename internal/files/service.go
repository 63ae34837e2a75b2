// Package files stores the documents customers attach to their orders
// (docs/06-file-access.md): keys built by the server, storage that cannot
// be walked out of, short-lived signed download links, content types
// decided from the bytes, and downloads that can never render as a page.
package files

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"time"

	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Errors the handlers return; their text is what the client sees.
const (
	ErrNotFound      = web.NotFound("File not found.")
	ErrOrderFull     = web.Conflict("This order already has the maximum number of files.")
	ErrEmpty         = web.Invalid("The file is empty.")
	ErrTypeRefused   = web.Unsupported("Only PDF, PNG, JPEG and plain text files are accepted.")
	ErrLinkInvalid   = web.Forbidden("The download link is invalid or has expired.")
	errOrderNotFound = web.NotFound("Order not found.")
	// ErrTooLarge reads as the 413 of the route's body limit (echo's), so
	// both ways an upload can be too large answer alike.
	ErrTooLarge = web.TooLarge("Request Entity Too Large.")
)

// ErrBusy is the answer when MaxConcurrent uploads are already running.
const ErrBusy = web.Unavailable("Too many uploads in progress; retry shortly.")

// allowedTypes is the allowlist of content types, decided from the bytes,
// never from the client's Content-Type or file extension. HTML, SVG and
// anything else a browser could run are not on it.
func allowedTypes() map[string]string {
	return map[string]string{
		"application/pdf": "application/pdf",
		"image/png":       "image/png",
		"image/jpeg":      "image/jpeg",
		"text/plain":      "text/plain; charset=utf-8",
	}
}

// sniffBytes is how much of the file the type detection reads.
const sniffBytes = 3072

// File is a stored file's metadata.
type File struct {
	ID          uuid.UUID
	OrderID     uuid.UUID
	OwnerID     uuid.UUID
	ObjectKey   string
	Name        string
	ContentType string
	Size        int64
	SHA256      []byte
	CreatedAt   time.Time
}

// Link is a signed download URL and when it stops working.
type Link struct {
	URL       string
	ExpiresAt time.Time
}

// Limits bound uploads: their size, how many an order holds, how long a
// link lives, and how many uploads this instance runs at once (each holds
// buffers, a connection and a storage stream; the S3 backend buffers up to
// one 16 MiB part per upload).
type Limits struct {
	MaxBytes      int64
	FilesPerOrder int
	LinkTTL       time.Duration
	MaxConcurrent int
	Quota         Quota // per customer, over all their orders (gate.go)
}

// Service holds the file rules.
type Service struct {
	store   *Store
	storage Storage
	limits  Limits
	uploads chan struct{}
	now     func() time.Time
}

func NewService(store *Store, storage Storage, limits Limits) *Service {
	return &Service{
		store: store, storage: storage, limits: limits,
		uploads: make(chan struct{}, max(limits.MaxConcurrent, 1)), now: time.Now,
	}
}

// Upload streams r into storage under a fresh server-built key, then
// records it. The object is written first and completely (Put is all or
// nothing); if recording it fails, the object is deleted again. So no row
// ever points at a missing object; what remains possible is an orphan
// object if the process dies between Put and the insert
// (docs/06-file-access.md).
func (s *Service) Upload(ctx context.Context, owner, orderID uuid.UUID, name string, r io.Reader) (File, error) {
	// Refuse rather than queue: a queued upload still holds its connection.
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		return File{}, ErrBusy
	}
	// A cheap early refusal, before the body streams; the authoritative
	// check is made again under the locks when the file is recorded.
	if err := s.Admit(ctx, owner, orderID); err != nil {
		return File{}, err
	}

	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return File{}, fmt.Errorf("read upload: %w", err)
	}
	if len(head) == 0 {
		return File{}, ErrEmpty
	}
	contentType, ok := detect(head)
	if !ok {
		return File{}, fmt.Errorf("detected %s: %w", mimetype.Detect(head).String(), ErrTypeRefused)
	}

	sum := sha256.New()
	capped := &capReader{r: io.TeeReader(br, sum), left: s.limits.MaxBytes}
	key := NewObjectKey(owner)
	// Nothing is stored for a session that has ended (docs/auth.md,
	// "Revocation"). Admit's statements have checked it already, so this
	// costs nothing here; it guards the storage for any caller.
	if err := s.store.requireLiveSession(ctx); err != nil {
		return File{}, err
	}
	size, err := s.storage.Put(ctx, key, capped)
	if capped.over {
		return File{}, fmt.Errorf("file larger than %d bytes: %w", s.limits.MaxBytes, ErrTooLarge)
	}
	if err != nil {
		return File{}, err
	}
	f, err := s.store.create(ctx, File{
		ID: uuid.New(), OrderID: orderID, OwnerID: owner, ObjectKey: key, Name: name,
		ContentType: contentType, Size: size, SHA256: sumOf(sum),
	}, s.limits)
	if err != nil {
		if derr := s.storage.Delete(context.WithoutCancel(ctx), key); derr != nil {
			return File{}, errors.Join(err, fmt.Errorf("remove object after failed insert: %w", derr))
		}
		return File{}, err
	}
	return f, nil
}

// detect decides the content type from the first bytes.
func detect(head []byte) (string, bool) {
	m := mimetype.Detect(head)
	for base, stored := range allowedTypes() {
		if m.Is(base) {
			return stored, true
		}
	}
	return "", false
}

func sumOf(h hash.Hash) []byte { return h.Sum(nil) }

// capReader fails once more than left bytes have been read, so an
// oversize upload is stopped while it streams, never buffered whole.
type capReader struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		c.over = true
		return 0, errors.New("upload exceeds the size cap")
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		c.over = true
		return 0, errors.New("upload exceeds the size cap")
	}
	return n, err
}

// RequireLiveSession refuses, with postgres.ErrSessionEnded, a request
// whose session has ended, before it acts outside the database.
func (s *Service) RequireLiveSession(ctx context.Context) error {
	return s.store.requireLiveSession(ctx)
}

// ListForOrder returns the files of the caller's order.
func (s *Service) ListForOrder(ctx context.Context, owner, orderID uuid.UUID) ([]File, error) {
	return s.store.listForOrder(ctx, owner, orderID)
}

// GetForOwner returns the caller's file, or ErrNotFound.
func (s *Service) GetForOwner(ctx context.Context, owner, id uuid.UUID) (File, error) {
	return s.store.getForOwner(ctx, owner, id)
}

// Link returns a short-lived download URL for the caller's file.
func (s *Service) Link(ctx context.Context, f File) (Link, error) {
	url, err := s.storage.DownloadURL(ctx, f.ObjectKey, f.Name, f.ContentType, s.limits.LinkTTL)
	if err != nil {
		return Link{}, err
	}
	return Link{URL: url, ExpiresAt: s.now().Add(s.limits.LinkTTL).Truncate(time.Second)}, nil
}

// Delete removes the caller's file: row and object together. The row is
// deleted in a transaction that commits only once the object is gone, so a
// storage failure leaves both in place.
func (s *Service) Delete(ctx context.Context, owner, id uuid.UUID) error {
	return s.store.delete(ctx, owner, id, func(key string) error {
		return s.storage.Delete(ctx, key)
	})
}

// OpenSigned checks a signed download link and opens the file it grants.
// The backend that signed the link checks it (Storage.VerifyDownload).
func (s *Service) OpenSigned(ctx context.Context, method string, query url.Values) (File, io.ReadCloser, error) {
	key, err := s.storage.VerifyDownload(method, query)
	// The key shape is checked even under a valid signature: a second,
	// independent gate in front of storage.
	if err != nil || !ValidObjectKey(key) {
		return File{}, nil, fmt.Errorf("signed link: %w", ErrLinkInvalid)
	}
	// The row is read in the download scope, which may read file rows and
	// nothing else: no one is signed in, and the signature just verified
	// is the permission (db/migrations/00003_row_level_security.sql).
	f, err := s.store.bySignedKey(postgres.WithIdentity(ctx, postgres.SignedLink()), key)
	if err != nil {
		return File{}, nil, err
	}
	rc, err := s.storage.Open(ctx, key)
	if errors.Is(err, ErrObjectNotFound) {
		return File{}, nil, fmt.Errorf("object %s missing: %w", key, ErrNotFound)
	}
	if err != nil {
		return File{}, nil, err
	}
	return f, rc, nil
}
