// Package catalog maps the tables of a lake to the names SQL gives them
// (bronze.<stream>, silver.<table>, quarantine.<table>, ref.<name>, gold.<model>,
// views.<name>), loads their snapshots (latest, a version, or as of a time), and
// registers the tables a statement names, with only the files it can need, into a
// DuckDB session. lakectl query, lakectl catalog export and the Gold job share it, so
// a name means the same table everywhere.
//
//	cat := catalog.ForPipeline(p, catalog.Config{Store: store, Cache: c})
//	uq, err := sess.ParseUserSQL(ctx, "SELECT count(*) FROM silver.events WHERE event_date = '2026-11-27'")
//	for _, n := range uq.Tables {
//		plan, err := cat.Plan(ctx, sess, uq, n) // nil: nothing has written the table yet
//		...
//		err = catalog.Register(ctx, sess, n, plan)
//	}
//	err = sess.Seal(ctx, engine.SealOptions{})
//	rows, err := sess.QueryUser(ctx, uq)
//
// Plan may be called for several tables at once, and Fetch brings the files of
// several plans into the cache at once before they are registered one by one.
//
// A table is read from the store only when something asks for it, so one broken
// table fails only the statements that name it, and an S3 lake downloads only the
// files of the tables a statement reads. Each table's snapshot is loaded once: every
// statement run through one Catalog sees the same version.
package catalog
