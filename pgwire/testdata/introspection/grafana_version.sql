-- Grafana's PostgreSQL data source: the version check when the data source is saved.
SELECT current_setting('server_version_num')::int/100 AS version
