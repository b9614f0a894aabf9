package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	wire "github.com/jeroenrinzema/psql-wire"

	"github.com/lakectl/lakectl/engine"
)

// Config sets up a Server. Zero values take the documented defaults.
type Config struct {
	// Tables registers the tables a query may read. Required.
	Tables Tables
	// Users are who may connect, by user name. Required: a server without users
	// lets no one in.
	Users map[string]User
	// Engine configures each query's DuckDB session; its MemoryLimit is the
	// per-query memory limit. Default: engine's defaults.
	Engine engine.Config
	// QueryTimeout bounds each query, from parsing to its last row read. Default:
	// DefaultQueryTimeout.
	QueryTimeout time.Duration
	// MaxRows bounds the rows of a result, which is read whole before it is sent
	// (the row description comes first, and re-running a prepared statement must
	// not hold a session open between messages). Default: DefaultMaxRows.
	MaxRows int
	// MaxConcurrent bounds the queries that run at once, across connections; the
	// others wait. Default: runtime.NumCPU().
	MaxConcurrent int
	// IdleSessions bounds the sessions kept between queries for the next query of
	// the same user over the same snapshots (pool.go). Each is a DuckDB database
	// bounded by Engine.MemoryLimit, and is closed after 5 minutes unused. Default:
	// 8 × MaxConcurrent, room for a dashboard's panels each run by as many queries
	// at once; negative: none, every query makes its session.
	IdleSessions int
	// TLS, when set, is required of every connection: one that does not ask for it
	// is refused before it is asked for a password. It must hold a certificate
	// (LoadTLS). Default: nil, and connections are unencrypted (tls.go).
	TLS *tls.Config
	// AllowUnencrypted lets Serve, without TLS, listen on an address beyond
	// loopback, where queries and results cross the network unencrypted. Default: false,
	// and Serve refuses such an address.
	AllowUnencrypted bool
	// Logger receives connections and query failures. Default: discard.
	Logger *slog.Logger
}

// User is a user of the Postgres port: a consumer of the pipeline.
type User struct {
	// Password is compared in constant time with the one the client sends.
	Password string
	// Reads are the tables the user may read; no other table is registered in its
	// sessions, and a query that names one is refused.
	Reads []engine.TableName
}

// maxMessageSize bounds a message from a client, a statement's text with its
// parameters: psql-wire gives each connection a read buffer of this size (16 MiB by
// default, which 50 busy dashboard connections fill to 800 MiB), and answers a
// larger message with an error.
const maxMessageSize = 1 << 20

const (
	// DefaultQueryTimeout is Config.QueryTimeout's default.
	DefaultQueryTimeout = time.Minute
	// DefaultMaxRows is Config.MaxRows's default.
	DefaultMaxRows = 1_000_000
)

// Server answers the PostgreSQL protocol with the lake's tables.
type Server struct {
	cfg   Config
	log   *slog.Logger
	wire  *wire.Server
	slots chan struct{} // a token per running query
	// secrets are the SCRAM keys of the users' passwords (scram.go); decoyKey
	// derives the exchange of a user that does not exist.
	secrets  map[string]scramSecret
	decoyKey []byte

	planners *sessionPool // sessions that parse and plan queries (query.go)
	sessions *sessionPool // sessions ready for a user's query over pinned tables

	parses       *parseCache  // DuckDB's parse of recent statements
	catalogNames catalogNames // which statements read the catalog (catalog.go)
}

// New checks cfg and makes a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Tables == nil {
		return nil, errors.New("pgwire: Config.Tables is required")
	}
	if len(cfg.Users) == 0 {
		return nil, errors.New("pgwire: Config.Users is empty: no one could connect")
	}
	for name, u := range cfg.Users {
		if u.Password == "" {
			return nil, fmt.Errorf("pgwire: user %s has no password", name)
		}
	}
	if cfg.TLS != nil && len(cfg.TLS.Certificates) == 0 {
		// psql-wire would answer TLS requests with "not supported" and go on in clear text.
		return nil, errors.New("pgwire: Config.TLS holds no certificate")
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = runtime.NumCPU()
	}
	if cfg.IdleSessions == 0 {
		cfg.IdleSessions = 8 * cfg.MaxConcurrent
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log.With("component", "pgwire"), slots: make(chan struct{}, cfg.MaxConcurrent),
		secrets: map[string]scramSecret{}, decoyKey: make([]byte, 32),
		planners: &sessionPool{max: cfg.MaxConcurrent}, sessions: &sessionPool{max: cfg.IdleSessions},
		parses: newParseCache()}
	rand.Read(s.decoyKey)
	for name, u := range cfg.Users {
		secret, err := newScramSecret(u.Password)
		if err != nil {
			return nil, fmt.Errorf("pgwire: user %s: %w", name, err)
		}
		s.secrets[name] = secret
	}
	var auth wire.AuthStrategy = s.scramAuth
	if cfg.TLS != nil {
		auth = requireTLS(auth)
	}
	opts := []wire.OptionFn{
		wire.Logger(s.log),
		wire.MessageBufferSize(maxMessageSize),
		wire.SessionAuthStrategy(withWriter(auth)),
		wire.SessionMiddleware(announceVersion),
		wire.ExtendTypes(extendTypes),
		// psql-wire sends server_encoding, client_encoding and server_version itself
		// (the last corrected by announceVersion).
		wire.GlobalParameters(wire.Parameters{
			"DateStyle":                     "ISO, MDY",
			"TimeZone":                      "UTC",
			"IntervalStyle":                 "postgres",
			"integer_datetimes":             "on",
			"standard_conforming_strings":   "on",
			"default_transaction_read_only": "on",
		}),
	}
	if cfg.TLS != nil {
		opts = append(opts, wire.TLSConfig(cfg.TLS))
	}
	srv, err := wire.NewServer(s.parse, opts...)
	if err != nil {
		return nil, fmt.Errorf("pgwire: %w", err)
	}
	s.wire = srv
	return s, nil
}

// Serve answers the connections of l until ctx is done, then closes l and the
// connections and the sessions kept for queries. It returns nil after ctx is done.
// Without TLS it refuses an address beyond loopback unless Config.AllowUnencrypted
// is set.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	defer s.sessions.close()
	defer s.planners.close()
	if err := s.CheckListener(l); err != nil {
		l.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.wire.Serve(l) }()
	// Idle sessions age out when no query comes to find them old.
	tick := time.NewTicker(idleSessionAge / 5)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return fmt.Errorf("pgwire: serve: %w", err)
		case <-tick.C:
			s.sessions.expire()
			s.planners.expire()
		case <-ctx.Done():
			closeErr := s.wire.Close()
			<-done
			return closeErr
		}
	}
}
