package pgwire

import (
	"context"
	"errors"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
)

// serverVersion is what server_version says, as PostgreSQL 15 would, and what SHOW
// server_version answers.
const serverVersion = "15.0 (lakectl)"

// psql-wire v0.20.0 announces server_version as "150000" whatever it is told (it
// writes server_version_num's form), and clients read server_version: pgjdbc's
// getDatabaseMajorVersion said 150000. A client keeps the last ParameterStatus of a
// parameter, so the session middleware, which runs after psql-wire's parameters and
// before the first ReadyForQuery, announces the right one again. It needs the
// connection's writer, which the authentication step puts in the context.

type writerKey struct{}

// withWriter is auth that passes the connection's writer on to announceVersion.
func withWriter(auth wire.AuthStrategy) wire.AuthStrategy {
	return func(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (context.Context, error) {
		ctx, err := auth(ctx, w, r)
		return context.WithValue(ctx, writerKey{}, w), err
	}
}

// announceVersion sends server_version again (see above).
func announceVersion(ctx context.Context) (context.Context, error) {
	w, ok := ctx.Value(writerKey{}).(*buffer.Writer)
	if !ok {
		return ctx, errors.New("pgwire: no connection writer in the session context")
	}
	w.Start(types.ServerParameterStatus)
	w.AddString(string(wire.ParamServerVersion))
	w.AddNullTerminate()
	w.AddString(serverVersion)
	w.AddNullTerminate()
	return ctx, w.End()
}
