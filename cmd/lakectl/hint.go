package main

import "fmt"

// hintError is an error that a user can act on: main prints the hint under it.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

// hinted attaches a hint to err.
func hinted(err error, hint string) error { return &hintError{err: err, hint: hint} }

// usageErrorf is a hinted error for a mistake in the command line or pipeline files.
func usageErrorf(hint, format string, args ...any) error {
	return hinted(fmt.Errorf(format, args...), hint)
}
