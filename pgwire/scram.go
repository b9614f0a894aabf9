package pgwire

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"
	"github.com/jeroenrinzema/psql-wire/pkg/types"
)

// Clients authenticate with SCRAM-SHA-256 (RFC 5802 with SHA-256, RFC 7677), as
// PostgreSQL does by default since version 14: the password never crosses the
// network, not even inside TLS, and the server keeps only keys derived from it. psql-wire
// offers clear-text passwords alone, so the exchange is written here on its public
// AuthStrategy hook. Channel binding (SCRAM-SHA-256-PLUS) is not offered; clients
// then go on without it, as they do with PostgreSQL over a connection without TLS.

const (
	scramMechanism = "SCRAM-SHA-256"
	// scramIterations is PostgreSQL's default scram_iterations.
	scramIterations = 4096
	scramSaltLen    = 16
	scramNonceLen   = 18

	// The authentication request codes of the protocol's SASL exchange.
	authSASL         = 10
	authSASLContinue = 11
	authSASLFinal    = 12
	authOK           = 0
)

// scramSecret is what the server keeps of a password: the salt, and the keys that
// verify a client's proof and sign the server's answer.
type scramSecret struct {
	salt                 []byte
	storedKey, serverKey []byte
}

// newScramSecret derives a secret from password with a fresh random salt.
func newScramSecret(password string) (scramSecret, error) {
	salt := make([]byte, scramSaltLen)
	rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return scramSecret{}, fmt.Errorf("derive the SCRAM keys: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return scramSecret{salt: salt, storedKey: stored[:], serverKey: hmacSHA256(salted, "Server Key")}, nil
}

// decoySecret stands in for a user that does not exist, so that the exchange, and
// the salt the client sees, do not tell that apart from a wrong password. Its keys
// match no proof.
func decoySecret(key []byte, user string) scramSecret {
	return scramSecret{
		salt:      hmacSHA256(key, "salt "+user)[:scramSaltLen],
		storedKey: hmacSHA256(key, "stored "+user),
		serverKey: hmacSHA256(key, "server "+user),
	}
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// errBadPassword is what a client with a wrong password, or an unknown user, is told.
var errBadPassword = pgerror.WithSeverity(pgerror.WithCode(
	errors.New("password authentication failed"), codes.InvalidPassword), pgerror.LevelFatal)

// scramAuth is the SCRAM-SHA-256 exchange against the secrets by user name.
func (s *Server) scramAuth(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (context.Context, error) {
	user := wire.ClientParameters(ctx)[wire.ParamUsername]
	secret, known := s.secrets[user]
	if !known {
		secret = decoySecret(s.decoyKey, user)
	}
	refuse := func(err error) (context.Context, error) {
		s.log.Info("authentication refused", "user", user, "remote", wire.RemoteAddress(ctx), "why", err)
		if werr := wire.WriteUnterminatedError(w, errBadPassword); werr != nil {
			return ctx, werr
		}
		return ctx, errBadPassword
	}

	w.Start(types.ServerAuth)
	w.AddInt32(authSASL)
	w.AddString(scramMechanism)
	w.AddNullTerminate()
	w.AddNullTerminate()
	if err := w.End(); err != nil {
		return ctx, err
	}
	first, err := readSASLInitial(r)
	if err != nil {
		return refuse(err)
	}
	gs2, bare, clientNonce, err := parseClientFirst(first)
	if err != nil {
		return refuse(err)
	}
	nonceBytes := make([]byte, scramNonceLen)
	rand.Read(nonceBytes)
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nonceBytes)
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(secret.salt), scramIterations)
	if err := writeAuth(w, authSASLContinue, serverFirst); err != nil {
		return ctx, err
	}

	final, err := readSASLResponse(r)
	if err != nil {
		return refuse(err)
	}
	withoutProof, proof, err := parseClientFinal(final, gs2, nonce)
	if err != nil {
		return refuse(err)
	}
	authMessage := bare + "," + serverFirst + "," + withoutProof
	signature := hmacSHA256(secret.storedKey, authMessage)
	clientKey := make([]byte, len(proof))
	subtle.XORBytes(clientKey, proof, signature)
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], secret.storedKey) != 1 || !known {
		return refuse(errors.New("the client's proof does not match"))
	}
	if err := writeAuth(w, authSASLFinal, "v="+base64.StdEncoding.EncodeToString(hmacSHA256(secret.serverKey, authMessage))); err != nil {
		return ctx, err
	}
	w.Start(types.ServerAuth)
	w.AddInt32(authOK)
	return ctx, w.End()
}

func writeAuth(w *buffer.Writer, code int32, data string) error {
	w.Start(types.ServerAuth)
	w.AddInt32(code)
	w.AddBytes([]byte(data))
	return w.End()
}

// readSASLInitial reads the SASLInitialResponse: the mechanism chosen and the
// client-first message.
func readSASLInitial(r *buffer.Reader) (string, error) {
	t, _, err := r.ReadTypedMsg()
	if err != nil {
		return "", err
	}
	if t != types.ClientPassword {
		return "", fmt.Errorf("want a SASL initial response, got message %q", byte(t))
	}
	mech, err := r.GetString()
	if err != nil {
		return "", err
	}
	if mech != scramMechanism {
		return "", fmt.Errorf("mechanism %q was not offered", mech)
	}
	n, err := r.GetInt32()
	if err != nil {
		return "", err
	}
	if n < 0 || int(n) > len(r.Msg) {
		return "", errors.New("SASL initial response without data")
	}
	return string(r.Msg[:n]), nil
}

// readSASLResponse reads a SASLResponse: the client-final message.
func readSASLResponse(r *buffer.Reader) (string, error) {
	t, _, err := r.ReadTypedMsg()
	if err != nil {
		return "", err
	}
	if t != types.ClientPassword {
		return "", fmt.Errorf("want a SASL response, got message %q", byte(t))
	}
	return string(r.Msg), nil
}

// parseClientFirst splits the client-first message into its GS2 header and the bare
// message, and reads the client's nonce. The client must not ask for channel
// binding, which is not offered ("p=").
func parseClientFirst(msg string) (gs2, bare, nonce string, err error) {
	parts := strings.SplitN(msg, ",", 3)
	if len(parts) != 3 {
		return "", "", "", errors.New("malformed client-first message")
	}
	if parts[0] != "n" && parts[0] != "y" {
		return "", "", "", fmt.Errorf("channel binding %q was not offered", parts[0])
	}
	gs2, bare = parts[0]+","+parts[1]+",", parts[2]
	for _, attr := range strings.Split(bare, ",") {
		switch {
		case strings.HasPrefix(attr, "m="):
			return "", "", "", errors.New("SCRAM extensions are not supported")
		case strings.HasPrefix(attr, "r="):
			nonce = attr[2:]
		}
	}
	if nonce == "" {
		return "", "", "", errors.New("client-first message without a nonce")
	}
	return gs2, bare, nonce, nil
}

// parseClientFinal checks the client-final message's channel binding (the GS2
// header again) and nonce, and returns the message without its proof, and the proof.
func parseClientFinal(msg, gs2, nonce string) (withoutProof string, proof []byte, err error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return "", nil, errors.New("client-final message without a proof")
	}
	withoutProof = msg[:i]
	if proof, err = base64.StdEncoding.DecodeString(msg[i+3:]); err != nil || len(proof) != sha256.Size {
		return "", nil, errors.New("malformed proof")
	}
	var binding, gotNonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		switch {
		case strings.HasPrefix(attr, "c="):
			binding = attr[2:]
		case strings.HasPrefix(attr, "r="):
			gotNonce = attr[2:]
		}
	}
	if b, err := base64.StdEncoding.DecodeString(binding); err != nil || !bytes.Equal(b, []byte(gs2)) {
		return "", nil, errors.New("channel binding does not match the client-first message")
	}
	if gotNonce != nonce {
		return "", nil, errors.New("nonce does not match")
	}
	return withoutProof, proof, nil
}
