package payments

// payResponse is a created payment as the customer sees it: where to pay.
type payResponse struct {
	PaymentID   string `json:"payment_id"`
	CheckoutURL string `json:"checkout_url"`
}

// webhookResponse tells the provider what its event did; a 2xx stops its
// retries, so a duplicate is a 200 too.
type webhookResponse struct {
	Status Outcome `json:"status"`
}
