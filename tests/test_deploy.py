"""The Kubernetes example in deploy/ parses and names only what citeqa has: commands and options of the CLI,
settings, routes and ports, volumes and objects that exist, so the example cannot drift from the code."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.api.app import create_app
from service.cli.parser import build_parser
from service.config import Settings
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
Manifest = dict[str, Any]


def manifests() -> list[Manifest]:
    documents = [doc for path in sorted(DEPLOY.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text("utf-8"))]
    return [doc for doc in documents if doc]


def by_kind(kind: str) -> list[Manifest]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def pod_specs() -> Iterator[tuple[str, Manifest]]:
    """(object name, pod spec) of every pod the example runs."""
    for doc in manifests():
        spec = doc["spec"]
        if doc["kind"] in ("Job", "Deployment"):
            yield doc["metadata"]["name"], spec["template"]["spec"]
        elif doc["kind"] == "RayCluster":
            yield doc["metadata"]["name"], spec["headGroupSpec"]["template"]["spec"]
            for group in spec["workerGroupSpecs"]:
                yield group["groupName"], group["template"]["spec"]


def citeqa_commands() -> list[list[str]]:
    """Every citeqa command line of the example, without the program."""
    containers = [container for _, spec in pod_specs() for container in spec["containers"]]
    lines = [container["command"] for container in containers if "command" in container]
    lines += [shlex.split(job["spec"]["entrypoint"]) for job in by_kind("RayJob")]
    return [line[1:] for line in lines if Path(line[0]).name == "citeqa"]


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_every_manifest_parses_with_a_kind_and_a_name() -> None:
    kinds = {doc["kind"] for doc in manifests()}
    assert {"Job", "Deployment", "Service", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "RayCluster"} <= kinds
    assert all(doc["apiVersion"] and doc["metadata"]["name"] for doc in manifests())


def takes(command: list[str]) -> bool:
    try:
        build_parser().parse_args(command)
    except SystemExit:  # an unknown command or option, or a bad value
        return False
    return True


def test_every_command_is_one_the_cli_takes() -> None:
    commands = citeqa_commands()
    assert {command[0] for command in commands} == {"index", "serve"}
    ray = takes(["index", "--ray", "auto"])
    for command in commands:
        if "--ray" in command and not ray:
            # A citeqa without the Ray build: the rest of the command must still be right.
            at = command.index("--ray")
            command = command[:at] + command[at + 2 :]
        assert takes(command), command


def test_the_index_is_built_where_the_replicas_read_it_and_they_mount_it_read_only() -> None:
    commands = citeqa_commands()
    built = {option(command, "--index-dir") for command in commands if command[0] == "index"}
    (served,) = {option(command, "--index-dir") for command in commands if command[0] == "serve"}
    assert built == {served}
    (deployment,) = by_kind("Deployment")
    spec = deployment["spec"]["template"]["spec"]
    claims = {volume["name"]: volume["persistentVolumeClaim"] for volume in spec["volumes"]}
    mounts = spec["containers"][0]["volumeMounts"]
    assert mounts and all(mount["readOnly"] for mount in mounts)
    assert any(served.startswith(mount["mountPath"] + "/") for mount in mounts)
    assert all(claim["readOnly"] for claim in claims.values())
    names = {doc["metadata"]["name"] for doc in by_kind("PersistentVolumeClaim")}
    for _, pod in pod_specs():
        assert {volume["persistentVolumeClaim"]["claimName"] for volume in pod.get("volumes", [])} <= names


def test_settings_in_the_environment_are_citeqas_own() -> None:
    for _, spec in pod_specs():
        for container in spec["containers"]:
            for variable in container.get("env", []):
                assert variable["name"].startswith("CITEQA_")
                assert variable["name"].removeprefix("CITEQA_").lower() in Settings.model_fields, variable["name"]
                if "value" in variable:
                    Settings(**{variable["name"].removeprefix("CITEQA_").lower(): variable["value"]})


def test_probes_ports_service_and_autoscaler_meet_the_server() -> None:
    (deployment,) = by_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (port,) = container["ports"]
    assert int(option(container["command"][1:], "--port")) == port["containerPort"]
    assert option(container["command"][1:], "--host") == "0.0.0.0"
    routes = create_app(Settings()).openapi()["paths"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in routes
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez" in routes
    probes = (container["readinessProbe"], container["livenessProbe"])
    assert {probe["httpGet"]["port"] for probe in probes} == {port["name"]}
    (service,) = by_kind("Service")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [port["name"]]
    (autoscaler,) = by_kind("HorizontalPodAutoscaler")
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


@pytest.mark.parametrize("job", by_kind("RayJob"), ids=lambda job: job["metadata"]["name"])
def test_the_ray_build_runs_on_the_cluster_of_the_example(job: Manifest) -> None:
    (cluster,) = by_kind("RayCluster")
    assert job["spec"]["clusterSelector"]["ray.io/cluster"] == cluster["metadata"]["name"]
    assert option(shlex.split(job["spec"]["entrypoint"]), "--ray") == "auto"  # run on the head: the cluster is local
