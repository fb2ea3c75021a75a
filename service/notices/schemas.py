"""HTTP shapes of webhooks."""

from marshmallow import Schema, fields, validate


class WebhookIn(Schema):
    url = fields.Url(
        required=True,
        allow_none=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={"description": "null removes the webhook"},
    )
    secret = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(16, 200),
        metadata={"description": "the HMAC-SHA256 key; never shown again"},
    )


class WebhookOut(Schema):
    """The webhook as set; the secret is never shown."""

    organization_id = fields.Integer(required=True, attribute="id")
    url = fields.String(required=True, allow_none=True, attribute="webhook_url")
    signed = fields.Function(
        lambda organization: bool(organization.webhook_secret),
        required=True,
        metadata={"type": "boolean", "description": "a secret is set"},
    )
