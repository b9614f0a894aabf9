package bronze

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// A request is bounded at every step, so that a slow or stalled client holds a
// connection and its goroutine for a bounded time and gets an answer: its headers
// within HeaderTimeout, its whole body within BodyTimeout of the headers, with no
// pause longer than StallTimeout between the body's bytes; a body that misses
// either gets 408 and nothing of it is stored. Between requests, a keep-alive
// connection is closed after IdleTimeout.

// httpServer returns the server of the service's HTTP address.
func (s *Service) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.cfg.HTTP.HeaderTimeout,
		IdleTimeout:       s.cfg.HTTP.IdleTimeout,
	}
}

// bodyTimeoutError is a body that was not received in time.
type bodyTimeoutError struct{ msg string }

func (e *bodyTimeoutError) Error() string { return e.msg }

// timedBody reads a request body under two deadlines: the whole body by deadline,
// and each read within stall. It sets them on the connection, so that a read that
// waits for a client that sends nothing ends when the first of them passes.
type timedBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	deadline time.Time // for the whole body
	cfg      HTTPConfig
}

// newTimedBody bounds the reads of r's body from now on; it also bounds what the
// server reads of the body after the handler (to discard an unread rest), so that
// an answer given without reading the body is not held up by a body that never
// ends. Once the body has been read to its end, the server lifts the deadline
// itself (its check for a client that left starts then), so the wait for the
// commit is not cut short.
func newTimedBody(w http.ResponseWriter, r *http.Request, cfg HTTPConfig) (*timedBody, error) {
	b := &timedBody{body: r.Body, rc: http.NewResponseController(w), deadline: time.Now().Add(cfg.BodyTimeout), cfg: cfg}
	if err := b.rc.SetReadDeadline(b.deadline); err != nil {
		return nil, fmt.Errorf("set the body's read deadline: %w", err)
	}
	return b, nil
}

func (b *timedBody) Read(p []byte) (int, error) {
	d := time.Now().Add(b.cfg.StallTimeout)
	if b.deadline.Before(d) {
		d = b.deadline
	}
	if err := b.rc.SetReadDeadline(d); err != nil {
		return 0, fmt.Errorf("set the body's read deadline: %w", err)
	}
	n, err := b.body.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if !time.Now().Before(b.deadline) {
			return n, &bodyTimeoutError{fmt.Sprintf("the body did not arrive within %s: nothing was stored; send it faster or in smaller requests", b.cfg.BodyTimeout)}
		}
		return n, &bodyTimeoutError{fmt.Sprintf("the body stalled: no bytes for %s: nothing was stored", b.cfg.StallTimeout)}
	}
	return n, err
}

func (b *timedBody) Close() error { return b.body.Close() }
