-- Grafana's PostgreSQL data source: a panel's query grouped by time,
-- SELECT $__timeGroupAlias(updated_at, '1h'), sum(events) AS events FROM views.kpis
-- WHERE $__timeFilter(updated_at) GROUP BY 1 ORDER BY 1
-- The macros are expanded as pkg/tsdb/grafana-postgresql-datasource/macros.go of
-- github.com/grafana/grafana at commit 02ab314b81e2adc656bd7d08cc0533304a0037ff expands them,
-- for the time range 2026-11-01T00:00:00Z to 2026-11-01T13:30:00Z.
SELECT floor(extract(epoch from updated_at)/3600)*3600 AS "time", sum(events) AS events FROM views.kpis
WHERE updated_at BETWEEN '2026-11-01T00:00:00Z' AND '2026-11-01T13:30:00Z' GROUP BY 1 ORDER BY 1
