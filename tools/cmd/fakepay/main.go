// Command fakepay runs the fake payment provider (tools/fakepay) on
// loopback, for a demo or a workshop of docs/11-third-party-data.md:
//
//	go run ./tools/cmd/fakepay                       # 127.0.0.1:8090, webhooks to the demo on :8080, the dev secret
//	PAYMENT_PROVIDER_URL=http://127.0.0.1:8090 go run ./cmd/api serve
//
// A customer's POST /api/v1/orders/{id}/pay returns a checkout_url on it;
// opening that page and pressing Pay (or POSTing to …/pay) sends the signed
// payment.succeeded webhook to the service.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/tools/fakepay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		_, _ = fmt.Fprintln(os.Stderr, "fakepay:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakepay", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "loopback `host:port` to serve on")
	webhook := fs.String("webhook", "http://127.0.0.1:8080/api/v1/webhooks/payments", "the service's webhook `URL`")
	secretsFlag := fs.String("secrets", "", "webhook signing secrets as `kid:base64url[,…]` (PAYMENT_WEBHOOK_SECRETS of the service); \"dev\" is the published development secret; defaults to $FAKEPAY_SECRETS, then dev")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: the fake provider listens on loopback only", *addr)
	}
	raw := *secretsFlag
	if raw == "" {
		raw = getenv("FAKEPAY_SECRETS")
	}
	if raw == "" || raw == "dev" {
		raw = config.DevPaymentWebhookSecret
	}
	secrets, err := parseSecrets(raw)
	if err != nil {
		return err
	}
	p, err := fakepay.Start(*addr, *webhook, secrets...)
	if err != nil {
		return err
	}
	defer p.Close()
	_, _ = fmt.Fprintf(stdout, "fakepay: serving on %s, webhooks to %s, signed with %d secret(s)\n", p.URL, *webhook, len(secrets))
	<-ctx.Done()
	return nil
}

// parseSecrets reads kid:base64url[,kid:base64url]; the key ids are the
// service's business, the provider only signs with each secret.
func parseSecrets(raw string) ([][]byte, error) {
	var out [][]byte
	for item := range strings.SplitSeq(raw, ",") {
		_, encoded, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok || encoded == "" {
			return nil, errors.New("-secrets: each secret must be kid:base64url")
		}
		encoded = strings.TrimRight(encoded, "=")
		b, err := base64.RawURLEncoding.DecodeString(encoded)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(encoded); err != nil {
				return nil, errors.New("-secrets: a secret is not valid base64")
			}
		}
		out = append(out, b)
	}
	return out, nil
}
