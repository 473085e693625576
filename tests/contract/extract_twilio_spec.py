"""Extract the Messages part of Twilio's OpenAPI description for the contract tests.

Twilio's full 2010-04-01 description is about 1.9 MB. The provider uses one path, the Messages
list (`POST` to send, `GET` to list). This script copies that path with only those two
operations, every component schema that they reference (following `$ref`s transitively) and
the security schemes that they name. The result, `twilio_messages.json`, is committed so that a
clone of the repository runs the contract tests without the full description.

Usage: python tests/contract/extract_twilio_spec.py [SOURCE_DIR]

SOURCE_DIR holds `twilio_api_v2010.json` and `LICENSE` from the `twilio/twilio-oai` repository
(file `spec/json/twilio_api_v2010.json`); the default is `../shared/specs/twilio` relative to
the repository root.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "specs" / "twilio"
SOURCE_NAME = "twilio_api_v2010.json"
OUTPUT = HERE / "twilio_messages.json"
LICENSE_OUTPUT = HERE / "TWILIO_SPEC_LICENSE"

MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
OPERATIONS = ("post", "get")
SOURCE_NOTE = (
    "Subset of twilio/twilio-oai spec/json/twilio_api_v2010.json (MIT, see TWILIO_SPEC_LICENSE): "
    "the Messages list path with its POST and GET operations and the components they reference."
)


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the subset of `spec` that describes sending and listing Messages."""
    path_item = spec["paths"][MESSAGES_PATH]
    kept_item = {key: value for key, value in path_item.items() if key not in _HTTP_METHODS}
    for method in OPERATIONS:
        kept_item[method] = path_item[method]

    schemas = _referenced_schemas(spec, kept_item)
    security_names = _security_names(spec, kept_item)
    components: dict[str, Any] = {
        "securitySchemes": {
            name: spec["components"]["securitySchemes"][name] for name in sorted(security_names)
        },
        "schemas": {name: spec["components"]["schemas"][name] for name in sorted(schemas)},
    }
    tags = {tag for method in OPERATIONS for tag in path_item[method].get("tags", [])}
    info = dict(spec["info"])
    info["x-smskit-source"] = SOURCE_NOTE
    return {
        "openapi": spec["openapi"],
        "info": info,
        "servers": spec["servers"],
        "security": spec["security"],
        "tags": [tag for tag in spec["tags"] if tag["name"] in tags],
        "paths": {MESSAGES_PATH: kept_item},
        "components": components,
    }


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_SCHEMA_PREFIX = "#/components/schemas/"


def _referenced_schemas(spec: dict[str, Any], root: Any) -> set[str]:
    """Return the names of the component schemas that `root` references, transitively."""
    found: set[str] = set()
    pending = list(_refs(root))
    while pending:
        ref = pending.pop()
        if not ref.startswith(_SCHEMA_PREFIX):
            raise ValueError(f"unsupported $ref {ref!r}: only {_SCHEMA_PREFIX}NAME is handled")
        name = ref.removeprefix(_SCHEMA_PREFIX)
        if name in found:
            continue
        found.add(name)
        pending.extend(_refs(spec["components"]["schemas"][name]))
    return found


def _refs(node: Any) -> list[str]:
    """Return every `$ref` value inside a JSON value."""
    refs: list[str] = []
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                refs.append(ref)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return refs


def _security_names(spec: dict[str, Any], path_item: dict[str, Any]) -> set[str]:
    requirements = list(spec.get("security", []))
    for method in OPERATIONS:
        requirements.extend(path_item[method].get("security", []))
    return {name for requirement in requirements for name in requirement}


def render(spec: dict[str, Any]) -> str:
    """Serialise a description the way it is committed: indented, ending with a newline."""
    return json.dumps(extract(spec), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    source_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    source = source_dir / SOURCE_NAME
    if not source.is_file():
        print(f"{source} not found: pass the folder that holds {SOURCE_NAME} and LICENSE")
        return 2
    spec = json.loads(source.read_text(encoding="utf-8"))
    OUTPUT.write_text(render(spec), encoding="utf-8")
    shutil.copyfile(source_dir / "LICENSE", LICENSE_OUTPUT)
    print(f"wrote {OUTPUT.relative_to(REPO)} ({OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
