"""Breaking changes between two OpenAPI 3.x documents: the oasdiff rules this lab needs.

`breaking_changes(base, revision)` lists, in words, what a client written against
`base` would trip over in `revision` (oasdiff's ids in brackets, from its checks
list, https://github.com/oasdiff/oasdiff/blob/main/docs/BREAKING-CHANGES-EXAMPLES.md):

- a path or an operation removed [api-path-removed-without-deprecation,
  api-removed-without-deprecation];
- a success status removed from an operation [response-success-status-removed];
- a new required request parameter, body or body property [new-required-request-parameter,
  request-body-became-required, new-required-request-property];
- a type changed: a request accepting less than before, a response answering a type the
  client never saw, null included [request-property-type-changed,
  request-parameter-type-changed, response-property-type-changed,
  response-property-became-nullable]; integer is a kind of number;
- a response property removed, or no longer required
  [response-property-removed, response-required-property-became-optional];
- a request enum narrowed: a value clients may send is no longer accepted
  [request-property-enum-value-removed, request-parameter-enum-value-removed].

Relaxations (new optional fields, new paths, wider request types) are not breaking.
$refs to components are followed, with a depth limit for recursive schemas.
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_DEPTH = 24


def breaking_changes(base: dict, revision: dict, *, prefix: str = "") -> list[str]:
    found: list[str] = []
    for path, base_item in base.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        rev_item = revision.get("paths", {}).get(path)
        if rev_item is None:
            found.append(f"path {path} was removed")
            continue
        for method in METHODS:
            if method not in base_item:
                continue
            op = f"{method.upper()} {path}"
            if method not in rev_item:
                found.append(f"operation {op} was removed")
                continue
            _operation(op, base_item[method], rev_item[method], base, revision, found)
    return found


def _operation(op: str, b: dict, r: dict, bdoc: dict, rdoc: dict, found: list[str]) -> None:
    bparams = {
        (p["in"], p["name"]): p for p in map(lambda p: _deref(p, bdoc), b.get("parameters", []))
    }
    rparams = {
        (p["in"], p["name"]): p for p in map(lambda p: _deref(p, rdoc), r.get("parameters", []))
    }
    for key, rp in rparams.items():
        bp = bparams.get(key)
        if rp.get("required") and not (bp and bp.get("required")):
            found.append(f"{op}: new required {key[0]} parameter '{key[1]}'")
        if bp is not None:
            _schema(f"{op}: {key[0]} parameter '{key[1]}'", bp.get("schema", {}),
                    rp.get("schema", {}), bdoc, rdoc, "request", found, 0)  # fmt: skip
    bbody, rbody = (
        _deref(b.get("requestBody") or {}, bdoc),
        _deref(r.get("requestBody") or {}, rdoc),
    )
    if rbody.get("required") and not bbody.get("required"):
        found.append(f"{op}: the request body became required")
    for media, content in bbody.get("content", {}).items():
        rcontent = rbody.get("content", {}).get(media)
        if rcontent is not None:
            _schema(f"{op}: request body", content.get("schema", {}), rcontent.get("schema", {}),
                    bdoc, rdoc, "request", found, 0)  # fmt: skip
    for status, bresp in b.get("responses", {}).items():
        rresp = r.get("responses", {}).get(status)
        if rresp is None:
            if str(status).startswith("2"):
                found.append(f"{op}: success status {status} was removed")
            continue
        bresp, rresp = _deref(bresp, bdoc), _deref(rresp, rdoc)
        for media, content in bresp.get("content", {}).items():
            rcontent = rresp.get("content", {}).get(media)
            if rcontent is None:
                if str(status).startswith("2"):
                    found.append(f"{op}: response {status} is no longer {media}")
                continue
            _schema(f"{op}: response {status}", content.get("schema", {}),
                    rcontent.get("schema", {}), bdoc, rdoc, "response", found, 0)  # fmt: skip


def _deref(node: Any, doc: dict) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < MAX_DEPTH:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return node
            target = target[part]
        node, seen = target, seen + 1
    return node


def _variants(schema: dict, doc: dict) -> list[dict]:
    """The alternatives a schema allows: anyOf/oneOf members, flattened; allOf merged."""
    schema = _deref(schema, doc)
    if not isinstance(schema, dict):
        return [{}]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out: list[dict] = []
            for member in schema[key]:
                out.extend(_variants(member, doc))
            return out
    if "allOf" in schema:
        merged: dict = {k: v for k, v in schema.items() if k != "allOf"}
        for member in schema["allOf"]:
            for part in _variants(member, doc)[:1]:
                for k, v in part.items():
                    if k == "properties":
                        merged.setdefault("properties", {}).update(v)
                    elif k == "required":
                        merged["required"] = [*merged.get("required", []), *v]
                    else:
                        merged.setdefault(k, v)
        return [merged]
    return [schema]


def _types(variants: list[dict]) -> set[str]:
    types: set[str] = set()
    for v in variants:
        t = v.get("type")
        if isinstance(t, list):
            types.update(t)
        elif isinstance(t, str):
            types.add(t)
        elif "properties" in v:
            types.add("object")
        elif "items" in v:
            types.add("array")
        elif "enum" in v or "const" in v:
            values = v.get("enum", [v.get("const")])
            types.update(_json_type(x) for x in values)
        else:
            types.add("any")
        if v.get("nullable") is True:  # OpenAPI 3.0's spelling of null
            types.add("null")
    return types


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covers(types: set[str], t: str) -> bool:
    return "any" in types or t in types or (t == "integer" and "number" in types)


def _enum(variants: list[dict]) -> set | None:
    """The values allowed, if every non-null alternative is an enum (else None: any)."""
    values: set = set()
    for v in variants:
        if v.get("type") == "null":
            continue
        if "enum" in v:
            values.update(_hashable(x) for x in v["enum"])
        elif "const" in v:
            values.add(_hashable(v["const"]))
        else:
            return None
    return values


def _hashable(x: Any) -> Any:
    return repr(x) if isinstance(x, (list, dict)) else x


def _object(variants: list[dict]) -> dict | None:
    for v in variants:
        if "properties" in v or v.get("type") == "object":
            return v
    return None


def _array(variants: list[dict]) -> dict | None:
    for v in variants:
        if v.get("type") == "array" or "items" in v:
            return v
    return None


def _schema(where: str, b: dict, r: dict, bdoc: dict, rdoc: dict, direction: str,
            found: list[str], depth: int) -> None:  # fmt: skip
    if depth > MAX_DEPTH:
        return
    bv, rv = _variants(b, bdoc), _variants(r, rdoc)
    bt, rt = _types(bv), _types(rv)
    if direction == "request":
        lost = sorted(t for t in bt if not _covers(rt, t))
        if lost:
            found.append(
                f"{where}: type changed from {_show(bt)} to {_show(rt)} (no longer accepts {', '.join(lost)})"
            )
        benum, renum = _enum(bv), _enum(rv)
        if renum is not None:
            if benum is None:
                found.append(f"{where}: now accepts only {sorted(map(str, renum))}")
            elif benum - renum:
                found.append(
                    f"{where}: enum narrowed, no longer accepts {sorted(map(str, benum - renum))}"
                )
    else:
        new = sorted(t for t in rt if not _covers(bt, t))
        if new:
            found.append(
                f"{where}: type changed from {_show(bt)} to {_show(rt)} (clients never saw {', '.join(new)})"
            )
    bo, ro = _object(bv), _object(rv)
    if bo is not None and ro is not None:
        bprops, rprops = bo.get("properties", {}), ro.get("properties", {})
        breq, rreq = set(bo.get("required", [])), set(ro.get("required", []))
        if direction == "request":
            for name in sorted(rreq - breq):
                found.append(f"{where}: new required property '{name}'")
        else:
            for name in sorted(bprops):
                if name not in rprops:
                    found.append(f"{where}: property '{name}' was removed")
                elif name in breq and name not in rreq:
                    found.append(f"{where}: property '{name}' is no longer always present")
        for name in sorted(set(bprops) & set(rprops)):
            _schema(f"{where}, property '{name}'", bprops[name], rprops[name], bdoc, rdoc,
                    direction, found, depth + 1)  # fmt: skip
    ba, ra = _array(bv), _array(rv)
    if ba is not None and ra is not None and "items" in ba and "items" in ra:
        _schema(
            f"{where}, items", ba["items"], ra["items"], bdoc, rdoc, direction, found, depth + 1
        )


def _show(types: set[str]) -> str:
    return "|".join(sorted(types)) or "nothing"
