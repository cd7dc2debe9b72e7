"""The code examples of the product documents, copied verbatim (indentation restored) apart from imports.

Python source guide: shared/seeds/001_1f49147a4475d1d6.txt. Custom-sources API: 000_8ad2521bc6d1e36f.txt.
Only the ``bizon.*`` import lines are replaced by ``from cdk import ...``. Where the guide leaves a
placeholder (``# Fetch data...``, ``# Custom signing logic``, ``# Process data...``), the fewest lines that
make it run are filled in and marked ``# filled in:``.
"""

from __future__ import annotations

IMPORTS = """from typing import List, Optional, Tuple, Type
from requests.auth import AuthBase
from cdk import AbstractSource
from cdk import SourceConfig
from cdk import SourceIteration, SourceRecord
from cdk import AuthBuilder
from pydantic import Field
"""

QUICKSTART_CONFIG = '''class MySourceConfig(SourceConfig):
    """Configuration for MySource."""
    api_url: str = Field(..., description="API base URL")
    page_size: int = Field(100, description="Records per page")
'''

QUICKSTART = (
    IMPORTS
    + QUICKSTART_CONFIG
    + """class MySource(AbstractSource):
    @staticmethod
    def streams() -> List[str]:
        return ["users", "orders"]
    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        return MySourceConfig
    def get_authenticator(self) -> Optional[AuthBase]:
        if self.config.authentication:
            return AuthBuilder.from_config(self.config.authentication)
        return None
    def check_connection(self) -> Tuple[bool, Optional[str]]:
        try:
            response = self.session.get(f"{self.config.api_url}/health")
            return response.ok, None
        except Exception as e:
            return False, str(e)
    def get_total_records_count(self) -> Optional[int]:
        return None # Unknown
    def get(self, pagination: dict = None) -> SourceIteration:
        page = pagination.get("page", 1) if pagination else 1
        response = self.session.get(
            f"{self.config.api_url}/{self.config.stream}",
            params={"page": page, "limit": self.config.page_size}
        )
        data = response.json()
        records = [
            SourceRecord(id=str(item["id"]), data=item)
            for item in data["items"]
        ]
        has_more = len(records) == self.config.page_size
        next_pagination = {"page": page + 1} if has_more else {}
        return SourceIteration(records=records, next_pagination=next_pagination)
"""
)

# "Implement AbstractSource with required methods" (its get() is `pass`: used with each pagination get()).
REQUIRED_METHODS_HEAD = (
    IMPORTS
    + QUICKSTART_CONFIG
    + '''class MySource(AbstractSource):
    @staticmethod
    def streams() -> List[str]:
        """Return available stream names."""
        return ["users", "orders", "products"]
    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        """Return the config class."""
        return MySourceConfig
    def get_authenticator(self) -> Optional[AuthBase]:
        """Return authenticator for the session."""
        if self.config.authentication:
            return AuthBuilder.from_config(self.config.authentication)
        return None
    def check_connection(self) -> Tuple[bool, Optional[str]]:
        """Test connectivity. Return (success, error_message)."""
        try:
            response = self.session.get(f"{self.config.api_url}/ping")
            return response.ok, None
        except Exception as e:
            return False, str(e)
    def get_total_records_count(self) -> Optional[int]:
        """Return total record count if known."""
        response = self.session.get(f"{self.config.api_url}/count")
        return response.json().get("total")
'''
)

CURSOR_GET = """    def get(self, pagination: dict = None) -> SourceIteration:
        cursor = pagination.get("cursor") if pagination else None
        params = {"limit": self.config.page_size}
        if cursor:
            params["cursor"] = cursor
        response = self.session.get(
            f"{self.config.api_url}/{self.config.stream}",
            params=params
        )
        data = response.json()
        records = [
            SourceRecord(id=str(item["id"]), data=item)
            for item in data["items"]
        ]
        next_cursor = data.get("next_cursor")
        return SourceIteration(
            records=records,
            next_pagination={"cursor": next_cursor} if next_cursor else {}
        )
"""

OFFSET_GET = """    def get(self, pagination: dict = None) -> SourceIteration:
        offset = pagination.get("offset", 0) if pagination else 0
        response = self.session.get(
            f"{self.config.api_url}/{self.config.stream}",
            params={"offset": offset, "limit": self.config.page_size}
        )
        data = response.json()
        records = [
            SourceRecord(id=str(item["id"]), data=item)
            for item in data["items"]
        ]
        if len(records) < self.config.page_size:
            return SourceIteration(records=records, next_pagination={})
        return SourceIteration(
            records=records,
            next_pagination={"offset": offset + self.config.page_size}
        )
"""

PAGE_GET = """    def get(self, pagination: dict = None) -> SourceIteration:
        page = pagination.get("page", 1) if pagination else 1
        response = self.session.get(
            f"{self.config.api_url}/{self.config.stream}",
            params={"page": page, "per_page": self.config.page_size}
        )
        data = response.json()
        records = [
            SourceRecord(id=str(item["id"]), data=item)
            for item in data["items"]
        ]
        total_pages = data.get("total_pages", 1)
        if page >= total_pages:
            return SourceIteration(records=records, next_pagination={})
        return SourceIteration(
            records=records,
            next_pagination={"page": page + 1}
        )
"""

INCREMENTAL = (
    REQUIRED_METHODS_HEAD
    + CURSOR_GET
    + '''    def get_records_after(
        self,
        source_state: SourceIncrementalState,
        pagination: dict = None
    ) -> SourceIteration:
        """Fetch records updated after last sync."""
        cursor = pagination.get("cursor") if pagination else None
        since = source_state.last_run.isoformat()
        params = {
            "updated_since": since,
            "limit": self.config.page_size
        }
        if cursor:
            params["cursor"] = cursor
        response = self.session.get(
            f"{self.config.api_url}/{self.config.stream}",
            params=params
        )
        data = response.json()
        records = [
            SourceRecord(id=str(item["id"]), data=item)
            for item in data["items"]
        ]
        next_cursor = data.get("next_cursor")
        return SourceIteration(
            records=records,
            next_pagination={"cursor": next_cursor} if next_cursor else {}
        )
'''
).replace(
    "from cdk import AuthBuilder\n", "from cdk import AuthBuilder\nfrom cdk import SourceIncrementalState\n"
)

ROUTING = (
    REQUIRED_METHODS_HEAD
    + """    def get(self, pagination: dict = None) -> SourceIteration:
        # Fetch data...
        data = self.session.get(f"{self.config.api_url}/{self.config.stream}").json()  # filled in: the fetch
        records = []
        for item in data["items"]:
            record = SourceRecord(
                id=str(item["id"]),
                data=item,
                destination_id=f"project.dataset.{item['type']}_events"
            )
            records.append(record)
        return SourceIteration(records=records, next_pagination={})
"""
)

CUSTOM_AUTH = (
    IMPORTS
    + """class MySourceConfig(SourceConfig):
    api_url: str = Field(..., description="API base URL")
    page_size: int = Field(100, description="Records per page")
    api_key: str = Field(..., description="API key", json_schema_extra={"writeOnly": True})
    api_secret: str = Field(..., description="Signing secret", json_schema_extra={"writeOnly": True})
from requests.auth import AuthBase
class CustomAuth(AuthBase):
    def __init__(self, api_key: str, secret: str):
        self.api_key = api_key
        self.secret = secret
    def __call__(self, request):
        signature = self._sign(request)
        request.headers["X-API-Key"] = self.api_key
        request.headers["X-Signature"] = signature
        return request
    def _sign(self, request):
        # Custom signing logic
        return hmac.new(self.secret.encode(), request.path_url.encode(), hashlib.sha256).hexdigest()  # filled in
"""
    + REQUIRED_METHODS_HEAD.split("class MySource(AbstractSource):\n", 1)[1]
    .replace(
        '''    def get_authenticator(self) -> Optional[AuthBase]:
        """Return authenticator for the session."""
        if self.config.authentication:
            return AuthBuilder.from_config(self.config.authentication)
        return None
''',
        "",
    )
    .join(["class MySource(AbstractSource):\n", ""])
    + """    def get_authenticator(self) -> Optional[AuthBase]:
        return CustomAuth(
            api_key=self.config.api_key,
            secret=self.config.api_secret
        )
"""
    + PAGE_GET
).replace("from pydantic import Field\n", "from pydantic import Field\nimport hashlib\nimport hmac\n")

ERROR_HANDLING = (
    REQUIRED_METHODS_HEAD.replace(
        'page_size: int = Field(100, description="Records per page")\n',
        'page_size: int = Field(100, description="Records per page")\n'
        '    timeout: int = Field(30, description="Request timeout in seconds")\n',
    )
    + """    def get(self, pagination: dict = None) -> SourceIteration:
        try:
            response = self.session.get(
                f"{self.config.api_url}/{self.config.stream}",
                timeout=self.config.timeout
            )
            response.raise_for_status()
            data = response.json()
        except requests.exceptions.Timeout:
            raise RuntimeError(f"Request timed out after {self.config.timeout}s")
        except requests.exceptions.HTTPError as e:
            if response.status_code == 429:
                # Rate limited - Bizon will retry
                raise RuntimeError("Rate limited, will retry")
            raise RuntimeError(f"API error: {e}")
        except Exception as e:
            raise RuntimeError(f"Failed to fetch data: {e}")
        # Process data...
        records = [SourceRecord(id=str(item["id"]), data=item) for item in data["items"]]  # filled in
        return SourceIteration(records=records, next_pagination={})  # filled in
"""
).replace("from pydantic import Field\n", "from pydantic import Field\nfrom cdk import requests\n")

FULL_REST = '''from datetime import datetime
from typing import List, Optional, Tuple, Type
from requests.auth import AuthBase
from pydantic import Field
from pytz import UTC
from cdk import AbstractSource
from cdk import SourceConfig
from cdk import (
    SourceIteration,
    SourceRecord,
    SourceIncrementalState
)
from cdk import AuthBuilder
class RestApiSourceConfig(SourceConfig):
    """Configuration for REST API Source."""
    base_url: str = Field(..., description="API base URL")
    page_size: int = Field(100, description="Records per page")
    timeout: int = Field(30, description="Request timeout")
class RestApiSource(AbstractSource):
    """Generic REST API source connector."""
    @staticmethod
    def streams() -> List[str]:
        return ["users", "orders", "products"]
    @staticmethod
    def get_config_class() -> Type[SourceConfig]:
        return RestApiSourceConfig
    def get_authenticator(self) -> Optional[AuthBase]:
        if self.config.authentication:
            return AuthBuilder.from_config(self.config.authentication)
        return None
    def check_connection(self) -> Tuple[bool, Optional[str]]:
        try:
            response = self.session.get(
                f"{self.config.base_url}/health",
                timeout=self.config.timeout
            )
            return response.ok, None
        except Exception as e:
            return False, str(e)
    def get_total_records_count(self) -> Optional[int]:
        try:
            response = self.session.get(
                f"{self.config.base_url}/{self.config.stream}/count"
            )
            return response.json().get("total")
        except:
            return None
    def get(self, pagination: dict = None) -> SourceIteration:
        cursor = pagination.get("cursor") if pagination else None
        params = {"limit": self.config.page_size}
        if cursor:
            params["after"] = cursor
        response = self.session.get(
            f"{self.config.base_url}/{self.config.stream}",
            params=params,
            timeout=self.config.timeout
        )
        response.raise_for_status()
        data = response.json()
        records = [
            SourceRecord(
                id=str(item["id"]),
                data=item,
                timestamp=datetime.fromisoformat(
                    item.get("updated_at", datetime.now(UTC).isoformat())
                )
            )
            for item in data.get("data", [])
        ]
        next_cursor = data.get("pagination", {}).get("next_cursor")
        return SourceIteration(
            records=records,
            next_pagination={"cursor": next_cursor} if next_cursor else {}
        )
    def get_records_after(
        self,
        source_state: SourceIncrementalState,
        pagination: dict = None
    ) -> SourceIteration:
        cursor = pagination.get("cursor") if pagination else None
        params = {
            "limit": self.config.page_size,
            "updated_since": source_state.last_run.isoformat()
        }
        if cursor:
            params["after"] = cursor
        response = self.session.get(
            f"{self.config.base_url}/{self.config.stream}",
            params=params,
            timeout=self.config.timeout
        )
        response.raise_for_status()
        data = response.json()
        records = [
            SourceRecord(
                id=str(item["id"]),
                data=item,
                timestamp=datetime.fromisoformat(item["updated_at"])
            )
            for item in data.get("data", [])
        ]
        next_cursor = data.get("pagination", {}).get("next_cursor")
        return SourceIteration(
            records=records,
            next_pagination={"cursor": next_cursor} if next_cursor else {}
        )
'''

# Custom-sources API: the simpler contract (000_8ad2521bc6d1e36f.txt).
SIMPLE_CONTRACT = """from typing import Iterator
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
