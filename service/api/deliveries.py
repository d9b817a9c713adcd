"""Notices beyond the inbox: one's own channel choice (everyone), and what the
administrator manages: the channels offered, the texts, the delivery log, webhooks."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from schemas.deliveries import (
    ChannelName,
    DeliveryOut,
    DeliveryPage,
    DeliveryStatusName,
    DeliverySummary,
    NoticeSettingsIn,
    NoticeSettingsOut,
    NoticeTextIn,
    NoticeTextList,
    NoticeTextOut,
    NoticeTextVersions,
    PreferencesIn,
    PreferencesOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
    SubscriptionWithSecret,
)
from service.api.access import needs
from service.api.deps import Ctx, Db, Page
from service.domain.access import Permission
from service.services import delivery_admin, preferences

KindPath = Annotated[str, PathParameter(name="kind", max_length=40, description="A notice kind, e.g. case.logged.")]


class PreferenceController(Controller):
    path = "/notifications/preferences"
    tags = ["notifications"]

    @get("/", summary="My channels beyond the inbox, and those offered", opt=needs(Permission.NOTIFICATIONS))
    async def read(self, db: Db, ctx: Ctx) -> PreferencesOut:
        return await preferences.read_mine(db, ctx)

    @put("/", summary="Choose my channels beyond the inbox", opt=needs(Permission.NOTIFICATIONS))
    async def choose(self, db: Db, ctx: Ctx, data: JSONBody[PreferencesIn]) -> PreferencesOut:
        return await preferences.choose(db, ctx, data)


class NoticeSettingController(Controller):
    path = "/notice-settings"
    tags = ["deliveries"]

    @get(
        "/",
        summary="The channels offered and the registered text-message templates",
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def read(self, db: Db) -> NoticeSettingsOut:
        return await delivery_admin.read_settings(db)

    @put("/", summary="Offer channels and register text-message templates", opt=needs(Permission.NOTICES_MANAGE))
    async def update(self, db: Db, ctx: Ctx, data: JSONBody[NoticeSettingsIn]) -> NoticeSettingsOut:
        return await delivery_admin.update_settings(db, ctx, data)


class NoticeTextController(Controller):
    path = "/notice-templates"
    tags = ["deliveries"]

    @get("/", summary="The text in use for each kind of notice", opt=needs(Permission.NOTICES_MANAGE))
    async def list_all(self, db: Db) -> NoticeTextList:
        return await delivery_admin.list_texts(db)

    @get("/{kind:str}/versions", summary="Every version of one kind's text", opt=needs(Permission.NOTICES_MANAGE))
    async def versions(self, db: Db, kind: KindPath) -> NoticeTextVersions:
        return await delivery_admin.text_versions(db, kind)

    @put(
        "/{kind:str}",
        summary="Save a new version of one kind's text (an older text saved again goes back to it)",
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def save(self, db: Db, ctx: Ctx, kind: KindPath, data: JSONBody[NoticeTextIn]) -> NoticeTextOut:
        return await delivery_admin.save_text(db, ctx, kind, data)


class DeliveryController(Controller):
    path = "/deliveries"
    tags = ["deliveries"]

    @get("/", summary="The delivery log, newest first", opt=needs(Permission.NOTICES_MANAGE))
    async def list_all(
        self,
        db: Db,
        paging: Page,
        status: FromQuery[DeliveryStatusName | None] = None,
        channel: FromQuery[ChannelName | None] = None,
    ) -> DeliveryPage:
        return await delivery_admin.list_deliveries(db, status, channel, paging.limit, paging.offset)

    @get("/summary", summary="How many deliveries are pending, sent and parked", opt=needs(Permission.NOTICES_MANAGE))
    async def summary(self, db: Db) -> DeliverySummary:
        return await delivery_admin.summary(db)

    @post(
        "/{delivery_id:uuid}/retry",
        summary="Send a parked delivery again",
        status_code=HTTP_200_OK,
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def retry(self, db: Db, ctx: Ctx, delivery_id: FromPath[uuid.UUID]) -> DeliveryOut:
        return await delivery_admin.retry(db, ctx, delivery_id)

    @post(
        "/{delivery_id:uuid}/replay",
        summary="Send a webhook message again, with the same message id",
        status_code=HTTP_200_OK,
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def replay(self, db: Db, ctx: Ctx, delivery_id: FromPath[uuid.UUID]) -> DeliveryOut:
        return await delivery_admin.replay(db, ctx, delivery_id)


class WebhookSubscriptionController(Controller):
    path = "/webhook-subscriptions"
    tags = ["deliveries"]

    @get("/", summary="Webhook subscriptions", opt=needs(Permission.NOTICES_MANAGE))
    async def list_all(self, db: Db, paging: Page) -> SubscriptionPage:
        return await delivery_admin.list_subscriptions(db, paging.limit, paging.offset)

    @post(
        "/",
        summary="Subscribe a receiver (its signing secret is shown in this answer only)",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def create(self, db: Db, ctx: Ctx, data: JSONBody[SubscriptionIn]) -> SubscriptionWithSecret:
        return await delivery_admin.create_subscription(db, ctx, data)

    @get("/{subscription_id:uuid}", summary="One webhook subscription", opt=needs(Permission.NOTICES_MANAGE))
    async def read(self, db: Db, subscription_id: FromPath[uuid.UUID]) -> SubscriptionOut:
        return await delivery_admin.read_subscription(db, subscription_id)

    @patch("/{subscription_id:uuid}", summary="Change a webhook subscription", opt=needs(Permission.NOTICES_MANAGE))
    async def update(
        self, db: Db, ctx: Ctx, subscription_id: FromPath[uuid.UUID], data: JSONBody[SubscriptionPatch]
    ) -> SubscriptionOut:
        return await delivery_admin.update_subscription(db, ctx, subscription_id, data)

    @delete(
        "/{subscription_id:uuid}",
        summary="Remove a webhook subscription (switched off; its delivery log stays)",
        status_code=HTTP_204_NO_CONTENT,
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def remove(self, db: Db, ctx: Ctx, subscription_id: FromPath[uuid.UUID]) -> None:
        await delivery_admin.remove_subscription(db, ctx, subscription_id)

    @post(
        "/{subscription_id:uuid}/rotate-secret",
        summary="Replace the signing secret (shown once; the old one signs for 24 more hours)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def rotate_secret(self, db: Db, ctx: Ctx, subscription_id: FromPath[uuid.UUID]) -> SubscriptionWithSecret:
        return await delivery_admin.rotate_secret(db, ctx, subscription_id)

    @get(
        "/{subscription_id:uuid}/deliveries",
        summary="One subscription's delivery log, newest first",
        opt=needs(Permission.NOTICES_MANAGE),
    )
    async def deliveries(
        self,
        db: Db,
        paging: Page,
        subscription_id: FromPath[uuid.UUID],
        status: FromQuery[DeliveryStatusName | None] = None,
    ) -> DeliveryPage:
        return await delivery_admin.list_deliveries(
            db, status, None, paging.limit, paging.offset, subscription_id=subscription_id
        )
