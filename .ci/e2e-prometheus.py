#!/usr/bin/env python3
"""Prometheus for the end-to-end tests on the local cluster (.ci/cluster-e2e.sh).

  e2e-prometheus.py config RENDERED_CHART KUBECONFIG > prometheus.yml
      Translates the chart's PodMonitor and ServiceMonitor (from `helm template` with both enabled) into Prometheus
      scrape configs with Kubernetes service discovery, the way the Prometheus Operator translates them: the
      selectors and the endpoint's port become `keep` rules, the target gets namespace/pod/container (and service)
      labels, `job` is the monitor's name until the monitor's own relabelings run, and honorLabels is honor_labels.
      So what the test's Prometheus scrapes, and how its series are labelled, is what the chart asks for.

  e2e-prometheus.py check URL NAMESPACE START_UNIX JOB [JOB...]
      Runs every query of the chart's dashboards (helm/goodput/dashboards/*.json) over the range START..now, with
      Grafana's variables set as a user picks them (this namespace, each JOB, the price table as the price source).
      Fails when Prometheus refuses a query, or when a query returns no data for any JOB, except those listed in
      EMPTY_ON_THIS_CLUSTER with the reason. Prints one line per query.
"""
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

# Dashboard file / panel title / refId -> why it has no data on this cluster.
EMPTY_ON_THIS_CLUSTER = {
    "goodput-efficiency.json/Device memory by job/A": "CPU trainers report no device memory",
}
# Queries that read OpenCost's prices ($prices == 1) have data only where OpenCost runs; it does not run here.
OPENCOST_ONLY = "vector($prices) == 1"


def sanitize(label):
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


def selector_rules(selector, role):
    rules = []
    for k, v in (selector.get("matchLabels") or {}).items():
        rules.append({"action": "keep",
                      "source_labels": [f"__meta_kubernetes_{role}_label_{sanitize(k)}",
                                        f"__meta_kubernetes_{role}_labelpresent_{sanitize(k)}"],
                      "regex": f"({re.escape(str(v))});true"})
    for e in selector.get("matchExpressions") or []:
        k, op = sanitize(e["key"]), e["operator"]
        if op == "Exists":
            rules.append({"action": "keep", "source_labels": [f"__meta_kubernetes_{role}_labelpresent_{k}"], "regex": "true"})
        elif op == "DoesNotExist":
            rules.append({"action": "drop", "source_labels": [f"__meta_kubernetes_{role}_labelpresent_{k}"], "regex": "true"})
        elif op in ("In", "NotIn"):
            values = "|".join(re.escape(v) for v in e["values"])
            rules.append({"action": "keep" if op == "In" else "drop",
                          "source_labels": [f"__meta_kubernetes_{role}_label_{k}", f"__meta_kubernetes_{role}_labelpresent_{k}"],
                          "regex": f"({values});true"})
        else:
            raise SystemExit(f"selector operator {op} not translated")
    return rules


def user_relabelings(relabelings):
    out = []
    for r in relabelings or []:
        rule = {"action": r.get("action", "replace").lower()}
        for src, dst in (("sourceLabels", "source_labels"), ("targetLabel", "target_label"), ("regex", "regex"),
                         ("replacement", "replacement"), ("separator", "separator"), ("modulus", "modulus")):
            if src in r:
                rule[dst] = r[src]
        out.append(rule)
    return out


def sd_config(namespace_selector, own_namespace, role, kubeconfig):
    sd = {"role": role, "kubeconfig_file": kubeconfig}
    if not namespace_selector.get("any"):
        sd["namespaces"] = {"names": namespace_selector.get("matchNames") or [own_namespace]}
    return [sd]


def endpoint_settings(e):
    c = {"metrics_path": e.get("path", "/metrics"), "honor_labels": bool(e.get("honorLabels", False))}
    if "interval" in e:
        c["scrape_interval"] = e["interval"]
    if "scrapeTimeout" in e:
        c["scrape_timeout"] = e["scrapeTimeout"]
    return c


# What differs between the two monitors, as the Prometheus Operator translates them: the discovery role, where the
# selector's labels are found, the endpoint list and port label, and the target labels it adds before `job`.
MONITORS = {
    "PodMonitor": {"prefix": "podMonitor", "role": "pod", "labels": "pod", "endpoints": "podMetricsEndpoints",
                   "port": "__meta_kubernetes_pod_container_port_name",
                   "targets": [("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_pod_container_name", "container"),
                               ("__meta_kubernetes_pod_name", "pod")]},
    "ServiceMonitor": {"prefix": "serviceMonitor", "role": "endpoints", "labels": "service", "endpoints": "endpoints",
                       "port": "__meta_kubernetes_endpoint_port_name",
                       "targets": [("__meta_kubernetes_namespace", "namespace"), ("__meta_kubernetes_service_name", "service"),
                                   ("__meta_kubernetes_pod_name", "pod")]},
}


def monitor(m, kubeconfig):
    kind = MONITORS[m["kind"]]
    meta, spec = m["metadata"], m["spec"]
    configs = []
    for i, e in enumerate(spec[kind["endpoints"]]):
        rules = selector_rules(spec.get("selector") or {}, kind["labels"])
        rules.append({"action": "keep", "source_labels": [kind["port"]], "regex": e["port"]})
        rules += [{"source_labels": [src], "target_label": dst} for src, dst in kind["targets"]]
        # job: the PodMonitor's namespace/name, the ServiceMonitor's service, until the monitor's own relabelings.
        rules.append({"target_label": "job", "replacement": f"{meta['namespace']}/{meta['name']}"} if m["kind"] == "PodMonitor"
                     else {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job"})
        rules += user_relabelings(e.get("relabelings"))
        configs.append({"job_name": f"{kind['prefix']}/{meta['namespace']}/{meta['name']}/{i}",
                        "kubernetes_sd_configs": sd_config(spec.get("namespaceSelector") or {}, meta["namespace"], kind["role"], kubeconfig),
                        **endpoint_settings(e), "relabel_configs": rules})
    return configs


def config(rendered, kubeconfig):
    scrape = []
    kinds = set()
    for doc in yaml.safe_load_all(Path(rendered).read_text()):
        if not doc:
            continue
        if doc.get("kind") not in MONITORS:
            continue
        scrape += monitor(doc, kubeconfig)
        kinds.add(doc["kind"])
    if kinds != {"PodMonitor", "ServiceMonitor"}:
        raise SystemExit(f"the rendered chart has {sorted(kinds)}, not a PodMonitor and a ServiceMonitor")
    print(yaml.safe_dump({"global": {"evaluation_interval": "5s"}, "scrape_configs": scrape}, sort_keys=False))


def query_range(url, promql, start, end, step):
    q = urllib.parse.urlencode({"query": promql, "start": start, "end": end, "step": step})
    try:
        with urllib.request.urlopen(f"{url}/api/v1/query_range?{q}", timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def check(url, namespace, start, jobs):
    end = time.time()
    rng = f"{int(end - start) + 1}s"
    problems, lines = [], []
    for f in sorted(Path("helm/goodput/dashboards").glob("*.json")):
        for panel in json.loads(f.read_text()).get("panels", []):
            for t in panel.get("targets", []):
                key = f"{f.name}/{panel.get('title')}/{t.get('refId')}"
                expr = t.get("expr", "")
                with_data = []
                for job in jobs:
                    promql = (expr.replace("$namespace", namespace).replace("$job", job).replace("$prices", "0")
                              .replace("$__rate_interval", "20s").replace("$__range", rng))
                    r = query_range(url, promql, start, end, 5)
                    if r.get("status") != "success":
                        problems.append(f"{key}: Prometheus refused it: {r.get('error')} in {promql}")
                        break
                    if r["data"]["result"]:
                        with_data.append(job)
                expected_empty = EMPTY_ON_THIS_CLUSTER.get(key) or ("OpenCost does not run here" if OPENCOST_ONLY in expr else None)
                if with_data and expected_empty:
                    problems.append(f"{key}: has data although listed as empty here ({expected_empty})")
                elif not with_data and not expected_empty:
                    problems.append(f"{key}: no data for {', '.join(jobs)}")
                lines.append(f"  {key}: " + (f"data for {', '.join(with_data)}" if with_data else f"empty ({expected_empty})"))
    print("\n".join(lines))
    if problems:
        print("dashboard queries that fail:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "config":
        config(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 6 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
