"""The domain model; importing this package registers every table on ``db.metadata``."""

from datapass.models.audit import AuditEntry
from datapass.models.authorization import Authorization, authorization_documents
from datapass.models.authorization_request import (
    AuthorizationRequest,
    AuthorizationRequestEvent,
    RequestContact,
)
from datapass.models.document import Document
from datapass.models.instruction import (
    InstructorNotificationSetting,
    MessageTemplate,
    RequestFollow,
)
from datapass.models.invitation import Invitation
from datapass.models.message import Message
from datapass.models.organization import Membership, Organization
from datapass.models.outbox import OutboxJob
from datapass.models.periodic_task import PeriodicTaskRun
from datapass.models.token import ApiClient, ApiToken, OAuthAccessToken, TokenReminder
from datapass.models.user import User, UserRole
from datapass.models.user_session import UserSession
from datapass.models.webhook_endpoint import Webhook, WebhookAttempt

__all__ = [
    "ApiClient",
    "ApiToken",
    "AuditEntry",
    "Authorization",
    "AuthorizationRequest",
    "AuthorizationRequestEvent",
    "Document",
    "InstructorNotificationSetting",
    "Invitation",
    "Membership",
    "Message",
    "MessageTemplate",
    "OAuthAccessToken",
    "Organization",
    "OutboxJob",
    "PeriodicTaskRun",
    "RequestContact",
    "RequestFollow",
    "TokenReminder",
    "User",
    "UserRole",
    "UserSession",
    "Webhook",
    "WebhookAttempt",
    "authorization_documents",
]
