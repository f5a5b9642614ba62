"""boto3 clients for the configured AWS: the local emulator or the real thing."""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config
from localstack_client.session import Session

from ecomdwh.settings import Settings

# Short retries: against a local emulator a failure is real, not throttling.
_EMULATOR_CONFIG = Config(
    s3={"addressing_style": "path"},
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=3,
    read_timeout=60,
)


def client(service: str, settings: Settings):
    """A boto3 client for `service`.

    Against an emulator the client comes from localstack-client, pointed at
    the settings' endpoint with the emulator's test credentials, and is kept
    for the next call (clients are thread-safe and cost more to make than most
    calls they serve); against AWS it is a plain boto3 client using the normal
    credential chain as the environment gives it now.
    """
    if not settings.uses_emulator:
        return boto3.client(service, region_name=settings.region)
    return _emulator_client(service, settings.region, f"{settings.emulator_host}:{settings.emulator_port}")


@functools.lru_cache(maxsize=32)
def _emulator_client(service: str, region: str, address: str):
    key, secret = Settings.emulator_credentials
    session = Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region, localstack_host=address)
    return session.client(service, config=_EMULATOR_CONFIG)


def s3(settings: Settings):
    return client("s3", settings)


# LocalStack 4.13.1 loses objects when it pages a listing whose keys contain "=" (every
# hive-style partition key does), but it honours page sizes far above S3's 1,000. Against the
# emulator a listing is therefore asked for in one page; on AWS, S3's own paging applies.
EMULATOR_PAGE_SIZE = 100_000


def list_pages(
    settings: Settings, bucket: str, prefix: str = "", delimiter: str | None = None, start_after: str | None = None
):
    """Pages of list_objects_v2 for `prefix` (keys after `start_after` only), safe against the emulator's paging
    fault."""
    params = {"Bucket": bucket, "Prefix": prefix} | ({"Delimiter": delimiter} if delimiter else {})
    if not settings.uses_emulator:
        params |= {"StartAfter": start_after} if start_after else {}
        yield from s3(settings).get_paginator("list_objects_v2").paginate(**params)
        return
    pages = (
        s3(settings)
        .get_paginator("list_objects_v2")
        .paginate(**params, PaginationConfig={"PageSize": EMULATOR_PAGE_SIZE})
    )
    for page in pages:
        # The emulator's StartAfter, like its paging, loses keys holding "=": it is applied here instead.
        if start_after and "Contents" in page:
            page["Contents"] = [o for o in page["Contents"] if o["Key"] > start_after]
        yield page
