package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/pipeline"
)

// Auth is who may read what over HTTP. Tokens come from lakectl.yaml or the
// environment (the CLI reads them), never from the command line alone.
type Auth struct {
	// Tokens maps each consumer to its token. A request then needs a token
	// (Authorization: Bearer T): a consumer's token reads only the tables that the
	// consumer declares (reads:), and the status. Empty: tables and status are open.
	Tokens map[string]string
	// MetricsToken, when set, is required by /metrics. Empty: /metrics is open.
	MetricsToken string
}

// credential is a token's digest: comparing digests of equal length in constant
// time tells nothing of a token's length or of how much of it matched.
type credential [sha256.Size]byte

func digest(token string) credential { return sha256.Sum256([]byte(token)) }

// authorizer checks the bearer tokens of requests.
type authorizer struct {
	consumers map[string]credential
	metrics   *credential
	reads     map[string][]string // consumer -> the tables it declares
}

func newAuthorizer(a Auth, p *pipeline.Pipeline) *authorizer {
	z := &authorizer{consumers: map[string]credential{}, reads: map[string][]string{}}
	for name, tok := range a.Tokens {
		if tok != "" {
			z.consumers[name] = digest(tok)
		}
	}
	if a.MetricsToken != "" {
		d := digest(a.MetricsToken)
		z.metrics = &d
	}
	for _, c := range p.Consumers {
		z.reads[c.Name] = c.Reads
	}
	return z
}

// open reports whether tables and status need no token.
func (z *authorizer) open() bool { return len(z.consumers) == 0 }

// bearer is the request's bearer token; "" without one.
func bearer(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}

// consumer is the consumer whose token r bears; "" for none. Every token is compared,
// whichever matches, so the time taken does not say which one did.
func (z *authorizer) consumer(r *http.Request) string {
	tok := bearer(r)
	if tok == "" {
		return ""
	}
	d := digest(tok)
	found := ""
	for name, c := range z.consumers {
		if subtle.ConstantTimeCompare(d[:], c[:]) == 1 {
			found = name
		}
	}
	return found
}

// mayRead reports whether consumer may read table (views.NAME, gold.NAME).
func (z *authorizer) mayRead(consumer, table string) bool {
	return slices.Contains(z.reads[consumer], table)
}

// metricsAllowed reports whether r may read /metrics.
func (z *authorizer) metricsAllowed(r *http.Request) bool {
	if z.metrics == nil {
		return true
	}
	d := digest(bearer(r))
	return subtle.ConstantTimeCompare(d[:], z.metrics[:]) == 1
}
