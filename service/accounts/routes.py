"""Organizations, users, tokens and the caller's own identity."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.accounts import service
from service.accounts.schemas import (
    MeOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatchIn,
    PasswordChangeIn,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UserIn,
    UserOut,
    UserPatchIn,
    UsersQuery,
)
from service.accounts.throttle import Throttle
from service.edge.actors import current_actor
from service.edge.sessions import get_session

blp = Blueprint("accounts", __name__, description="Organizations, users and API tokens")


@blp.route("/organizations")
class Organizations(MethodView):
    @blp.response(200, OrganizationOut(many=True))
    def get(self) -> Any:
        """List organizations (admin)."""
        return service.list_organizations(session=get_session(), actor=current_actor())

    @blp.arguments(OrganizationIn)
    @blp.response(201, OrganizationOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a client or supplier organization (admin)."""
        return service.create_organization(session=get_session(), actor=current_actor(), **body)


@blp.route("/organizations/<id:organization_id>")
class OneOrganization(MethodView):
    @blp.arguments(OrganizationPatchIn)
    @blp.response(200, OrganizationOut)
    def patch(self, body: dict[str, Any], organization_id: int) -> Any:
        """Change the language of an organization's report files and notices (admin)."""
        return service.update_organization(
            session=get_session(), actor=current_actor(), organization_id=organization_id, **body
        )


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UsersQuery, location="query")
    @blp.response(200, UserOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """List users: admins everyone (or one organization's), others their own organization's."""
        return service.list_users(session=get_session(), actor=current_actor(), **query)

    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a user with one role (admin)."""
        return service.create_user(session=get_session(), actor=current_actor(), **body)


@blp.route("/users/<id:user_id>")
class OneUser(MethodView):
    @blp.arguments(UserPatchIn)
    @blp.response(200, UserOut)
    def patch(self, body: dict[str, Any], user_id: int) -> Any:
        """Rename a user, change its role or language, or deactivate or reactivate it (admin).

        A deactivated user's sessions end and its tokens are refused at once; reactivating it
        restores the tokens that were not revoked. An admin cannot deactivate itself.
        """
        return service.update_user(
            session=get_session(), actor=current_actor(), user_id=user_id, **body
        )


@blp.route("/users/<id:user_id>/tokens")
class UserTokens(MethodView):
    @blp.response(200, TokenInfoOut(many=True))
    def get(self, user_id: int) -> Any:
        """List a user's tokens, newest first, without their secret (admin, or the user)."""
        return service.list_tokens(session=get_session(), actor=current_actor(), user_id=user_id)

    @blp.arguments(TokenIn, required=False)
    @blp.response(201, TokenOut)
    def post(self, body: dict[str, Any], user_id: int) -> Any:
        """Issue an API token; the token is shown only in this answer.

        An admin issues one for any other user. A user issues one for itself with its
        `current_password`, so that a token alone cannot mint tokens that outlive it.
        """
        return service.issue_token(
            session=get_session(),
            actor=current_actor(),
            user_id=user_id,
            throttle=Throttle.of_request(),
            **body,
        )


@blp.route("/tokens/<id:token_id>")
class Token(MethodView):
    @blp.response(204)
    def delete(self, token_id: int) -> None:
        """Revoke an API token."""
        service.revoke_token(session=get_session(), actor=current_actor(), token_id=token_id)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeOut)
    def get(self) -> Any:
        """Return the caller's user and organization."""
        return service.get_user(session=get_session(), user_id=current_actor().user_id)


@blp.route("/users/<id:user_id>/password")
class UserPassword(MethodView):
    @blp.arguments(PasswordChangeIn)
    @blp.response(204)
    def put(self, body: dict[str, Any], user_id: int) -> None:
        """Set the password a user signs in to the pages with.

        An admin sets any other user's. A user changes its own with its `current_password`;
        wrong ones are throttled with the account's failed sign-ins (429 with Retry-After).
        """
        service.set_password(
            session=get_session(),
            actor=current_actor(),
            user_id=user_id,
            throttle=Throttle.of_request(),
            **body,
        )
