-- SQLAlchemy's PostgreSQL dialect (Superset) reads the server version on connect.
select pg_catalog.version()
