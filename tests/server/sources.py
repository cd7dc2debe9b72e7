"""Source code the service tests send (as the custom-sources document sends it: one file in a string)."""

from __future__ import annotations

# the full AbstractSource contract of the Python source guide (001), written against cdk's SDK
FULL = """from typing import List, Optional, Tuple, Type

from pydantic import Field

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class PeopleConfig(SourceConfig):
    api_url: str = Field("", description="API base URL")
    page_size: int = Field(100, description="Records per page")


class PeopleSource(AbstractSource):
    @staticmethod
    def streams() -> List[str]:
        return ["users", "orders"]

    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        return PeopleConfig

    def check_connection(self) -> Tuple[bool, Optional[str]]:
        return True, None

    def get(self, pagination: Optional[dict] = None) -> SourceIteration:
        # BODY
        return SourceIteration(
            records=[SourceRecord(id="1", data={"name": "Alice"}), SourceRecord(id="2", data={"name": "Bob"})],
            next_pagination={},
        )
"""

# a source that calls an API through the provided session (self.session) and checks the token
HTTP = """from typing import List, Optional, Tuple, Type

from cdk import AbstractSource, SourceConfig, SourceIteration, SourceRecord


class ApiConfig(SourceConfig):
    api_url: str


class ApiSource(AbstractSource):
    @staticmethod
    def streams() -> List[str]:
        return ["pages"]

    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        return ApiConfig

    def check_connection(self) -> Tuple[bool, Optional[str]]:
        token = self.config.authentication.params["token"] if self.config.authentication else ""
        response = self.session.get(f"{self.config.api_url}/ping", params={"token": token})
        if response.status_code != 200:
            return False, f"Connection failed: HTTP {response.status_code}"
        return True, None

    def get(self, pagination: Optional[dict] = None) -> SourceIteration:
        token = self.config.authentication.params["token"] if self.config.authentication else ""
        response = self.session.get(f"{self.config.api_url}/pages", params={"token": token})
        items = response.json()["items"]
        return SourceIteration(records=[SourceRecord(id=str(i["id"]), data=i) for i in items], next_pagination={})
"""

# the custom-sources document's own example, verbatim but for the import path of the SDK
DOCUMENT_EXAMPLE = """from typing import Iterator
from cdk import AbstractSource
from cdk import SourceRecord
class MySource(AbstractSource):
    def get_streams(self) -> list[str]:
        return ["users", "orders"]
    def check_connection(self) -> bool:
        # Verify API credentials
        return True
    def get_records(self, stream: str) -> Iterator[SourceRecord]:
        if stream == "users":
            yield SourceRecord(id="1", data={"name": "Alice"})
            yield SourceRecord(id="2", data={"name": "Bob"})
"""

# the simple contract without the base class (the runtime's SimpleSourceAdapter runs it)
SIMPLE = """from typing import Iterator
from cdk import SourceRecord
class MySource:
    def get_streams(self) -> list[str]:
        return ["users", "orders"]
    def check_connection(self) -> bool:
        return True
    def get_records(self, stream: str) -> Iterator[SourceRecord]:
        if stream == "users":
            yield SourceRecord(id="1", data={"name": "Alice"})
            yield SourceRecord(id="2", data={"name": "Bob"})
"""

# `import os` on line 5, as in the document's validate response
IMPORT_OS = FULL.replace("from cdk import AbstractSource", "import os\nfrom cdk import AbstractSource", 1)
assert IMPORT_OS.splitlines()[4] == "import os"


def full_with(body: str) -> str:
    """FULL with ``body`` run at the start of get() (indented into the method)."""
    return FULL.replace("# BODY", body.strip().replace("\n", "\n        "))
