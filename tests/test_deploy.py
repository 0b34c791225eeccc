"""docker-compose.yml and the Dockerfile: they parse, and what they run exists in the package.
(No container is started here: the test machine has no images.)"""

from __future__ import annotations

from pathlib import Path

import yaml

from gambero.cli import _argument_parser

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, object]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_compose_has_the_app_postgres_and_redis_with_health_checks() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    assert set(services) == {"app", "web", "db", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert "pgdata" in compose()["volumes"]  # type: ignore[operator]
    app = services["app"]
    assert app["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert app["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert app["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_commands_it_runs_exist() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["gambero"]' in dockerfile
    parser = _argument_parser()
    services = compose()["services"]
    assert isinstance(services, dict)
    for name in ("app", "web"):
        args = parser.parse_args(services[name]["command"])
        assert args.run.__name__ == "_serve", name
        assert args.host == "0.0.0.0" and args.port == 8000
    assert services["web"]["command"].count("--web-only") == 1
    default = dockerfile.split("CMD ")[1].strip()
    assert parser.parse_args(yaml.safe_load(default)).run.__name__ == "_demo"
    for copied in ("timing", "readers", "api", "display", "gambero", "migrations", "examples"):
        assert f"COPY {copied} ./{copied}" in dockerfile
        assert (ROOT / copied).is_dir()
