-- Grafana's PostgreSQL data source: getVersion(), sent when the data source is saved.
-- Read from github.com/grafana/grafana at commit 12f912ab8d010f4d95a4043a0efaa20fc4ca0100,
-- public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
SELECT current_setting('server_version_num')::int/100 as version
