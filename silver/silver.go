// Package silver turns raw Bronze events into clean Silver tables. A Silver table is
// declared in lakectl.yaml (see pipeline.Table): its source stream, the fields parsed
// from the JSON payload with their types and checks, the key, the event-time field and
// the enrichment joins. Compile turns the declaration into one DuckDB query; Job runs it
// for one ingest hour at a time.
//
//	job := silver.NewJob(silver.Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: fileCache, Logger: log}})
//	sum, err := job.RunHour(ctx, "events", hour, silver.RunOptions{})
//	fmt.Println(sum) // rows in, valid, quarantined, duplicates, late, partitions, time
//
// What a run of hour H of table T does, and why it is safe to repeat:
//
//   - It reads the Bronze files of ingest hour H, a sealed hour unless Force is set.
//   - Every row that fails parsing or a check goes to quarantine/T with the reason, the
//     raw payload and its source topic, partition and offset. Nothing is dropped.
//   - Valid rows are deduplicated by key inside the batch and against the Silver
//     partitions (event_date, event_hour) that the batch touches. The winner is the
//     row with the earliest event time, then ingest time, topic, partition and offset;
//     Silver keeps those lineage columns so a later run ranks exactly the same way.
//   - New files are appended to each touched partition. A partition is rewritten
//     (remove + add in the same commit) only where a batch row beats a stored one.
//   - One commit records txn {appId: "silver/T/H", version: the Bronze version read},
//     the partitions it touched and the Bronze version read. A run that finds the txn
//     has nothing to do; two concurrent runs of H conflict on it and the loser finds
//     it on its retry. A run killed before its commit leaves only unreferenced files.
//   - A forced run of an unsealed hour records "silver/T/H/partial" instead, so the
//     run after sealing still processes the whole hour; its dedupe makes the rows
//     already written no-ops.
//
// The contract is strict: a field's value is stored only when its JSON type is one the
// field's type allows and it converts exactly. A fraction in an int, a decimal with more
// places than its scale, a number where a string belongs, a timestamp without a zone:
// each goes to quarantine with a reason naming the field and the value ("amount:
// 12.345 has more than 2 decimal places"), never rounded or coerced. What each type
// accepts is listed in convert.go and in the README's Silver contract section; in
// short: strings are JSON strings; int, double and boolean come from JSON numbers and
// booleans only; a decimal also from a numeric string (amounts beyond what a double
// holds exactly must come that way); timestamps are RFC 3339 strings with a zone
// (not epoch numbers); dates are YYYY-MM-DD strings.
//
// The quarantine commit comes first and carries the same txn, so a run killed between
// the two commits neither loses nor repeats rejected rows.
//
// Enrichment joins reference tables, ref/<name>, which keep their history: each row
// is valid from RefColValidFrom to RefColValidTo (see LoadRef for how snapshot and
// type-2 loads build it, and refuse overlapping validity). An enrichment reads the
// current rows (as_of: current) or the row valid at the event's time (as_of:
// event_time), inside the compiled query, so any runner of the contract gets the same
// join (Contract.RegisterRefs registers the references for it). An event whose key
// has no row is quarantined (on_missing: quarantine) or kept and marked in
// ColMissingRefs; Reenrich fills the marked rows once the reference has their keys:
//
//	res, err := silver.LoadRef(ctx, store, sess, silver.RefSpecOf(*p.Ref("users"), file), time.Now())
//	waiting, err := job.Waiting(ctx, "events") // rows waiting, by reference
//	sum, err := job.Reenrich(ctx, "events")     // one commit rewriting their partitions
package silver

import (
	"fmt"
	"strings"

	"github.com/lakectl/lakectl/bronze/layout"
)

// Table roots in the lake.
func Root(table string) string           { return "silver/" + table }
func QuarantineRoot(table string) string { return "quarantine/" + table }
func RefRoot(name string) string         { return "ref/" + name }

// AppID is the txn appId of a sealed run of hour h of table.
func AppID(table string, h layout.Hour) string {
	return fmt.Sprintf("silver/%s/%s", table, h)
}

// partialAppID is the txn appId of a forced run of an unsealed hour.
func partialAppID(table string, h layout.Hour) string { return AppID(table, h) + "/partial" }

// UnsealedError says that an hour is still open for writes in Bronze.
type UnsealedError struct {
	Stream string
	Hour   layout.Hour
	// Done is, from RunHours, how many hours before Hour were run (or found done).
	Done int
}

func (e *UnsealedError) Error() string {
	return fmt.Sprintf("ingest hour %s of stream %s is not sealed yet", e.Hour, e.Stream)
}

// Hint tells the user what to do.
func (e *UnsealedError) Hint() string {
	return "an hour is sealed once every source has committed past its end plus the grace; " +
		"lakectl status shows how far each is; --force processes what is there now"
}

// UnknownTableError names a Silver table that lakectl.yaml does not declare.
type UnknownTableError struct {
	Name, File string
	Known      []string
}

func (e *UnknownTableError) Error() string {
	return fmt.Sprintf("no silver table %q in %s", e.Name, e.File)
}

// Hint lists the declared tables.
func (e *UnknownTableError) Hint() string {
	return fmt.Sprintf("declared silver tables: %v", e.Known)
}

// MissingRefError names a reference table that a contract joins but the lake lacks.
type MissingRefError struct{ Name string }

func (e *MissingRefError) Error() string {
	return fmt.Sprintf("reference table %s is not loaded", e.Name)
}

// Hint says how to load it.
func (e *MissingRefError) Hint() string {
	return "run `lakectl ref load " + e.Name + "` first"
}

// RefColumnsError says that a contract's enrichment names columns that its reference
// table, as loaded, does not have.
type RefColumnsError struct {
	Table   string   // the Silver table
	Ref     string   // the reference table
	Missing []string // columns the contract names (ref_key, columns) that it lacks
	Have    []string // the reference table's columns
}

func (e *RefColumnsError) Error() string {
	return fmt.Sprintf("silver.%s enriches from reference table %s, which has no column %s (its columns: %s)",
		e.Table, e.Ref, strings.Join(e.Missing, ", "), strings.Join(e.Have, ", "))
}

// Hint says what to fix.
func (e *RefColumnsError) Hint() string {
	return "fix ref_key and columns under enrich: in lakectl.yaml, or load a file that has them with `lakectl ref load " + e.Ref + " FILE`"
}
