"""The deployment files agree with each other and with the app: the compose file's replicas,
the nginx template the proxy fills, the image's port and health check, the settings the app reads.
(The topology itself runs in tests/e2e/test_topology_journey.py, the image in test_container.py.)"""

from __future__ import annotations

import re

import yaml
from unit_helpers import ROOT

from ui.auth import AGREE_VARIABLE, ENVIRONMENT

DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
TEMPLATE = (DEPLOY / "nginx" / "pact.conf.template").read_text()
CONTAINERFILE = (DEPLOY / "Containerfile").read_text()


def test_two_replicas_of_one_image_on_the_compose_database() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"db", "app1", "app2", "proxy"}
    app1, app2 = services["app1"], services["app2"]
    assert app1 == app2  # the same image, settings and health check
    env = app1["environment"]
    assert re.fullmatch(
        r"postgresql\+psycopg://pact:\$\{PACT_DB_PASSWORD[^}]*\}@db/pact", env["PACT_DATABASE_URL"]
    )
    assert services["db"]["environment"]["POSTGRES_DB"] == "pact"
    assert services["db"]["environment"]["POSTGRES_USER"] == "pact"
    assert set(env) == {"PACT_DATABASE_URL", AGREE_VARIABLE, *ENVIRONMENT}
    assert app1["depends_on"]["db"]["condition"] == "service_healthy"
    assert "/_stcore/health" in " ".join(app1["healthcheck"]["test"])


def test_the_proxy_fills_the_template_with_both_replicas_on_the_image_port() -> None:
    proxy = COMPOSE["services"]["proxy"]
    assert (
        "./nginx/pact.conf.template:/etc/nginx/templates/pact.conf.template:ro" in proxy["volumes"]
    )
    placeholders = set(re.findall(r"\$\{(\w+)\}", TEMPLATE))
    assert placeholders == set(proxy["environment"])
    port = re.search(r"STREAMLIT_SERVER_PORT=(\d+)", CONTAINERFILE)
    assert port is not None
    assert re.search(rf"EXPOSE {port.group(1)}\b", CONTAINERFILE)
    servers = re.findall(
        r"server (\S+?)(?::(\d+))? ", proxy["environment"]["PACT_UPSTREAM_SERVERS"]
    )
    assert servers == [("app1", port.group(1)), ("app2", port.group(1))]
    listen = proxy["environment"]["PACT_PROXY_PORT"]
    assert any(p.endswith(f":{listen}") for p in proxy["ports"])
    for needed in ("proxy_set_header Upgrade $http_upgrade", "hash $pact_route consistent"):
        assert needed in TEMPLATE


def test_the_image_runs_as_a_user_with_a_health_check_and_the_store_from_the_environment() -> None:
    assert re.search(r"^USER pact$", CONTAINERFILE, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*_stcore/health", CONTAINERFILE, re.MULTILINE)
    assert "PACT_DATABASE_URL" not in re.sub(r"#.*", "", CONTAINERFILE)  # only at run time


def test_the_example_settings_name_every_variable_the_compose_file_needs() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{(\w+)", text))
    example = (DEPLOY / "pact.env.example").read_text()
    given = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required <= given
    assert {*ENVIRONMENT, AGREE_VARIABLE} <= given
    assert given <= used
