// Package remote is what the clients of this module (openconnectors and
// compass) share about talking to a remote API, so that each rule exists
// once: the retry vocabulary ([Backoff], [RetryWait], [ParseRetryAfter],
// every wait capped at [MaxRetryWait]), the classes of failure their errors
// wrap ([ErrNotFound], [ErrInvalidSpec], [ErrInvalidInput], [ErrRetryable])
// and the [FieldError] with which they refuse a configuration field.
//
// Each client decides which of its failures are worth another attempt; the
// waits between attempts follow these rules.
package remote
