#!/usr/bin/env python3
"""Extract every request and response example of HMRC's VAT (MTD) 1.0 OpenAPI
file into JSON files, keeping each number's exact text (105.50 stays 105.50).

Usage: extract_examples.py path/to/application.yaml outdir

Writes outdir/<operationId>/<kind>-<name>.json and outdir/index.json, where kind
is "request" or "response-<status>". Run it again when HMRC's file changes.
"""
import json
import os
import sys

import yaml


class Raw(str):
    """A JSON number kept as its source text."""


class Loader(yaml.SafeLoader):
    pass


# Keep dates and timestamps as strings, and numbers as their exact text.
Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_constructor("tag:yaml.org,2002:int", lambda l, n: Raw(l.construct_scalar(n)))
Loader.add_constructor("tag:yaml.org,2002:float", lambda l, n: Raw(l.construct_scalar(n)))


def dump(v, indent=0):
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(pad + dump(x, indent + 1) for x in v) + "\n" + end + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = (pad + json.dumps(str(k)) + ": " + dump(x, indent + 1) for k, x in v.items())
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    raise TypeError(type(v))


def media_examples(media):
    out = []
    for name, ex in (media.get("examples") or {}).items():
        out.append((name, ex.get("description", ""), ex.get("value")))
    if "example" in media:
        out.append(("example", "", media["example"]))
    return out


def main(src, outdir):
    spec = yaml.load(open(src, encoding="utf-8"), Loader=Loader)
    index = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            opid = op["operationId"]
            found = []
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if body:
                found += [("request", *e) for e in media_examples(body)]
            for status, resp in (op.get("responses") or {}).items():
                media = (resp.get("content") or {}).get("application/json")
                if media:
                    found += [("response-" + str(status), *e) for e in media_examples(media)]
            for kind, name, desc, value in found:
                if value is None:
                    continue
                rel = os.path.join(opid, f"{kind}-{name}.json")
                os.makedirs(os.path.join(outdir, opid), exist_ok=True)
                with open(os.path.join(outdir, rel), "w", encoding="utf-8") as f:
                    f.write(dump(value) + "\n")
                index.append({"operationId": opid, "method": method.upper(), "path": path,
                              "kind": kind, "name": name, "description": desc, "file": rel})
    with open(os.path.join(outdir, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    print(len(index), "examples")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
