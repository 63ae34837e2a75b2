package web

// RetryShared is retryShared, for the external tests that run the
// resilient limiter against a real Redis (package redislimit imports web,
// so those tests cannot live inside it).
const RetryShared = retryShared
