-- +goose Up
-- Instant revocation (docs/auth.md). Every access token carries the
-- token_version its user had when it was signed, and the authenticate
-- middleware compares it with the row on each request (one primary-key
-- read, which also brings the role the staff check needs). Bumping the
-- version ends every access token of the user at once.
--
-- A change of role or password bumps it here, in the database, so no code
-- path that demotes an admin or changes a password can forget to: the
-- trigger runs for the owner's scripts and psql sessions too.
-- +goose StatementBegin
CREATE FUNCTION users_bump_token_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role IS DISTINCT FROM OLD.role OR NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_token_version BEFORE UPDATE OF role, password_hash ON users
    FOR EACH ROW EXECUTE FUNCTION users_bump_token_version();

-- +goose Down
DROP TRIGGER users_token_version ON users;
DROP FUNCTION users_bump_token_version();
