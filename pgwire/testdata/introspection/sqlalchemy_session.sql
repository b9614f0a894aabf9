-- What psycopg2 and SQLAlchemy send on connect besides the version.
show standard_conforming_strings
