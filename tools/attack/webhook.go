package attack

// WebhookKey is the secret a payment provider signs its webhooks with.
type WebhookKey struct {
	ID     string
	Secret []byte
}
