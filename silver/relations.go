package silver

import "github.com/lakectl/lakectl/engine/sqlfrag"

// Relations that the steps of a Silver run pass to each other in the run's DuckDB
// session. Each step lives in its own file; the names live here, once.
const (
	relBatch              = "batch"               // every input row parsed, checked and ranked (job.go)
	relWinners            = "winners"             // the batch's valid rows that won their key (merge.go)
	relSilverExisting     = "silver_existing"     // Silver's files in the partitions the batch touches
	relHits               = "hits"                // winners whose key is stored already, and which row wins
	relRewrite            = "rewrite"             // partitions where a stored row lost
	relQuarantineStored   = "quarantine_stored"   // quarantine rows already stored for the hour (quarantine.go)
	relQuarantineReleased = "quarantine_released" // quarantine files a replay rewrites (replay.go)
	relRefFile            = "ref_file"            // the rows of a file being loaded as a reference (ref.go)
	relRefOld             = "ref_old"             // the reference table before the load
	relRefNext            = "ref_next"            // the reference table after the load
	relMarked             = "marked"              // Silver rows waiting for a reference row (reenrich.go)
	relFilled             = "filled"              // marked rows enriched again
	relReenrichFiles      = "reenrich_files"      // Silver's files in the partitions a re-enrichment rewrites
)

// rel is a relation's name as SQL.
func rel(name string) sqlfrag.SQL { return sqlfrag.Ident(name) }

// Table aliases that helpers (keyJoin, rankRow, batchPosition, sourcePosition) are
// given to qualify columns with.
var (
	aliasBatch      = sqlfrag.Const("b") // a row of the batch or of winners
	aliasExisting   = sqlfrag.Const("e") // a row stored in Silver
	aliasHit        = sqlfrag.Const("h") // a row of hits
	aliasQuarantine = sqlfrag.Const("q") // a row stored in the quarantine
	aliasNew        = sqlfrag.Const("n") // a row about to be quarantined
)
