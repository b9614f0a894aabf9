package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
)

// Passwords never cross the network (SCRAM-SHA-256, scram.go), but queries and
// results are only as private as the connection. With a certificate every connection
// must be TLS, refused before it authenticates; without one, Serve refuses an address
// beyond loopback unless Config.AllowUnencrypted says the operator accepts
// unencrypted traffic there.

// LoadTLS is a TLS configuration of the certificate and key in the PEM files
// certFile and keyFile, for Config.TLS: TLS 1.2 or later, no client certificates.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// errTLSRequired is what a client that did not ask for TLS is told, as PostgreSQL's
// hostssl lines answer: before authentication, so that nothing more is sent unencrypted.
var errTLSRequired = pgerror.WithSeverity(pgerror.WithCode(
	errors.New("this server requires TLS: connect with sslmode=require (or verify-ca, verify-full)"),
	codes.InvalidAuthorizationSpecification), pgerror.LevelFatal)

// requireTLS is auth for connections that psql-wire upgraded to TLS; any other is
// refused with errTLSRequired. The writer writes to the connection itself, which is
// a *tls.Conn once upgraded.
func requireTLS(auth wire.AuthStrategy) wire.AuthStrategy {
	return func(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (context.Context, error) {
		if _, ok := w.Writer.(*tls.Conn); !ok {
			if err := wire.WriteUnterminatedError(w, errTLSRequired); err != nil {
				return ctx, err
			}
			return ctx, errTLSRequired
		}
		return auth(ctx, w, r)
	}
}

// CheckListener refuses to serve unencrypted beyond this host: without
// TLS, l must listen on a loopback address (or a Unix socket) unless
// Config.AllowUnencrypted is set. Serve calls it; a caller calls it first to
// refuse before anything else starts.
func (s *Server) CheckListener(l net.Listener) error {
	if s.cfg.TLS != nil || s.cfg.AllowUnencrypted || local(l.Addr()) {
		return nil
	}
	return fmt.Errorf("pgwire: refusing to serve %s without TLS: queries and results would cross the network unencrypted "+
		"(give a TLS certificate and key, listen on a loopback address, or allow unencrypted connections explicitly)", l.Addr())
}

// local reports whether a is reachable from this host alone.
func local(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}
