package bronze

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HTTPConfig configures HTTP ingest: POST /v1/streams/{stream}/events with a body of
// newline-delimited events (NDJSON). Each non-empty line is stored as one Bronze row,
// byte for byte; checking that it is valid JSON is Silver's job, so that nothing a
// client sends is lost before it can be quarantined with a reason.
type HTTPConfig struct {
	// Token, when set, is the bearer token every request must carry.
	Token string
	// Streams, when set, lists the streams that accept HTTP events; others get 404.
	// Listed streams start with the service, so their sealing marks advance while
	// idle from the start; any other stream's mark advances the same way once its
	// first request has arrived since the start. Default: any valid stream name.
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
	return c
}

// Headers that make an HTTP batch idempotent. A producer (one client that sends
// one batch at a time) sends its id and a sequence number that grows with every
// new batch, and sends a retried batch with the number it had. The commit that
// writes a batch records the number (HTTPProducerAppID); a batch whose number is
// not above the recorded one is acknowledged, with Duplicate set, without writing.
const (
	HeaderProducer = "X-Lakectl-Producer" // 1-128 of A-Z a-z 0-9 . _ : -
	HeaderSeq      = "X-Lakectl-Seq"      // a decimal integer >= 1
)

var producerID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

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

func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("stream")
	code, resp, err := s.ingestRequest(w, r, stream)
	if len(stream) > 64 || !ValidStream(stream) {
		stream = "_invalid"
	}
	s.metrics.HTTPRequests.WithLabelValues(stream, strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
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

func (s *Service) ingestRequest(w http.ResponseWriter, r *http.Request, stream string) (int, IngestResponse, error) {
	cfg := s.cfg.HTTP
	if cfg.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || got != cfg.Token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lakectl"`)
			return http.StatusUnauthorized, IngestResponse{}, errors.New("missing or wrong bearer token")
		}
	}
	b, err := s.batcher(stream)
	if errors.Is(err, errShuttingDown) {
		return http.StatusServiceUnavailable, IngestResponse{}, err
	}
	if err != nil {
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
	lines, size, code, err := readLines(http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes), cfg.MaxLineBytes, cfg.MaxBodyBytes)
	if err != nil {
		return code, IngestResponse{}, err
	}
	if len(lines) == 0 {
		return http.StatusBadRequest, IngestResponse{}, errors.New("no events: the body holds no non-empty line")
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
	seq, err = strconv.ParseInt(s, 10, 64)
	if err != nil || seq < 1 {
		return "", 0, fmt.Errorf("%s %q: want an integer >= 1 (with %s)", HeaderSeq, s, HeaderProducer)
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
