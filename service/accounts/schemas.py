"""HTTP shapes of organizations, users and tokens."""

from marshmallow import Schema, fields, validate

from service.accounts.models import ORGANIZATION_KINDS, ROLES
from service.schemas import Id


class OrganizationIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(ORGANIZATION_KINDS))


class OrganizationOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class UserIn(Schema):
    organization_id = Id(load_default=None, allow_none=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.Email(required=True, validate=validate.Length(3, 320))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class UserOut(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class MeOut(UserOut):
    organization = fields.Nested(OrganizationOut, required=True, allow_none=True)


class TokenOut(Schema):
    id = fields.Integer(required=True)
    token = fields.String(required=True, metadata={"description": "shown once; store it"})
    user_id = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)


class PasswordIn(Schema):
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(12, 200),
        metadata={"format": "password"},
    )
