package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// DevPaymentWebhookSecret verifies the fake payment provider's webhooks in
// development (tools/cmd/fakepay signs with it). Published in .env.example,
// so production refuses it.
const DevPaymentWebhookSecret = "dev:ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLXNlY3JldC1uZXZlci11c2UtaW4tcHJvZHVjdGlvbg" //nolint:gosec // G101: published on purpose; production refuses it.

// ImportConfig is how the service fetches the URLs customers attach
// (docs/10-ssrf.md).
type ImportConfig struct {
	// AllowHTTP permits http:// and port 80 (development only).
	AllowHTTP bool
	// AllowHosts are ip:port endpoints that may be fetched although their
	// address is special-purpose, e.g. a loopback test server (development
	// only).
	AllowHosts []netip.AddrPort
	// DNSServer is the ip:port of the DNS server the fetcher asks
	// (checked at load); empty means the system resolver.
	DNSServer string
}

// PaymentsConfig is the payment provider (docs/11-third-party-data.md).
type PaymentsConfig struct {
	// ProviderURL is the provider API's base URL; empty turns payments
	// off (POST /orders/{id}/pay answers 503).
	ProviderURL string
	// WebhookSecrets verify the provider's webhook signatures; every key
	// is accepted, so the provider can rotate with two valid at once.
	WebhookSecrets []SigningKey
}

// thirdParty reads the settings of the two third-party boundaries.
func (p *parser) thirdParty(env string) (ImportConfig, PaymentsConfig) {
	imp := ImportConfig{AllowHTTP: p.boolean("IMPORT_ALLOW_HTTP", false)}
	for _, s := range p.list("IMPORT_ALLOW_HOSTS") {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			p.fail("IMPORT_ALLOW_HOSTS", "%q is not an ip:port such as 127.0.0.1:8081", s)
			continue
		}
		imp.AllowHosts = append(imp.AllowHosts, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	if s := p.str("IMPORT_DNS_SERVER", ""); s != "" {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			p.fail("IMPORT_DNS_SERVER", "%q is not an ip:port such as 10.0.0.2:53", s)
		}
		imp.DNSServer = ap.String()
	}
	pay := PaymentsConfig{
		ProviderURL:    p.str("PAYMENT_PROVIDER_URL", ""),
		WebhookSecrets: p.signingKeys("PAYMENT_WEBHOOK_SECRETS"),
	}
	if len(pay.WebhookSecrets) == 0 && env == Development {
		pay.WebhookSecrets = (&parser{getenv: func(string) string { return DevPaymentWebhookSecret }}).signingKeys("PAYMENT_WEBHOOK_SECRETS")
	}
	return imp, pay
}

// validateThirdParty checks the import and payment settings; production
// refuses every development convenience among them.
func (c Config) validateThirdParty() error {
	if c.Payments.ProviderURL != "" {
		if err := checkProviderURL(c.Payments.ProviderURL, c.IsProduction()); err != nil {
			return err
		}
	}
	if !c.IsProduction() {
		return nil
	}
	switch {
	case len(c.Import.AllowHosts) > 0:
		return errors.New("production refuses IMPORT_ALLOW_HOSTS: it lets customer URLs reach internal addresses; unset it")
	case c.Import.AllowHTTP:
		return errors.New("production refuses IMPORT_ALLOW_HTTP=true: imported files would cross the network in clear; unset it")
	case c.Payments.ProviderURL != "" && len(c.Payments.WebhookSecrets) == 0:
		// Without a provider nothing can sign an event, and the webhook
		// refuses every delivery; with one, its events need a secret.
		return errors.New("production needs PAYMENT_WEBHOOK_SECRETS with PAYMENT_PROVIDER_URL: set it to kid:base64url-secret, the secret your payment provider signs webhooks with")
	}
	dev := strings.SplitN(DevPaymentWebhookSecret, ":", 2)[1]
	for _, k := range c.Payments.WebhookSecrets {
		if base64.RawURLEncoding.EncodeToString(k.Secret) == dev {
			return errors.New("production refuses the development webhook secret from .env.example in PAYMENT_WEBHOOK_SECRETS: set the secret of your payment provider")
		}
	}
	return nil
}

// checkProviderURL accepts an https base URL, or in development an http
// one on loopback (the fake provider, tools/cmd/fakepay).
func checkProviderURL(raw string, production bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("PAYMENT_PROVIDER_URL: %q is not a base URL such as https://api.provider.example", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && !production && isLoopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http" && !production:
		return errors.New("PAYMENT_PROVIDER_URL: http is accepted only on loopback (the fake provider); use https")
	}
	return errors.New("PAYMENT_PROVIDER_URL: must be an https URL (production refuses http)")
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
