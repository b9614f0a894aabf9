package bronze

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HTTPConfig configures HTTP ingest: POST /v1/streams/{stream}/events with a body of
// newline-delimited events (NDJSON). Each non-empty line is stored as one Bronze row,
// byte for byte; checking that it is valid JSON is Silver's job, so that nothing a
// client sends is lost before it can be quarantined with a reason.
type HTTPConfig struct {
	// Token, when set, is the bearer token every ingest request must carry
	// (`Authorization: Bearer <token>`); /metrics and /healthz are open.
	Token string
	// Streams, when set, lists the streams that accept HTTP events; others get 404.
	// Listed streams start with the service, so their sealing marks advance while
	// idle from the start; any other stream's mark advances the same way once its
	// first request has arrived since the start. Default: any valid stream name
	// (ValidStream).
	Streams []string
	// MaxBodyBytes bounds a request body (413 beyond). Default 16 MiB.
	MaxBodyBytes int64
	// MaxLineBytes bounds one event (413 beyond). Default 1 MiB.
	MaxLineBytes int
	// BatchDelay is how long the group commit waits for more requests after the
	// first. Default 20 ms.
	BatchDelay time.Duration
	// MaxBatchBytes commits a batch early once it holds this many bytes. Default 32 MiB.
	MaxBatchBytes int64
	// MaxPendingBytes bounds the bytes of accepted but uncommitted requests; a request
	// that would exceed it waits up to QueueTimeout, then gets 503. Default 256 MiB.
	MaxPendingBytes int64
	// QueueTimeout bounds the wait for room under MaxPendingBytes. Default 5 s.
	QueueTimeout time.Duration
	// HeaderTimeout bounds the time to receive a request's headers. Default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time to receive a whole body, from the end of its
	// headers (408 beyond, nothing stored). Default 10 s: 16 MiB in 10 s takes
	// 13 Mbit/s, so raise it for large bodies over slow links.
	BodyTimeout time.Duration
	// StallTimeout bounds a pause in a body: no bytes for this long is a 408,
	// nothing stored. Default 5 s.
	StallTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that brings no new request for
	// this long. Default 60 s.
	IdleTimeout time.Duration
}

func (c HTTPConfig) withDefaults() HTTPConfig {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 16 << 20
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = 1 << 20
	}
	if c.BatchDelay <= 0 {
		c.BatchDelay = 20 * time.Millisecond
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = 32 << 20
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = 256 << 20
	}
	if c.MaxPendingBytes < c.MaxBodyBytes {
		c.MaxPendingBytes = c.MaxBodyBytes
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = 5 * time.Second
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 10 * time.Second
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 10 * time.Second
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 5 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = time.Minute
	}
	return c
}

// Headers that make an HTTP batch idempotent. A producer (one client that sends
// one batch at a time) sends its id and a sequence number that grows with every
// new batch, and sends a retried batch with the number it had. The commit that
// writes a batch records the number (HTTPProducerAppID); a batch whose number is
// not above the recorded one is acknowledged, with Duplicate set, without writing.
const (
	HeaderProducer = "X-Lakectl-Producer" // 1-128 of A-Z a-z 0-9 . _ : -
	HeaderSeq      = "X-Lakectl-Seq"      // decimal digits, 1 to MaxSeq, no sign or leading zero
)

// MaxSeq is the largest X-Lakectl-Seq, 2^53: every JSON reader of the Delta log
// holds it exactly, and a producer that numbers its batches with Unix milliseconds
// still has room to go on for 285,000 years. Without a bound, one batch numbered
// 2^63-1 would leave its producer no higher number to send.
const MaxSeq = 1 << 53

var (
	producerID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	seqSyntax  = regexp.MustCompile(`^[1-9][0-9]{0,15}$`) // one spelling per number
)

// IngestResponse is the body of a successful POST: the events are committed.
type IngestResponse struct {
	Accepted int   `json:"accepted"`
	Version  int64 `json:"version"`   // the Delta version that holds them
	FirstSeq int64 `json:"first_seq"` // the offset column of the first event; -1 for a duplicate
	// Duplicate is set when the producer's batch was already committed by an
	// earlier request (a retry): nothing was written this time.
	Duplicate bool `json:"duplicate,omitempty"`
}

// errorResponse is the body of every 4xx and 5xx.
type errorResponse struct {
	Error string `json:"error"`
}

// unknownStream is the stream label of requests to a stream that is neither
// declared nor has taken events since the start. No stream name starts with _.
const unknownStream = "_unknown"

func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("stream")
	code, resp, err := s.ingestRequest(w, r, stream)
	s.metrics.HTTPRequests.WithLabelValues(s.streamLabel(stream), strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusRequestTimeout {
		// The rest of the body may still be on its way: this connection is done.
		w.Header().Set("Connection", "close")
	}
	if err != nil {
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(errorResponse{Error: err.Error()})
		return
	}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(resp)
}

// streamLabel is the stream label of a request: the stream's name once it is
// declared or has a batcher, else unknownStream. A batcher starts only for a
// request that passed every check, so made-up names, authorised or not, add one
// series in all rather than one each.
func (s *Service) streamLabel(stream string) string {
	if slices.Contains(s.cfg.HTTP.Streams, stream) {
		return stream
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.batchers[stream] != nil {
		return stream
	}
	return unknownStream
}

// acceptsStream reports why stream takes no HTTP events, or nil if it does.
func (s *Service) acceptsStream(stream string) error {
	if !ValidStream(stream) {
		return fmt.Errorf("stream %q: not a stream name: want %s", stream, StreamNameHint)
	}
	if len(s.cfg.HTTP.Streams) > 0 && !slices.Contains(s.cfg.HTTP.Streams, stream) {
		return fmt.Errorf("stream %q does not accept HTTP events: the pipeline does not declare it", stream)
	}
	return nil
}

// authorized reports whether r carries the configured bearer token. The scheme is
// case-insensitive and may be followed by several spaces (RFC 9110 11.4). The token is compared by its SHA-256 in constant
// time, so that the time to refuse a guess tells nothing of the token, its length
// included.
func authorized(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	want, have := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(strings.TrimLeft(got, " ")))
	return subtle.ConstantTimeCompare(want[:], have[:]) == 1
}

func (s *Service) ingestRequest(w http.ResponseWriter, r *http.Request, stream string) (int, IngestResponse, error) {
	cfg := s.cfg.HTTP
	// Bound the body from the start: an answer given before reading it waits for
	// the server to discard its rest.
	body, err := newTimedBody(w, r, cfg)
	if err != nil {
		return http.StatusInternalServerError, IngestResponse{}, err
	}
	if cfg.Token != "" && !authorized(r, cfg.Token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lakectl"`)
		return http.StatusUnauthorized, IngestResponse{}, errors.New("missing or wrong bearer token")
	}
	if err := s.acceptsStream(stream); err != nil {
		return http.StatusNotFound, IngestResponse{}, err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		switch mt {
		case "application/x-ndjson", "application/jsonl", "application/json", "text/plain", "application/octet-stream":
		default:
			return http.StatusUnsupportedMediaType, IngestResponse{}, fmt.Errorf("content type %q: send NDJSON (application/x-ndjson)", mt)
		}
	}
	producer, seq, err := batchKey(r.Header)
	if err != nil {
		return http.StatusBadRequest, IngestResponse{}, err
	}
	if r.ContentLength > cfg.MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, IngestResponse{}, fmt.Errorf("body of %d bytes exceeds the limit of %d", r.ContentLength, cfg.MaxBodyBytes)
	}
	lines, size, code, err := readLines(http.MaxBytesReader(w, body, cfg.MaxBodyBytes), cfg.MaxLineBytes, cfg.MaxBodyBytes)
	if err != nil {
		return code, IngestResponse{}, err
	}
	if len(lines) == 0 {
		return http.StatusBadRequest, IngestResponse{}, errors.New("no events: the body holds no non-empty line")
	}
	// The batcher starts only now: a stream that no request has written to gets no
	// table (its idle marks would create one), and no metric series.
	b, err := s.batcher(stream)
	if err != nil {
		return http.StatusServiceUnavailable, IngestResponse{}, err
	}
	res, err := b.submit(r.Context(), &httpReq{lines: lines, size: size, received: b.now(), producer: producer, seq: seq})
	if err != nil {
		return http.StatusServiceUnavailable, IngestResponse{}, err
	}
	return http.StatusOK, res, nil
}

// batchKey reads the optional idempotency headers: both or neither.
func batchKey(h http.Header) (producer string, seq int64, err error) {
	producer, s := h.Get(HeaderProducer), h.Get(HeaderSeq)
	if producer == "" && s == "" {
		return "", 0, nil
	}
	if !producerID.MatchString(producer) {
		return "", 0, fmt.Errorf("%s %q: want 1-128 of A-Z a-z 0-9 . _ : - (with %s)", HeaderProducer, producer, HeaderSeq)
	}
	if seqSyntax.MatchString(s) {
		seq, err = strconv.ParseInt(s, 10, 64)
	}
	if !seqSyntax.MatchString(s) || err != nil || seq > MaxSeq {
		return "", 0, fmt.Errorf("%s %q: want a whole number from 1 to %d in decimal digits, without sign or leading zeros (with %s)", HeaderSeq, s, int64(MaxSeq), HeaderProducer)
	}
	return producer, seq, nil
}

// readLines splits an NDJSON body into its non-empty lines (without the line end),
// in one buffer. It returns the HTTP status to answer on error.
func readLines(body io.Reader, maxLine int, maxBody int64) ([][]byte, int64, int, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, 0, http.StatusRequestEntityTooLarge, fmt.Errorf("body exceeds the limit of %d bytes", maxBody)
		}
		var late *bodyTimeoutError
		if errors.As(err, &late) {
			return nil, 0, http.StatusRequestTimeout, late
		}
		return nil, 0, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	// Split data itself rather than scan a copy of it: the lines stay valid until
	// the batch is committed, and only the line end ("\n" or "\r\n") is removed.
	var lines [][]byte
	for n, rest := 1, data; len(rest) > 0; n++ {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
			line = bytes.TrimSuffix(line, []byte("\r"))
		} else {
			rest = nil
		}
		if len(line) > maxLine {
			return nil, 0, http.StatusRequestEntityTooLarge, fmt.Errorf("line %d: %d bytes exceeds the limit of %d", n, len(line), maxLine)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		lines = append(lines, line[:len(line):len(line)]) // points into data, which the batch keeps alive
	}
	return lines, int64(len(data)), 0, nil
}
