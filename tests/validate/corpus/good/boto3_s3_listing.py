"""Objects of an S3 bucket listed through boto3 (metadata only, never files on disk)."""
from __future__ import annotations

from typing import Any

import boto3
from pydantic import SecretStr

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class S3Config(SourceConfig):
    bucket: str
    prefix: str = ""
    aws_access_key_id: str
    aws_secret_access_key: SecretStr
    region_name: str = "us-east-1"


class S3Source(AbstractSource):
    @staticmethod
    def streams() -> list[str]:
        return ["objects"]

    @staticmethod
    def get_config_class() -> type[SourceConfig]:
        return S3Config

    def _client(self):
        c = self.config
        return boto3.client("s3", region_name=c.region_name, aws_access_key_id=c.aws_access_key_id,
                            aws_secret_access_key=c.aws_secret_access_key.get_secret_value())

    def check_connection(self) -> tuple[bool, str | None]:
        self._client().head_bucket(Bucket=self.config.bucket)
        return True, None

    def get(self, pagination: dict[str, Any] | None = None) -> SourceIteration:
        kwargs = {"Bucket": self.config.bucket, "Prefix": self.config.prefix, "MaxKeys": 1000}
        if pagination:
            kwargs["ContinuationToken"] = pagination["token"]
        page = self._client().list_objects_v2(**kwargs)
        records = [SourceRecord(id=o["Key"], data={"key": o["Key"], "size": o["Size"], "etag": o["ETag"]})
                   for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        return SourceIteration(records=records, next_pagination={"token": token} if token else {})
