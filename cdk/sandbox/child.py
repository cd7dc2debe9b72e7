"""What runs inside the sandbox: ``python -I -m cdk.sandbox.child`` (request on stdin, result on fd 3).

Order matters: everything the runtime needs is imported first, then the egress relay starts (a
loopback listener inside the sandbox's own network namespace whose only peer is the parent's proxy
socket), a seccomp filter forbids new processes (:mod:`cdk.sandbox.seccomp`), then the second layer goes on (PEP 578 audit hooks from :mod:`cdk.sandbox.audit` where that
module exists), and only then is the user's code written to the sandbox's own directory and run
through the ordinary runtime (:mod:`cdk.connector`, :mod:`cdk.sdk.runner`), as ``cdk read`` and
``cdk check`` run a connector folder.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

RESULT_FD = 3


def _relay(proxy_socket: str) -> int:
    """Listen on 127.0.0.1 (the sandbox's own loopback); forward each connection to the proxy socket."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            try:
                up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                up.connect(proxy_socket)
            except OSError:
                conn.close()
                continue
            threading.Thread(target=pipe, args=(conn, up), daemon=True).start()
            threading.Thread(target=pipe, args=(up, conn), daemon=True).start()

    threading.Thread(target=serve, name="cdk-egress-relay", daemon=True).start()
    return int(server.getsockname()[1])


def _record(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "data": r.data,
        "timestamp": r.timestamp.isoformat() if getattr(r, "timestamp", None) else None,
        "destination_id": getattr(r, "destination_id", None),
    }


def _write_connector(workdir: Path, req: dict[str, Any]) -> Path:
    folder = workdir / "connector"
    folder.mkdir()
    (folder / "custom_source.py").write_text(req["code"], encoding="utf-8")
    manifest = {
        "manifest_version": 1,
        "name": req["source_name"],
        "version": "0.0.0",
        "kind": "source",
        "capabilities": ["batch_extract"],
        "entrypoint": f"custom_source:{req['class_name']}",
        "allowed_hosts": list(req.get("allowed_hosts") or []),
        "streams": [{"name": s} for s in (req.get("streams") or [req.get("stream") or "default"])],
    }
    (folder / "connector.yaml").write_text(json.dumps(manifest), encoding="utf-8")  # JSON is YAML
    config: dict[str, Any] = dict(req.get("config") or {})
    if req.get("stream"):
        config["stream"] = req["stream"]
    if req.get("authentication") is not None:
        config["authentication"] = req["authentication"]
    # the config (credentials included) lives only in the sandbox's memory-backed directory
    (workdir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def _run(req: dict[str, Any]) -> dict[str, Any]:
    from cdk import connector
    from cdk.errors import CdkError
    from cdk.project import Project

    workdir = Path(req["workdir"])
    if req.get("folder"):  # a connector folder, bound read-only (cdk read --sandbox)
        folder = Path(req["folder"])
        (workdir / "config.json").write_text(json.dumps(req.get("config") or {}), encoding="utf-8")
    else:
        folder = _write_connector(workdir, req)
    config_path = workdir / "config.json"
    records: list[dict[str, Any]] = []
    max_records = int(req["max_records"]) if req.get("max_records") else None
    try:
        project = Project.load(folder)
        if req["action"] == "check":
            ok, reason = connector.check_connection(project, config_path)
            return {"success": bool(ok), "message": "Connection successful" if ok else (reason or "failed")}

        def sink(stream: str, batch: list[Any]) -> None:
            for r in batch:
                if max_records is None or len(records) < max_records:
                    records.append(_record(r))

        connector.read_stream(project, config_path, req.get("stream"), sink, max_records=max_records)
        return {"success": True, "records": records, "total_count": len(records), "error": None}
    except MemoryError:
        return {"success": False, "records": records, "error": "memory limit exceeded (MemoryError)"}
    except CdkError as exc:
        return {"success": False, "records": records, "error": exc.message}
    except RecursionError:
        return {
            "success": False,
            "records": records,
            "error": "RecursionError: maximum recursion depth exceeded",
        }
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit included
        return {"success": False, "records": records, "error": f"{type(exc).__name__}: {exc}"}


def _preimport() -> None:
    """Import what the runtime uses before the audit hooks go on (imports read files outside the
    sandbox directory; after the hooks only the user's module is imported)."""
    import requests  # noqa: F401

    importlib.import_module("yaml")
    from requests.adapters import HTTPAdapter  # noqa: F401

    import cdk.connector  # noqa: F401
    import cdk.declarative  # noqa: F401
    import cdk.project  # noqa: F401
    import cdk.sdk  # noqa: F401
    import cdk.sdk.auth  # noqa: F401
    import cdk.sdk.runner  # noqa: F401

    try:
        import encodings.idna  # noqa: F401
    except ImportError:
        pass


def _second_layer(req: dict[str, Any]) -> None:
    """PEP 578 audit hooks, when this installation has them (cdk/sandbox/audit.py)."""
    try:
        from cdk.sandbox import audit
    except ImportError:
        return
    audit.install(
        allowed_roots=[req["workdir"], *req.get("read_roots", []), str(Path(req["proxy_socket"]).parent)],
        allowed_hosts=list(req.get("allowed_hosts") or []),
        allow_loopback=True,
    )


def main() -> int:
    raw = sys.stdin.buffer.read()
    sys.stdin.close()
    req = json.loads(raw)
    out = os.fdopen(int(req.get("result_fd", RESULT_FD)), "w", encoding="utf-8")
    _preimport()
    from cdk.sandbox import seccomp

    seccomp.install()  # no new processes from here on (x86_64 Linux; elsewhere the other layers hold)
    port = _relay(req["proxy_socket"])
    proxy = f"http://127.0.0.1:{port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        os.environ[name] = proxy
    os.environ.pop("NO_PROXY", None)
    os.environ.pop("no_proxy", None)
    _second_layer(req)
    del raw
    result = _run(req)
    req.clear()
    json.dump(result, out, default=str)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
