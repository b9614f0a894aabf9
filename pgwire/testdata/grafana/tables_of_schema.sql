-- Grafana's PostgreSQL data source: showTables('views'), the tables of one schema.
-- Read from github.com/grafana/grafana at commit 12f912ab8d010f4d95a4043a0efaa20fc4ca0100,
-- public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts
SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'views'
      ORDER BY 1
