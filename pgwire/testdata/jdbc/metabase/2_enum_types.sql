-- Metabase's PostgreSQL driver: enum-types, before it describes fields.
-- Read from github.com/metabase/metabase at commit 008fd6675457cdd62da2265628bed3b725a607ea,
-- src/metabase/driver/postgres.clj
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)
