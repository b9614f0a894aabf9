"""Connect to lakectl's Postgres port with SQLAlchemy and psycopg2 and do what
Superset does when a database is added and a dataset made from one of its tables:
list schemas, tables and views, inspect each table's columns, keys and indexes, and
read a view with a LIMIT. Print what came back, for pgwire's TestSQLAlchemySuperset
to compare with a golden file.

Run: PGPASSWORD=... /usr/bin/python3 probe.py HOST:PORT USER
"""

import os
import sys

import psycopg2
import sqlalchemy
from sqlalchemy import create_engine, inspect, text


def show(label, value):
    print(f"# {label}")
    if isinstance(value, list):
        for v in value:
            print(v)
    else:
        print(value)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg2", username=sys.argv[2], password=os.environ["PGPASSWORD"],
        host=host, port=int(port), database="lakectl", query={"sslmode": "disable"})
    engine = create_engine(url)
    with engine.connect() as conn:
        dialect = conn.dialect
        # Superset's "Test connection": a ping on a raw connection.
        show("do_ping", dialect.do_ping(conn.connection))
        show("server_version_info", dialect.server_version_info)
        show("default_schema_name", dialect.default_schema_name)
        insp = inspect(conn)
        show("has_table('kpis', 'views'), has_table('events', 'silver')",
             [insp.has_table("kpis", "views"), insp.has_table("events", "silver")])
        schemas = insp.get_schema_names()
        show("get_schema_names()", schemas)
        for schema in schemas:
            tables = insp.get_table_names(schema)
            show(f"get_table_names({schema!r})", tables)
            views = insp.get_view_names(schema)
            show(f"get_view_names({schema!r})", views)
            for table in tables + views:
                cols = insp.get_columns(table, schema)
                show(f"get_columns({table!r}, {schema!r})",
                     [{k: (repr(v) if k == "type" else v) for k, v in c.items()} for c in cols])
                show(f"get_pk_constraint({table!r}, {schema!r})", insp.get_pk_constraint(table, schema))
                show(f"get_foreign_keys({table!r}, {schema!r})", insp.get_foreign_keys(table, schema))
                show(f"get_indexes({table!r}, {schema!r})", insp.get_indexes(table, schema))
                show(f"get_unique_constraints({table!r}, {schema!r})", insp.get_unique_constraints(table, schema))
                show(f"get_table_comment({table!r}, {schema!r})", insp.get_table_comment(table, schema))
        query = "SELECT day, events, revenue, label, even, updated_at, ratio FROM views.kpis ORDER BY day LIMIT 2"
        result = conn.execute(text(query))
        show(query, [list(result.keys())] + [tuple(r) for r in result])
        try:
            conn.execute(text("SELECT user_id FROM silver.events")).fetchall()
        except sqlalchemy.exc.DBAPIError as e:
            show("SELECT user_id FROM silver.events", f"error {e.orig.pgcode}: {e.orig.pgerror.strip()}")
    print("# versions")
    print(f"SQLAlchemy {sqlalchemy.__version__}, psycopg2 {psycopg2.__version__.split()[0]}")


main()
