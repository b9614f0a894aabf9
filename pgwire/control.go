package pgwire

import (
	"regexp"
	"strings"
)

// Clients send statements of their own around the queries a user writes: drivers
// open transactions (psycopg2 sends BEGIN before the first query), set session
// options and read server settings. None of them changes what a query reads, and
// DuckDB's sandbox refuses them all, so they are answered here.

// control is the answer to a session statement: the command tag, and for SHOW the
// setting and its value.
type control struct {
	tag   string
	show  string // the setting SHOW names, "" for another statement
	value string
	// empty is a statement of comments alone, such as pgx's Ping ("-- ping"),
	// which Grafana's "Save & test" sends: PostgreSQL answers it with no result.
	empty bool
}

var (
	txStmt   = regexp.MustCompile(`(?i)^\s*(begin|start\s+transaction|commit|end|rollback|abort)\b[^;]*;?\s*$`)
	setStmt  = regexp.MustCompile(`(?i)^\s*(set|reset|discard|deallocate|close)\b[^;]*;?\s*$`)
	showStmt = regexp.MustCompile(`(?i)^\s*show\s+(transaction\s+isolation\s+level|time\s+zone|"?[a-z_.]+"?)\s*;?\s*$`)
	// showPhrases are SHOW's spellings of settings in words of SQL's (SQLAlchemy
	// reads SHOW TRANSACTION ISOLATION LEVEL on connect).
	showPhrases = map[string]string{"transaction isolation level": "transaction_isolation", "time zone": "timezone"}
	txTags      = map[string]string{"begin": "BEGIN", "start": "START TRANSACTION", "commit": "COMMIT", "end": "COMMIT", "rollback": "ROLLBACK", "abort": "ROLLBACK"}
	settingTags = map[string]string{"set": "SET", "reset": "RESET", "discard": "DISCARD ALL", "deallocate": "DEALLOCATE", "close": "CLOSE CURSOR"}
)

// serverSettings are the settings a client may read with SHOW, as PostgreSQL names
// them; the startup parameters that the server sends say the same. The version is
// 15, which psql-wire announces at startup.
var serverSettings = map[string]string{
	"server_version":                serverVersion,
	"server_version_num":            "150000",
	"server_encoding":               "UTF8",
	"client_encoding":               "UTF8",
	"datestyle":                     "ISO, MDY",
	"timezone":                      "UTC",
	"intervalstyle":                 "postgres",
	"integer_datetimes":             "on",
	"standard_conforming_strings":   "on",
	"transaction_isolation":         "repeatable read",
	"transaction_read_only":         "on",
	"default_transaction_read_only": "on",
	"search_path":                   `"$user", public`,
	"max_identifier_length":         "63",
	"max_index_keys":                "32", // pgjdbc reads it for getImportedKeys
}

// parseControl recognises a session statement; ok is false for anything else, which
// then goes to DuckDB as a query.
func parseControl(sql string) (c control, ok bool) {
	sql = stripComments(sql)
	if strings.Trim(sql, " \t\r\n;") == "" {
		return control{empty: true}, true
	}
	if m := txStmt.FindStringSubmatch(sql); m != nil {
		word := strings.ToLower(strings.Fields(m[1])[0])
		return control{tag: txTags[word]}, true
	}
	if m := showStmt.FindStringSubmatch(sql); m != nil {
		name := strings.ToLower(strings.Trim(m[1], `"`))
		if n, ok := showPhrases[strings.Join(strings.Fields(name), " ")]; ok {
			name = n
		}
		if v, known := serverSettings[name]; known {
			return control{tag: "SHOW", show: name, value: v}, true
		}
		return control{}, false
	}
	if m := setStmt.FindStringSubmatch(sql); m != nil {
		return control{tag: settingTags[strings.ToLower(m[1])]}, true
	}
	return control{}, false
}

// stripComments is sql without its comments.
func stripComments(sql string) string {
	var b strings.Builder
	for _, seg := range segments(sql) {
		if seg.quoted && (strings.HasPrefix(seg.text, "--") || strings.HasPrefix(seg.text, "/*")) {
			b.WriteString(" ")
			continue
		}
		b.WriteString(seg.text)
	}
	return b.String()
}
