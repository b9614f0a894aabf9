-- Grafana's PostgreSQL data source: the table picker of the query builder.
select "table_name" as "table" from information_schema.tables
where "table_schema" not in ('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog',
    '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', 'timescaledb_experimental')
  and table_type = 'BASE TABLE'
order by 1
