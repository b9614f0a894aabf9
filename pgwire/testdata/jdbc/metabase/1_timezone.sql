-- Metabase's PostgreSQL driver: db-default-timezone, on sync.
-- Read from github.com/metabase/metabase at commit 008fd6675457cdd62da2265628bed3b725a607ea,
-- src/metabase/driver/postgres.clj
show timezone;
