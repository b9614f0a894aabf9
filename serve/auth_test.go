package serve

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/pipeline"
)

// Each consumer's token reads only what the consumer declares; no token, or a wrong
// one, reads nothing; /metrics wants its own token when one is set.
func TestTokens(t *testing.T) {
	_, srv := servedLake(t, Auth{Tokens: map[string]string{"product": "p-secret", "finance": "f-secret"}, MetricsToken: "m-secret"})
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/v1/views/hourly_trends", "", http.StatusUnauthorized},
		{"/v1/views/hourly_trends", "wrong", http.StatusUnauthorized},
		{"/v1/views/hourly_trends", "p-secre", http.StatusUnauthorized},
		{"/v1/views/hourly_trends", "p-secret", http.StatusOK},
		{"/v1/views/daily_summary", "p-secret", http.StatusOK},
		{"/v1/views/realtime_kpis", "p-secret", http.StatusForbidden}, // ops-dashboard's
		{"/v1/gold/daily_metrics", "p-secret", http.StatusForbidden},
		{"/v1/gold/daily_metrics", "f-secret", http.StatusOK},
		{"/v1/views/hourly_trends", "f-secret", http.StatusForbidden},
		{"/v1/status", "", http.StatusUnauthorized},
		{"/v1/status", "f-secret", http.StatusOK},
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "p-secret", http.StatusUnauthorized},
		{"/metrics", "m-secret", http.StatusOK},
		{"/healthz", "", http.StatusOK},
	} {
		var h []string
		if tc.token != "" {
			h = []string{"Authorization", "Bearer " + tc.token}
		}
		if resp, body := get(t, srv.URL+tc.path, h...); resp.StatusCode != tc.want {
			t.Errorf("%s with token %q: %s (%s), want %d", tc.path, tc.token, resp.Status, strings.TrimSpace(string(body)), tc.want)
		}
	}
}

// The authorizer matches each token to its consumer, a consumer with an empty token
// has none, and a prefix or extension of a token matches nothing.
func TestAuthorizerMatchesEachToken(t *testing.T) {
	p := &pipeline.Pipeline{Consumers: []pipeline.Consumer{{Name: "a", Reads: []string{"views.x"}}, {Name: "b", Reads: []string{"gold.y"}}}}
	z := newAuthorizer(Auth{Tokens: map[string]string{"a": "ta", "b": "tb", "c": ""}}, p)
	for tok, want := range map[string]string{"ta": "a", "tb": "b", "": "", "t": "", "tax": ""} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if got := z.consumer(r); got != want {
			t.Errorf("token %q: consumer %q, want %q", tok, got, want)
		}
	}
	if !z.mayRead("a", "views.x") || z.mayRead("a", "gold.y") || z.mayRead("b", "views.x") {
		t.Error("a consumer reads exactly what it declares")
	}
}
