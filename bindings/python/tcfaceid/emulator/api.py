"""From a parsed request to a ``Response`` object: action routing, parameter
checking against the action's schema, QPS limits, and filling in the fields the
service always returns."""

from __future__ import annotations

from typing import Any, Mapping

from . import element, eid, encryption, paas, saas  # noqa: F401  (they register their handlers)
from .errors import ApiError
from .service import ACTIONS, API_VERSION, HANDLERS, SCHEMAS, Call, Service

_TYPE_NAMES = {"string": "String", "int64": "Integer", "uint64": "Integer", "bool": "Boolean", "float": "Float"}


def check_action(name: str, version: str) -> None:
    """InvalidAction / ActionOffline / NoSuchVersion / UnsupportedOperation before anything else."""
    if not name:
        raise ApiError("MissingParameter", "The request is missing a required parameter `Action`.")
    meta = ACTIONS.get(name)
    if meta is None or meta["group"] == "intl-leak":
        raise ApiError("InvalidAction", f"The action `{name}` is not valid for this version.")
    if not version:
        raise ApiError("MissingParameter", "The request is missing a required parameter `Version`.")
    if version != API_VERSION:
        raise ApiError("NoSuchVersion", f"The API version `{version}` does not exist.")
    if meta["status"] == "removed":
        raise ApiError("ActionOffline", f"The action `{name}` is offline.")
    if name not in HANDLERS:
        raise ApiError(
            "UnsupportedOperation",
            f"The action `{name}` exists in the service but is not implemented by the tcfaceid emulator.",
        )


def _coerce(value: Any, ftype: str) -> Any:
    """Parameters from a GET query or a v1 form arrive as strings."""
    if not isinstance(value, str):
        return value
    digits = value[1:] if value.startswith("-") else value
    if ftype in ("int64", "uint64") and digits.isascii() and digits.isdigit() and len(digits) <= 20:
        return int(value)
    if ftype == "bool" and value.lower() in ("true", "false"):  # the Python SDK sends True / False
        return value.lower() == "true"
    if ftype == "float":
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _type_ok(value: Any, ftype: str) -> bool:
    if value is None:
        return True  # null is treated as absent, as the SDKs drop null fields
    if ftype == "string":
        return isinstance(value, str)
    if ftype in ("int64", "uint64"):
        return isinstance(value, int) and not isinstance(value, bool) and (ftype == "int64" or value >= 0)
    if ftype == "bool":
        return isinstance(value, bool)
    if ftype == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if ftype.startswith("object<"):
        return isinstance(value, dict)
    if ftype.startswith("list<"):
        return isinstance(value, list)
    return True


def _check_fields(value: Mapping[str, Any], fields: list[dict[str, Any]], path: str, from_strings: bool) -> dict[str, Any]:
    known = {f["name"]: f for f in fields}
    out: dict[str, Any] = {}
    for key, item in value.items():
        spec = known.get(key)
        if spec is None:
            raise ApiError("UnknownParameter", f"The parameter `{path}{key}` is not recognized.")
        ftype = spec["type"]
        if from_strings:
            item = _coerce(item, ftype)
        if not _type_ok(item, ftype):
            raise ApiError("InvalidParameter", f"The type of parameter `{path}{key}` should be {_TYPE_NAMES.get(ftype, ftype)}.")
        out[key] = _check_nested(item, ftype, f"{path}{key}", from_strings)
    for spec in fields:
        if spec.get("required") and out.get(spec["name"]) in (None, ""):
            raise ApiError("MissingParameter", f"The request is missing a required parameter `{path}{spec['name']}`.")
    return out


def _check_nested(value: Any, ftype: str, path: str, from_strings: bool) -> Any:
    if value is None:
        return None
    inner = ftype[ftype.find("<") + 1 : -1] if "<" in ftype else ""
    if ftype.startswith("object<") and inner in SCHEMAS:
        return _check_fields(value, SCHEMAS[inner], path + ".", from_strings)
    if ftype.startswith("list<"):
        items = []
        for i, item in enumerate(value):
            if from_strings:
                item = _coerce(item, inner)
            if item is None or (inner in _TYPE_NAMES and not _type_ok(item, inner)):
                raise ApiError("InvalidParameter", f"The type of parameter `{path}.{i}` should be {_TYPE_NAMES.get(inner, inner)}.")
            if inner in SCHEMAS:
                if not isinstance(item, dict):
                    raise ApiError("InvalidParameter", f"The type of parameter `{path}.{i}` should be {inner}.")
                item = _check_fields(item, SCHEMAS[inner], f"{path}.{i}.", from_strings)
            items.append(item)
        return items
    return value


def handle(service: Service, name: str, params: Any, *, account: str, base_url: str, from_strings: bool = False) -> dict[str, Any]:
    """Run one checked call; returns the Response fields without RequestId."""
    if not isinstance(params, dict):
        raise ApiError("InvalidParameter", "The request body must be a JSON object.")
    meta = ACTIONS[name]
    checked = _check_fields(params, meta["request"], "", from_strings)
    service.check_qps(account, name)
    checked, ctx, whole_body = encryption.decrypt_request(service.encryption_keys, name, checked)
    if whole_body:  # the parameters arrived inside EncryptedBody: check them now
        checked = _check_fields(checked, meta["request"], "", False)
    call = Call(action=name, account=account, now=int(service.now()), base_url=base_url)
    result = HANDLERS[name](service, call, checked)
    out = {field: result.get(field) for field in meta["response"] if field != "RequestId"}
    return encryption.encrypt_response(ctx, name, out)
