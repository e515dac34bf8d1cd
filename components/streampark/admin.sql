-- StreamPark's metadata in PostgreSQL: its own schema and seed data (shipped inside the StreamPark
-- image, script/schema and script/data) loaded once, then the default admin password replaced by
-- the stack's generated secret. StreamPark hashes with Shiro: sha256(salt || password), re-hashed to
-- 1024 iterations, hex. Passwords arrive through the environment (\getenv), never in this file.
\set ON_ERROR_STOP on
SELECT to_regclass('public.t_user') IS NULL AS fresh \gset
\if :fresh
  \i /streampark/script/schema/pgsql-schema.sql
  \i /streampark/script/data/pgsql-data.sql
\endif

CREATE OR REPLACE FUNCTION pg_temp.shiro_sha256(password text, salt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h bytea := sha256(convert_to(salt || password, 'UTF8'));
BEGIN
  FOR i IN 2..1024 LOOP h := sha256(h); END LOOP;
  RETURN encode(h, 'hex');
END $$;

\getenv admin_password STREAMPARK_ADMIN_PASSWORD
-- \gset swallows the row, so the password never reaches the task's output.
SELECT set_config('rtdw.admin_password', :'admin_password', false) AS ignored \gset
UPDATE t_user
   SET salt = s.salt, password = pg_temp.shiro_sha256(current_setting('rtdw.admin_password'), s.salt)
  FROM (SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 26) AS salt) AS s
 WHERE username = 'admin'
   AND password IS DISTINCT FROM pg_temp.shiro_sha256(current_setting('rtdw.admin_password'), t_user.salt);
