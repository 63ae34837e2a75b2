#!/bin/sh
# Runs once, when the postgres container initialises an empty volume
# (docker-entrypoint-initdb.d): the two roles Bulwark runs as
# (docs/01-bola.md, "The second wall").
#
#   bulwark_owner  owns the database and so the tables the migrations
#                  create; the migrate and seed jobs log in as it
#                  (MIGRATE_DATABASE_URL).
#   bulwark_app    the service: owns nothing, no superuser, no BYPASSRLS, so
#                  row-level security binds everything it runs; the
#                  migrations grant it its table privileges by this name
#                  (DATABASE_URL). The API refuses to start in production
#                  as any other kind of role.
#
# The superuser of the image (POSTGRES_USER) runs this and is used for
# nothing else. psql's :'var' quotes the passwords as literals.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$BULWARK_OWNER_PASSWORD" -v app_password="$BULWARK_APP_PASSWORD" <<'SQL'
CREATE ROLE bulwark_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE bulwark_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
-- The database's owner owns its public schema (PostgreSQL 15+), so the
-- migrations may create tables there.
SELECT format('ALTER DATABASE %I OWNER TO bulwark_owner', current_database()) \gexec
SQL
