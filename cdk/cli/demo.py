"""``cdk demo-api``: the local demo API in the foreground."""

from __future__ import annotations

import click

from cdk.cli.output import from_settings


@click.command("demo-api")
@click.option(
    "--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1 (0 picks a free one)."
)
@click.option(
    "--records", type=click.IntRange(min=0), default=1000, show_default=True, help="Records per stream."
)
@click.option(
    "--api-key",
    callback=from_settings("demo_api_key"),
    help="Require this API key (Bearer, X-API-Key or ?api_key=) [env: CDK_DEMO_API_KEY].",
)
def demo_api(port: int, records: int, api_key: str | None) -> None:
    """Serve synthetic records on 127.0.0.1 with every pagination style.

    Streams `users` and `orders`; GET /users?offset=0&limit=100 (also page/per_page, cursor, next URL,
    Link header, updated_since). POST /_control/faults scripts 401/429/500/slow answers.
    """
    from cdk.testing.demo_api import serve

    serve(records=records, port=port, api_key=api_key)
