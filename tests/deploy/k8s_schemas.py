#!/usr/bin/env python3
"""Lays out the Kubernetes JSON schemas that the kubernetes-validate package ships (PyPI)
as a local schema directory kubeconform can read without a network.

kubernetes-validate's "-local-strict" schemas give each file an https://kubernetes.io/... $id
and refer to their shared definitions as "/api/_definitions.json#/$defs/...", which resolve
to the web. Here every $id is dropped and the references point at the _definitions.json
beside them, so they resolve on disk.

  k8s_schemas.py OUT_DIR VERSION   ->  OUT_DIR/vVERSION-local-strict/<kind>-<group>-<v>.json
Prints the kubeconform -schema-location template to use.
"""
import json
import os
import sys

import kubernetes_validate


def main():
    out_dir, version = sys.argv[1], sys.argv[2]
    name = "v%s-local-strict" % version
    source = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema", name)
    if not os.path.isdir(source):
        sys.exit("kubernetes-validate %s has no schemas for Kubernetes %s" %
                 (getattr(kubernetes_validate, "__version__", "?"), version))
    target = os.path.join(out_dir, name)
    os.makedirs(target, exist_ok=True)
    for file_name in os.listdir(source):
        if not file_name.endswith(".json"):
            continue
        with open(os.path.join(source, file_name)) as f:
            text = f.read()
        text = text.replace('"/api/_definitions.json#', '"_definitions.json#')
        schema = json.loads(text)
        schema.pop("$id", None)
        with open(os.path.join(target, file_name), "w") as f:
            json.dump(schema, f)
    print(os.path.join(out_dir, "{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}",
                       "{{ .ResourceKind }}{{ .KindSuffix }}.json"))


if __name__ == "__main__":
    main()
