package files

import (
	"encoding/hex"
	"time"
)

// fileResponse is a file as its owner sees it. The object key is not in
// it: clients never name storage locations, so they have nothing to tamper
// with (docs/06-file-access.md).
type fileResponse struct {
	ID          string    `json:"id"`
	OrderID     string    `json:"order_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	SizeBytes   int64     `json:"size_bytes"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
}

type fileListResponse struct {
	Items []fileResponse `json:"items"`
}

type linkResponse struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func toFileResponse(f File) fileResponse {
	return fileResponse{
		ID: f.ID.String(), OrderID: f.OrderID.String(), Name: f.Name, ContentType: f.ContentType,
		SizeBytes: f.Size, SHA256: hex.EncodeToString(f.SHA256), CreatedAt: f.CreatedAt,
	}
}

func toFileListResponse(files []File) fileListResponse {
	out := fileListResponse{Items: make([]fileResponse, 0, len(files))}
	for _, f := range files {
		out.Items = append(out.Items, toFileResponse(f))
	}
	return out
}
