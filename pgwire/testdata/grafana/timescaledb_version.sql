-- Grafana's PostgreSQL data source: getTimescaleDBVersion(), sent after the version when
-- it is 9.6 or later.
-- Read from github.com/grafana/grafana at commit 12f912ab8d010f4d95a4043a0efaa20fc4ca0100,
-- public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'
