package pgwire_test

import (
	"fmt"
	"slices"
	"strings"
)

func fmtRow(vals ...any) string {
	var s []string
	for _, v := range vals {
		s = append(s, fmt.Sprint(v))
	}
	return strings.Join(s, " ")
}

func equalLines(a, b []string) bool   { return slices.Equal(a, b) }
func equalOIDs(a, b []uint32) bool    { return slices.Equal(a, b) }
func hasPrefix(s, prefix string) bool { return strings.HasPrefix(s, prefix) }
