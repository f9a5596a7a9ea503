// Package ptr converts between values and the pointers that GraphQL inputs
// and answers use for optional fields, for the compass client and its fake
// alike.
package ptr

// To returns a pointer to a copy of v.
func To[T any](v T) *T { return &v }

// NonEmpty returns a pointer to s, or nil for the empty string: an optional
// input field left out instead of sent empty.
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Value returns *p, or the zero value for nil: an optional answer field
// read as its value.
func Value[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
