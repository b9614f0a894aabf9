package views

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Write prints the plan: per view its path, cadence and the arithmetic of the
// freshness it guarantees, and its compute per day next to the next slower tier's;
// per consumer the freshness each table it reads gets against its SLO. The
// arithmetic starts at an event's ingest, which a note says.
func (pl *Plan) Write(w io.Writer) {
	fmt.Fprintln(w, "views:")
	for _, v := range pl.Views {
		if v.Unused {
			fmt.Fprintf(w, "  %s: unused: no consumer reads it and it has no fixed -- refresh\n", v.Name)
			continue
		}
		need := "no consumer, fixed refresh"
		if v.Need > 0 {
			need = fmt.Sprintf("need %s (%s)", dur(v.Need), strings.Join(v.Consumers, ", "))
		}
		fmt.Fprintf(w, "  %s: %s, refresh every %s, guarantees %s; %s\n", v.Name, pathName(v.Path), dur(v.Cadence), dur(v.Guarantee), need)
		for i, t := range v.Terms {
			op := "+"
			if i == 0 {
				op = " "
			}
			fmt.Fprintf(w, "    %s %-20s %9s  %s\n", op, t.Name, dur(t.D), t.Note)
		}
		fmt.Fprintf(w, "    = %-20s %9s\n", "freshness", dur(v.Guarantee))
		slower := ""
		if v.Slower != "" {
			slower = fmt.Sprintf("; through %s: %s", pathName(v.Slower), dur(v.SlowerCost))
		}
		fmt.Fprintf(w, "    compute per day: %s (%.0f refreshes)%s\n", dur(v.Cost), float64(24*time.Hour)/float64(v.Cadence), slower)
	}
	fmt.Fprintln(w, "consumers:")
	for _, c := range pl.Consumers {
		fmt.Fprintf(w, "  %s: freshness %s\n", c.Name, dur(c.Freshness))
		for _, r := range c.Reads {
			fmt.Fprintf(w, "    %s through %s: guarantees %s\n", r.Table, pathName(r.Path), dur(r.Guarantee))
		}
	}
	fmt.Fprintln(w, "(freshness by event time, for events ingested as they happen: a producer's delay adds to it)")
}

// dur prints a duration rounded to the second, or to the millisecond below one.
func dur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
