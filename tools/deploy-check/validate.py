"""Validates the deployment files offline; `tools/deploy-check/run` calls it with what it has prepared.

    validate.py k8s RENDERED.yaml --crds DIR [--crds DIR…] --keda SCHEMA.json --kube-version 1.33
    validate.py observability
    validate.py compose-env compose.yaml .env.example
    validate.py image WORKDIR

k8s: every document that kustomize rendered is checked against its schema, strictly (an unknown field
is an error, as `kubectl apply --validate=strict` would make it):
- core kinds against the Kubernetes JSON Schemas that the kubernetes-validate package bundles;
- Strimzi's Kafka, KafkaNodePool, KafkaTopic and KafkaUser against the CRDs that Strimzi's own
  crd-generator writes from its published API classes (run prepares them from Maven Central);
- CloudNativePG's Cluster, Database and ScheduledBackup, and its Barman Cloud plugin's ObjectStore,
  against the CRDs in those projects' Go modules (run takes them from the Go module proxy);
- KEDA's ScaledObject and TriggerAuthentication against schemas/keda.json, written by hand (KEDA's
  CRDs are published only as release assets and in its Helm chart, which this CI cannot reach);
and then against the backbone's own rules: every ACL names a declared topic; PostgreSQL has three
instances with a synchronous standby, WAL archiving, a scheduled backup, and a role and database for every
service and the workbench; every service and the
workbench have their probes on /health and /ready, resources, a non-root security context and a
disruption budget, and their secrets from Secrets; every service has Kafka credentials, and the
workbench, which never touches the bus, has none, calls the services at their in-cluster Services and is
reached over https.

observability: the Grafana dashboard and the Prometheus rules use only the metric names the services
export, and every panel title is in Japanese and English.

compose-env: every ${VARIABLE} that compose.yaml needs is listed in .env.example, and .env.example
holds no value for anything secret.

image: deploy/Dockerfile's build stage done without Docker: the files its COPY lines name are staged in
WORKDIR and installed into a fresh virtual environment exactly as the Dockerfile installs them. In it, no
development tool (devtools/) and no package of pyproject's `dev` extra is installed; every service's app and
the command line import without them; and `backbone --help` offers `serve` and the operators' commands, and
none of the development tools' commands.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]

# The names /metrics must expose (deploy/README.md); histograms add _bucket, _sum and _count.
METRICS = {
    "backbone_consumer_lag",
    "backbone_processing_seconds",
    "backbone_outbox_backlog",
    "backbone_outbox_oldest_unsent_seconds",
    "backbone_dead_letters_total",
    "backbone_notification_delivery_seconds",
    "backbone_referrals_overdue",
    "up",  # Prometheus's own, per scrape target
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

CRD_KINDS = {
    ("kafka.strimzi.io/v1", "Kafka"): "kafka.yaml",
    ("kafka.strimzi.io/v1", "KafkaNodePool"): "nodepool.yaml",
    ("kafka.strimzi.io/v1", "KafkaTopic"): "topic.yaml",
    ("kafka.strimzi.io/v1", "KafkaUser"): "user.yaml",
    # CloudNativePG's CRDs and its Barman Cloud plugin's, as their Go modules ship them (run copies them).
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_clusters.yaml",
    ("postgresql.cnpg.io/v1", "Database"): "postgresql.cnpg.io_databases.yaml",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "postgresql.cnpg.io_scheduledbackups.yaml",
    ("barmancloud.cnpg.io/v1", "ObjectStore"): "barmancloud.cnpg.io_objectstores.yaml",
}
KEDA_KINDS = {("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication")}
SERVICES = ("intake", "referral", "meetings", "notify", "audit")
WORKBENCH = "workbench"  # the staff's pages: a client of the services' APIs, with no Kafka of its own
SECRET_NAMES = re.compile(r"PASSWORD|_KEY$|DSN")


class Findings:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def report(self, what: str, checked: int) -> int:
        for problem in self.problems:
            print(f"  FAIL {problem}", file=sys.stderr)
        print(f"{what}: {checked} checked, {len(self.problems)} problems")
        return 1 if self.problems else 0


# --------------------------------------------------------------------------------------------------
# Kubernetes
# --------------------------------------------------------------------------------------------------


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD's structural schema as a strict JSON Schema: objects with declared properties refuse others,
    unless the CRD keeps unknown fields there on purpose; `nullable` allows null."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            if node.pop("nullable", False) and "type" in node:
                node["type"] = [node["type"], "null"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_schema(path: Path, version: str) -> dict[str, Any]:
    crd = yaml.safe_load(path.read_text())
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            return strict(served["schema"]["openAPIV3Schema"])
    raise SystemExit(f"{path}: no version {version} in the CRD")


def _crd_file(directories: list[Path], name: str) -> Path:
    for directory in directories:
        if (directory / name).exists():
            return directory / name
    raise SystemExit(f"no CRD {name} in {', '.join(map(str, directories))}")


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> Iterator[str]:
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(part) for part in error.absolute_path) or "(top)"
        yield f"{path}: {error.message[:300]}"


def check_k8s(rendered: Path, crds: list[Path], keda: Path, kube_version: str) -> int:
    documents = [doc for doc in yaml.safe_load_all(rendered.read_text()) if doc]
    findings = Findings()
    schemas = {key: crd_schema(_crd_file(crds, name), key[0].split("/")[1]) for key, name in CRD_KINDS.items()}
    keda_schemas = json.loads(keda.read_text())
    for doc in documents:
        key = (doc.get("apiVersion", ""), doc.get("kind", ""))
        where = f"{key[1]}/{doc.get('metadata', {}).get('name', '?')}"
        if key in schemas:
            for error in schema_errors(schemas[key], doc):
                findings.add(where, error)
        elif key in KEDA_KINDS:
            for error in schema_errors(keda_schemas[key[1]], doc):
                findings.add(where, error)
        else:
            try:
                kubernetes_validate.validate(doc, kube_version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                findings.add(where, f"no schema for {key[0]} {key[1]} in Kubernetes {kube_version}")
            except kubernetes_validate.ValidationError as error:
                path = "/".join(str(part) for part in error.path) or "(top)"
                findings.add(where, f"{path}: {error.message[:300]}")
    backbone_rules(documents, findings)
    return findings.report(f"Kubernetes manifests ({rendered.name}, Kubernetes {kube_version})", len(documents))


def backbone_rules(documents: list[dict[str, Any]], findings: Findings) -> None:
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in documents:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    kafka_rules(by_kind, findings)
    acl_rules(by_kind, findings)
    postgres_rules(by_kind, findings)
    for service in SERVICES:
        service_rules(service, by_kind, findings)
    workbench_rules(by_kind, findings)


def kafka_rules(by_kind: dict[str, dict[str, dict[str, Any]]], findings: Findings) -> None:
    """Three nodes, three replicas, two in sync, no unclean election, ACLs, TLS with SCRAM everywhere."""
    kafka = next(iter(by_kind.get("Kafka", {}).values()), None)
    if kafka is None:
        findings.add("Kafka", "no Kafka cluster")
        return
    config = kafka["spec"]["kafka"].get("config", {})
    for name, wanted in (
        ("default.replication.factor", 3),
        ("min.insync.replicas", 2),
        ("unclean.leader.election.enable", False),
        ("auto.create.topics.enable", False),
    ):
        if config.get(name) != wanted:
            findings.add("Kafka", f"{name} must be {wanted!r}, is {config.get(name)!r}")
    if kafka["spec"]["kafka"].get("authorization", {}).get("type") != "simple":
        findings.add("Kafka", "authorization must be simple (ACLs)")
    for listener in kafka["spec"]["kafka"]["listeners"]:
        if not listener.get("tls") or listener.get("authentication", {}).get("type") != "scram-sha-512":
            findings.add("Kafka", f"listener {listener['name']} must be TLS with SCRAM-SHA-512")
    if sum(pool["spec"]["replicas"] for pool in by_kind.get("KafkaNodePool", {}).values()) < 3:
        findings.add("KafkaNodePool", "fewer than three nodes")
    for name, topic in by_kind.get("KafkaTopic", {}).items():
        if topic["spec"].get("replicas") != 3:
            findings.add(f"KafkaTopic/{name}", "replicas must be 3")


def postgres_rules(by_kind: dict[str, dict[str, dict[str, Any]]], findings: Findings) -> None:
    """One PostgreSQL cluster: three instances with a synchronous standby that writes wait for, no superuser
    access, WAL archived to an object store that is declared, a scheduled base backup, and for every service
    and the workbench a login role and a database it owns."""
    clusters = by_kind.get("Cluster", {})
    if len(clusters) != 1:
        findings.add("Cluster", f"one PostgreSQL cluster expected, found {len(clusters)}")
        return
    name, cluster = next(iter(clusters.items()))
    where, spec = f"Cluster/{name}", cluster["spec"]
    if spec.get("instances", 1) < 3:
        findings.add(where, "fewer than three instances: after a failover no synchronous standby would be left")
    synchronous = spec.get("postgresql", {}).get("synchronous", {})
    if synchronous.get("number", 0) < 1 or synchronous.get("dataDurability") != "required":
        findings.add(where, "needs postgresql.synchronous with number >= 1 and dataDurability: required (RPO 0)")
    if spec.get("enableSuperuserAccess", False):
        findings.add(where, "superuser access must stay disabled")
    archivers = [p for p in spec.get("plugins", []) if p.get("isWALArchiver") and p.get("enabled", True)]
    stores = {p.get("parameters", {}).get("barmanObjectName") for p in archivers}
    if not archivers or not stores <= set(by_kind.get("ObjectStore", {})):
        findings.add(where, "WAL must be archived by a plugin to a declared ObjectStore")
    if not any(b["spec"]["cluster"]["name"] == name for b in by_kind.get("ScheduledBackup", {}).values()):
        findings.add(where, "no ScheduledBackup: point-in-time recovery needs base backups")
    roles = {r["name"]: r for r in spec.get("managed", {}).get("roles", [])}
    owned = {d["spec"]["name"]: d["spec"] for d in by_kind.get("Database", {}).values()}
    for owner in (*SERVICES, WORKBENCH):
        if not roles.get(owner, {}).get("login"):
            findings.add(where, f"no login role {owner!r}")
        database = owned.get(owner)
        if database is None or database["owner"] != owner or database["cluster"]["name"] != name:
            findings.add(f"Database/{owner}", f"missing, or not owned by role {owner!r} on cluster {name}")
    for role in roles.values():
        if role.get("superuser") or role.get("bypassrls") or role.get("createrole"):
            findings.add(where, f"role {role['name']!r}: no superuser, bypassrls or createrole for a service")


def acl_rules(by_kind: dict[str, dict[str, dict[str, Any]]], findings: Findings) -> None:
    """Every ACL names a declared topic, literally: a prefix would reach other principals' topics."""
    topics = {t["spec"].get("topicName", name) for name, t in by_kind.get("KafkaTopic", {}).items()}
    for name, user in by_kind.get("KafkaUser", {}).items():
        for acl in user["spec"].get("authorization", {}).get("acls", []):
            resource = acl["resource"]
            if resource["type"] == "topic" and resource.get("name") not in topics:
                findings.add(f"KafkaUser/{name}", f"ACL on topic {resource.get('name')!r}, which is not declared")
            if resource.get("patternType", "literal") != "literal":
                findings.add(f"KafkaUser/{name}", "ACL patterns must be literal")


def service_rules(service: str, by_kind: dict[str, dict[str, dict[str, Any]]], findings: Findings) -> None:
    """A service of the bus: the pod's rules, and its Kafka security."""
    env = pod_rules(service, by_kind, findings)
    if env is None:
        return
    for needed in ("BACKBONE_KAFKA__SECURITY_PROTOCOL", "BACKBONE_KAFKA__SASL_PASSWORD"):
        if needed not in env:
            findings.add(f"Deployment/{service}", f"no {needed}")


def workbench_rules(by_kind: dict[str, dict[str, dict[str, Any]]], findings: Findings) -> None:
    """The workbench: the pod's rules; no Kafka; its session key from its Secret; the services at their
    in-cluster Services; a public address over https (its session cookie is Secure only then)."""
    where = f"Deployment/{WORKBENCH}"
    env = pod_rules(WORKBENCH, by_kind, findings)
    if env is None:
        return
    for name in env:
        if name.startswith("BACKBONE_KAFKA__"):
            findings.add(where, f"{name}: the workbench never touches the bus and gets no Kafka credentials")
    if f"svc-{WORKBENCH}" in by_kind.get("KafkaUser", {}):
        findings.add(f"KafkaUser/svc-{WORKBENCH}", "the workbench must have no Kafka principal")
    key = env.get("BACKBONE_WORKBENCH__SESSION_KEY", {}).get("valueFrom", {}).get("secretKeyRef", {})
    if key.get("name") != f"backbone-{WORKBENCH}-keys":
        findings.add(where, f"BACKBONE_WORKBENCH__SESSION_KEY must come from the Secret backbone-{WORKBENCH}-keys")
    services = {
        name: port["port"] for name, s in by_kind.get("Service", {}).items() for port in s["spec"].get("ports", [])
    }
    for service in SERVICES:
        variable = f"BACKBONE_WORKBENCH__{service.upper()}_URL"
        wanted = f"http://{service}:{services.get(service)}"
        if env.get(variable, {}).get("value") != wanted:
            findings.add(where, f"{variable} must be {wanted}, the Service in the cluster")
    public = env.get("BACKBONE_WORKBENCH__PUBLIC_URL", {}).get("valueFrom", {}).get("configMapKeyRef", {})
    config_map = by_kind.get("ConfigMap", {}).get(public.get("name", ""), {})
    url = config_map.get("data", {}).get(public.get("key", ""), "")
    if not url.startswith("https://"):
        findings.add(where, f"BACKBONE_WORKBENCH__PUBLIC_URL must be an https address from a ConfigMap, is {url!r}")


def pod_rules(
    name: str, by_kind: dict[str, dict[str, dict[str, Any]]], findings: Findings
) -> dict[str, dict[str, Any]] | None:
    """Probes on /health and /ready, resources, non-root, its own database, secrets from Secrets, a Service and
    a disruption budget; returns the container's environment by name (None when there is no Deployment)."""
    where = f"Deployment/{name}"
    deployment = by_kind.get("Deployment", {}).get(name)
    if deployment is None:
        findings.add(where, "missing")
        return None
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
        if container.get(probe, {}).get("httpGet", {}).get("path") != path:
            findings.add(where, f"{probe} must GET {path}")
    if not {"requests", "limits"} <= set(container.get("resources", {})):
        findings.add(where, "resources need requests and limits")
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        findings.add(where, "must run as non-root")
    env = {variable["name"]: variable for variable in container.get("env", [])}
    if "BACKBONE_DATABASE__DSN" not in env:
        findings.add(where, "no BACKBONE_DATABASE__DSN")
    for variable in env.values():
        if SECRET_NAMES.search(variable["name"]) and "secretKeyRef" not in variable.get("valueFrom", {}):
            findings.add(where, f"{variable['name']} must come from a Secret, not a literal or a ConfigMap")
    for kind in ("PodDisruptionBudget", "Service"):
        if name not in by_kind.get(kind, {}):
            findings.add(f"{kind}/{name}", "missing")
    return env


# --------------------------------------------------------------------------------------------------
# Dashboard and alerts
# --------------------------------------------------------------------------------------------------

_NAME = re.compile(r"\b(backbone_[a-z_]+|up)\b(?=\s*[{\[)]|\s*$|\s*[<>=!])")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def metric_names(expr: str) -> set[str]:
    found = set()
    for name in _NAME.findall(expr):
        base = next(
            (name.removesuffix(s) for s in HISTOGRAM_SUFFIXES if name.removesuffix(s) in METRICS and name != s), name
        )
        found.add(base)
    return found


def check_observability() -> int:
    findings = Findings()
    checked = 0
    dashboard_path = REPO / "deploy" / "grafana" / "backbone.json"
    dashboard = json.loads(dashboard_path.read_text())
    used: set[str] = set()
    for panel in dashboard["panels"]:
        checked += 1
        title = panel.get("title", "")
        if not (_JAPANESE.search(title) and _LATIN.search(title) and " / " in title):
            findings.add(f"dashboard panel {title!r}", "title must be Japanese / English")
        for target in panel.get("targets", []):
            names = metric_names(target["expr"])
            if not names:
                findings.add(f"dashboard panel {title!r}", f"no metric in {target['expr']!r}")
            for name in names - METRICS:
                findings.add(f"dashboard panel {title!r}", f"unknown metric {name}")
            used |= names
    for name in METRICS - used - {"up"}:
        findings.add("dashboard", f"{name} is shown nowhere")
    alerts = yaml.safe_load((REPO / "deploy" / "compose" / "prometheus" / "alerts.yml").read_text())
    for group in alerts["groups"]:
        for rule in group["rules"]:
            checked += 1
            for name in metric_names(rule["expr"]) - METRICS:
                findings.add(f"alert {rule['alert']}", f"unknown metric {name}")
            if not metric_names(rule["expr"]):
                findings.add(f"alert {rule['alert']}", f"no metric in {rule['expr']!r}")
    prometheus = yaml.safe_load((REPO / "deploy" / "compose" / "prometheus" / "prometheus.yml").read_text())
    labelled = {
        target["labels"]["service"]
        for job in prometheus["scrape_configs"]
        for target in job.get("static_configs", [])
        if "service" in target.get("labels", {})
    }
    if labelled != {*SERVICES, WORKBENCH}:
        findings.add("prometheus.yml", f"scrape targets with a service label: {sorted(labelled)}")
    return findings.report("Dashboard, alerts and scrape configuration", checked)


# --------------------------------------------------------------------------------------------------
# Compose environment
# --------------------------------------------------------------------------------------------------


def check_compose_env(compose: Path, example: Path) -> int:
    findings = Findings()
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}", compose.read_text()))
    needed |= set(re.findall(r"^\s+environment:\s+([A-Z0-9_]+)\s*$", compose.read_text(), re.MULTILINE))
    listed: dict[str, str] = {}
    for line in example.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            listed[name.strip()] = value.strip()
    for name in sorted(needed - set(listed)):
        findings.add(example.name, f"{name} is used by compose.yaml but not listed")
    for name, value in listed.items():
        if value and re.search(r"PASSWORD|KEY|SECRET|CLUSTER_ID", name):
            findings.add(example.name, f"{name} has a value; secrets stay empty in the example")
    return findings.report("Compose environment (.env.example)", len(needed))


# --------------------------------------------------------------------------------------------------
# The image's installation
# --------------------------------------------------------------------------------------------------

# The development tools' commands (devtools/commands.py); the image must offer none of them.
DEVELOPMENT_COMMANDS = {"up", "run", "walkthrough", "down", "status", "bench", "faults", "fuzz", "leak-scan", "test"}
OPERATOR_COMMANDS = {"serve", "agency-token", "erase-person", "trace", "dlq", "outbox"}


def build_stage_sources(dockerfile: Path) -> list[str]:
    """The paths the build stage's COPY lines take from the build context (not those copied from a stage)."""
    sources: list[str] = []
    stage = ""
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if words[:1] == ["FROM"]:
            stage = words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else ""
        elif words[:1] == ["COPY"] and stage == "build" and not any(w.startswith("--from") for w in words):
            sources += words[1:-1]
    return sources


def check_image(workdir: Path) -> int:
    findings = Findings()
    dockerfile = REPO / "deploy" / "Dockerfile"
    shutil.rmtree(workdir, ignore_errors=True)
    source, environment = workdir / "src", workdir / "venv"
    source.mkdir(parents=True)
    for name in build_stage_sources(dockerfile):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    venv.create(environment, with_pip=True)
    python, backbone = environment / "bin" / "python", environment / "bin" / "backbone"
    install_env = {
        **os.environ,
        "PIP_CONSTRAINT": str(source / "requirements.lock"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    subprocess.run([python, "-m", "pip", "install", "--quiet", str(source)], env=install_env, check=True)

    installed = {
        package["name"].lower().replace("_", "-")
        for package in json.loads(
            subprocess.run(
                [python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
            ).stdout
        )
    }
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    development = {re.split(r"[<>=!~\[; ]", requirement)[0].lower().replace("_", "-") for requirement in extras}
    for name in sorted(installed & development):
        findings.add("image", f"the development package {name} is installed")

    # Every service's app and the command line, imported in the image: nothing of the tools may be needed.
    probe = (
        "import importlib, json, sys\n"
        "for name in ('intake', 'referral', 'meetings', 'notify', 'audit', 'workbench'):\n"
        "    importlib.import_module(f'services.{name}.app')\n"
        "import console.main\n"
        "tools = console.main.development_tools()\n"
        "print(json.dumps({'tools': tools is not None, "
        "'loaded': sorted(m for m in sys.modules if m.split('.')[0] == 'devtools')}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKBONE_", "PYTHON"))}
    answer = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env, cwd=workdir, check=False)
    if answer.returncode != 0:
        findings.add("image", f"importing the services failed:\n{answer.stderr}")
    else:
        found = json.loads(answer.stdout.splitlines()[-1])
        if found["tools"] or found["loaded"]:
            findings.add("image", f"the development tools are importable: {found}")

    listed = subprocess.run([backbone, "--help"], capture_output=True, text=True, env=env, cwd=workdir, check=False)
    offered = set(re.findall(r"^    ([a-z][a-z-]+)\s", listed.stdout, re.MULTILINE))
    if listed.returncode != 0:
        findings.add("backbone --help", f"exit {listed.returncode}: {listed.stderr}")
    for name in sorted(OPERATOR_COMMANDS - offered):
        findings.add("backbone --help", f"does not offer {name}")
    for name in sorted(DEVELOPMENT_COMMANDS & offered):
        findings.add("backbone --help", f"offers the development tools' command {name}")
    print(f"  installed: {len(installed)} packages; backbone offers: {', '.join(sorted(offered))}")
    return findings.report("The image's installation", len(installed) + len(offered))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    k8s = commands.add_parser("k8s")
    k8s.add_argument("rendered", type=Path)
    k8s.add_argument("--crds", type=Path, action="append", required=True, help="a directory of CRDs (repeatable)")
    k8s.add_argument("--keda", type=Path, required=True)
    k8s.add_argument("--kube-version", required=True)
    commands.add_parser("observability")
    env = commands.add_parser("compose-env")
    env.add_argument("compose", type=Path)
    env.add_argument("example", type=Path)
    image = commands.add_parser("image")
    image.add_argument("workdir", type=Path)
    args = parser.parse_args()
    if args.command == "k8s":
        return check_k8s(args.rendered, args.crds, args.keda, args.kube_version)
    if args.command == "observability":
        return check_observability()
    if args.command == "image":
        return check_image(args.workdir)
    return check_compose_env(args.compose, args.example)


if __name__ == "__main__":
    raise SystemExit(main())
