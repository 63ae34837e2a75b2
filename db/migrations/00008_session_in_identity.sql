-- +goose Up
-- Instant revocation without a round trip of its own (docs/auth.md,
-- "Revocation"). Every statement of a request already travels behind the
-- statement that sets its identity (internal/postgres/scoped.go); for a
-- signed-in caller that statement is this function, which first checks
-- that the access token's session is still live (its refresh family not
-- revoked, its version the user's current one) and refuses the statement
-- with SQLSTATE BW401 if not. A revoked token therefore runs no statement
-- at all, at the price of one index probe and one primary-key read inside
-- a round trip the request makes anyway.
--
-- Only the sign-in scope may read refresh tokens (00003), so the function
-- takes that scope for its check, transaction-locally, then sets the
-- caller's identity: the same two settings, with the same is_local = true,
-- as the plain identity statement. It is SECURITY INVOKER, like the policy
-- functions: it does nothing the service's role could not do by calling
-- set_config itself, so it needs no grant beyond EXECUTE, and no owner's
-- privileges. If the check fails the transaction is aborted and the
-- settings go with it; if it passes, the settings end with the
-- transaction, as before (TestPooledConnectionForgetsTheIdentity).
--
-- The parameters are named so that no column of users or refresh_tokens
-- shadows them, and the search path is fixed with pg_temp last, so that no
-- temporary table named users or refresh_tokens can stand in for the real
-- ones (a temporary schema is otherwise searched first).
-- +goose StatementBegin
CREATE FUNCTION bulwark_identify(caller uuid, caller_scope text, session_family uuid, session_version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = public, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM set_config('bulwark.user_id', '', true), set_config('bulwark.scope', 'auth', true);
    PERFORM FROM users u
    WHERE u.id = caller AND u.token_version = session_version
      AND EXISTS (SELECT FROM refresh_tokens r
                  WHERE r.family_id = session_family AND r.user_id = u.id AND r.revoked_at IS NULL);
    IF NOT FOUND THEN
        -- One answer for a deleted user, a revoked family and a stale
        -- version: the client gets the same 401 for each.
        RAISE EXCEPTION 'session ended' USING ERRCODE = 'BW401';
    END IF;
    PERFORM set_config('bulwark.user_id', caller::text, true), set_config('bulwark.scope', caller_scope, true);
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION bulwark_identify(uuid, text, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bulwark_identify(uuid, text, uuid, integer) TO bulwark_app;

-- +goose Down
DROP FUNCTION bulwark_identify(uuid, text, uuid, integer);
