"""HTTP shapes of organizations, users and tokens."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.accounts.models import LANGUAGES, ORGANIZATION_KINDS, ROLES
from service.edge.schemas import Flag, Id, Name


def language_field(**options: Any) -> fields.String:
    """A language Fiducia speaks: `it` or `en`."""
    return fields.String(validate=validate.OneOf(LANGUAGES), **options)


class OrganizationIn(Schema):
    name = Name(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ORGANIZATION_KINDS))
    language = language_field(
        load_default="en",
        metadata={"description": "the language of its report files and notices' text"},
    )


class LanguageIn(Schema):
    language = language_field(required=True, allow_none=True)


class OrganizationPatchIn(Schema):
    language = language_field(required=True)


class OrganizationOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    language = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class UserIn(Schema):
    organization_id = Id(load_default=None, allow_none=True, strict=True)
    name = Name(required=True)
    email = fields.Email(required=True, validate=validate.Length(3, 320))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class UserOut(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    active = fields.Boolean(
        required=True,
        metadata={"description": "false: deactivated, its tokens and sign-ins are refused"},
    )
    language = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the language of its pages; null: its browser's, else en"},
    )
    created_at = fields.AwareDateTime(required=True)


class UsersQuery(Schema):
    organization_id = Id(
        metadata={"description": "only this organization's users (others: their own only)"}
    )


class UserPatchIn(Schema):
    name = Name()
    role = fields.String(
        validate=validate.OneOf(ROLES),
        metadata={
            "description": "supplier organizations hold supplier users; client organizations "
            "client and finance users; admins belong to no organization"
        },
    )
    active = Flag(
        metadata={
            "description": "false deactivates the user at once (its sessions end, its tokens "
            "are refused); true restores its tokens that were not revoked"
        }
    )
    language = language_field(
        allow_none=True,
        metadata={"description": "the language of its pages (it, en); null: its browser's"},
    )

    @validates_schema
    def _changes_something(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one of name, role, active and language")


class MeOut(UserOut):
    organization = fields.Nested(OrganizationOut, required=True, allow_none=True)


class TokenOut(Schema):
    id = fields.Integer(required=True)
    token = fields.String(required=True, metadata={"description": "shown once; store it"})
    user_id = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)


class TokenInfoOut(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    prefix = fields.String(
        required=True,
        metadata={"description": "the token's first 12 characters, to tell tokens apart"},
    )
    created_at = fields.AwareDateTime(required=True)
    revoked_at = fields.AwareDateTime(required=True, allow_none=True)
    revoked = fields.Boolean(required=True)


class PasswordIn(Schema):
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(12, 200),
        metadata={"format": "password"},
    )


CURRENT_PASSWORD = (
    "the user's current password: needed when a user (an admin too, once it has a password) "
    "acts on itself; an admin acting on another user leaves it out"
)


def current_password_field(**options: Any) -> fields.String:
    """The password a user proves itself with when it acts on its own account."""
    return fields.String(
        load_only=True,
        validate=validate.Length(1, 200),
        metadata={"format": "password", "description": CURRENT_PASSWORD},
        **options,
    )


class OwnPasswordIn(PasswordIn):
    current_password = current_password_field(required=True)


class PasswordChangeIn(PasswordIn):
    current_password = current_password_field()


class TokenIn(Schema):
    current_password = current_password_field()
