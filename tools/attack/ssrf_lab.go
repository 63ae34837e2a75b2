package attack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SSRFLab is the stage of the SSRF attacks, on this machine's loopback:
//
//   - Metadata stands in for a cloud metadata service (169.254.169.254) or
//     any internal admin port: it answers every path with credentials that
//     contain Canary. It listens on 127.0.0.1, and on [::1] at the same
//     port where IPv6 is up.
//   - Public stands in for an attacker's server on the internet: it serves
//     a harmless file and redirects wherever it is told. It listens on
//     127.0.0.2 where that address can be bound (Linux), so that a
//     blocklist naming 127.0.0.1 lets it through as it would a real
//     outside host; elsewhere on 127.0.0.1.
//   - Twin serves the metadata answer on 127.0.0.1 at Public's port, the
//     target of a DNS rebinding: a name that first resolves to Public and
//     then to 127.0.0.1 reaches it with the URL unchanged.
//
// A secure server is run with IMPORT_ALLOW_HOSTS=<Public> (so the lab's
// "internet" is reachable) and must never fetch Metadata or Twin.
type SSRFLab struct {
	Canary   string
	Metadata string // host:port of the metadata server (127.0.0.1)
	Public   string // host:port of the attacker's "public" server
	Twin     string // host:port of the metadata answer at Public's port ("" if unavailable)
	servers  []*http.Server
}

// PublicFile is what Public serves at /file.txt.
const PublicFile = "a harmless public file\n"

// StartSSRFLab starts the lab's servers; Close stops them.
func StartSSRFLab() (*SSRFLab, error) {
	secret := make([]byte, 12)
	_, _ = rand.Read(secret)
	lab := &SSRFLab{Canary: "bulwark-metadata-canary-" + hex.EncodeToString(secret)}
	meta, err := lab.serve("127.0.0.1:0", lab.metadata())
	if err != nil {
		return nil, err
	}
	lab.Metadata = meta
	_, port, _ := net.SplitHostPort(meta)
	_, _ = lab.serve("[::1]:"+port, lab.metadata()) // best effort: IPv6 may be off
	pub, err := lab.serve("127.0.0.2:0", lab.public())
	if err != nil {
		if pub, err = lab.serve("127.0.0.1:0", lab.public()); err != nil {
			lab.Close()
			return nil, err
		}
	}
	lab.Public = pub
	if host, port, _ := net.SplitHostPort(pub); host != "127.0.0.1" {
		if twin, err := lab.serve("127.0.0.1:"+port, lab.metadata()); err == nil {
			lab.Twin = twin
		}
	}
	return lab, nil
}

// Close stops every server of the lab.
func (l *SSRFLab) Close() {
	for _, s := range l.servers {
		_ = s.Close()
	}
}

// MetadataURL is a URL of the metadata server under another spelling of
// its host.
func (l *SSRFLab) MetadataURL(host string) string {
	_, port, _ := net.SplitHostPort(l.Metadata)
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return "http://" + net.JoinHostPort(host, port) + "/latest/meta-data/iam/security-credentials/bulwark-role"
}

// PublicURL is a URL on the lab's public server.
func (l *SSRFLab) PublicURL(path string) string { return "http://" + l.Public + path }

func (l *SSRFLab) serve(addr string, h http.Handler) (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ssrf lab: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	l.servers = append(l.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

// metadata answers like a cloud metadata service handing out a role's
// credentials, in plain text so that the upload rules store it.
func (l *SSRFLab) metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "AccessKeyId=ASIAEXAMPLEBULWARK\nSecretAccessKey="+l.Canary+"\nToken=example\n")
	})
}

// public is the attacker's server: /file.txt, /redirect?to=URL (302),
// /hops/N (N redirects to itself, then the file), /huge (endless),
// /slow (answers after a minute).
func (l *SSRFLab) public() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /file.txt", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, PublicFile)
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound) //nolint:gosec // G710: the attacker's open redirect is the point.
	})
	mux.HandleFunc("GET /hops/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n <= 0 {
			http.Redirect(w, r, "/file.txt", http.StatusFound)
			return
		}
		http.Redirect(w, r, "/hops/"+strconv.Itoa(n-1), http.StatusFound)
	})
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		line := []byte(strings.Repeat("x", 1023) + "\n")
		for r.Context().Err() == nil {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Minute):
		case <-r.Context().Done():
		}
	})
	return mux
}

// lab returns the target's lab, or starts one for this attack alone
// (the runner's case); done stops what was started here.
func (t *Target) lab() (lab *SSRFLab, done func(), err error) {
	if t.SSRF != nil {
		return t.SSRF, func() {}, nil
	}
	lab, err = StartSSRFLab()
	if err != nil {
		return nil, nil, err
	}
	return lab, lab.Close, nil
}
