#!/usr/bin/env python3
"""Parses a Prometheus text exposition with prometheus_client's own parser and prints every
sample as one line: NAME{label="value",...} VALUE, labels sorted, so a C++ test can assert on
what a real Prometheus parser read. With --dashboard FILE, also checks that every metric the
Grafana dashboard queries is in the exposition (exit 3 naming the missing ones).

  parse_metrics.py EXPOSITION_FILE [--dashboard FILE]
"""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1]).read()
    names = set()
    families = 0
    for family in text_string_to_metric_families(text):
        families += 1
        for sample in family.samples:
            names.add(sample.name)
            labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(sample.labels.items()))
            print("%s{%s} %r" % (sample.name, labels, float(sample.value)))
    if families == 0:
        sys.exit("no metric families parsed")
    if len(sys.argv) > 3 and sys.argv[2] == "--dashboard":
        dashboard = json.load(open(sys.argv[3]))
        wanted = set()
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                wanted.update(re.findall(r"\b((?:collections|process)_[a-z0-9_]+)", target["expr"]))
        missing = sorted(w for w in wanted if w not in names)
        if missing:
            print("dashboard queries metrics the service does not export: " + ", ".join(missing),
                  file=sys.stderr)
            sys.exit(3)


if __name__ == "__main__":
    main()
