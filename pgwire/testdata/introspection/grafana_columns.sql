-- Grafana's PostgreSQL data source: the column picker for a table.
SELECT column_name AS "column", data_type AS "type"
FROM information_schema.columns
WHERE table_schema = 'views' AND table_name = 'kpis'
ORDER BY ordinal_position
