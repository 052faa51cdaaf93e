"""Settings.from_env: defaults, every variable, loud failures naming the variable; the table in the docs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from service.settings import (
    TABLE_BEGIN,
    TABLE_END,
    ConfigError,
    Settings,
    declarations,
    main,
    markdown_table,
    table_in,
)

CONFIGURATION_DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def config_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    return str(info.value)


def test_from_env_with_nothing_set_gives_the_documented_defaults() -> None:
    s = Settings.from_env({})
    assert dataclasses.replace(s, instance_id="") == Settings()
    assert s.port == 3000
    assert s.host == "0.0.0.0"
    assert s.redis_url == ""
    assert s.embedded is True
    assert s.allowed_origins == ()
    assert s.tick_interval_ms == 1000
    assert s.deadline_poll_ms == 50
    assert s.game_retention_s == 86_400
    assert s.idle_game_retention_s == 3600
    assert s.token_ttl_s == 7 * 86_400
    assert s.cache_ttl_s == 30.0
    assert s.redis_timeout_ms == 2000
    assert s.action_timeout_ms == 4000
    assert s.max_frame_bytes == 65_536
    assert s.max_send_queue_bytes == 1_048_576
    assert s.drain_timeout_s == 10.0
    assert s.drain_notice_s == 0.0
    assert s.instance_dead_after_s == 30.0
    assert s.log_level == "INFO"
    assert s.log_format == "text"
    assert s.test_clock is False
    assert s.client_ip_header == ""
    assert (s.rate_connections_per_min, s.rate_messages_per_s, s.rate_socket_messages_per_s) == (20, 30, 20)
    assert (s.rate_games_per_hour, s.max_sockets_per_ip) == (120, 100)
    assert s.ws_heartbeat_s == 30.0
    assert (s.metrics_token, s.metrics_port) == ("", 0)
    assert s.allow_evicting_policy is False
    assert s.hsts_max_age_s == 0


def test_from_env_draws_a_random_instance_id_when_none_is_given() -> None:
    a, b = Settings.from_env({}).instance_id, Settings.from_env({}).instance_id
    assert re.fullmatch(r"i[0-9a-f]{8}", a)
    assert a != b


def test_from_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "4321")
    monkeypatch.setenv("INSTANCE_ID", "from-os")
    monkeypatch.delenv("REDIS_URL", raising=False)
    s = Settings.from_env()
    assert (s.port, s.instance_id) == (4321, "from-os")


def test_blank_values_count_as_unset() -> None:
    env = {
        "PORT": "",
        "TICK_INTERVAL_MS": "  ",
        "CACHE_TTL_S": "",
        "LOG_LEVEL": " ",
        "LOG_FORMAT": "",
        "TAPOTARP_TEST_CLOCK": "",
        "HOST": "",
        "REDIS_URL": "  ",
        "ALLOWED_ORIGINS": " , ,",
        "INSTANCE_ID": "x",
    }
    assert Settings.from_env(env) == Settings(instance_id="x")


@pytest.mark.parametrize(
    ("name", "raw", "attr", "expected"),
    [
        ("PORT", "8080", "port", 8080),
        ("PORT", " 1 ", "port", 1),
        ("PORT", "65535", "port", 65_535),
        ("HOST", "127.0.0.1", "host", "127.0.0.1"),
        ("REDIS_URL", " redis://10.0.0.1:6380/2 ", "redis_url", "redis://10.0.0.1:6380/2"),
        ("REDIS_URL", "rediss://h:6379", "redis_url", "rediss://h:6379"),
        ("REDIS_URL", "unix:///tmp/redis.sock", "redis_url", "unix:///tmp/redis.sock"),
        (
            "ALLOWED_ORIGINS",
            "https://a.example, *.b.example ,,",
            "allowed_origins",
            ("https://a.example", "*.b.example"),
        ),
        ("TICK_INTERVAL_MS", "100", "tick_interval_ms", 100),
        ("TICK_INTERVAL_MS", "50", "tick_interval_ms", 50),
        ("DEADLINE_POLL_MS", "10", "deadline_poll_ms", 10),
        ("DEADLINE_POLL_MS", "1000", "deadline_poll_ms", 1000),
        ("IDLE_GAME_RETENTION_S", "600", "idle_game_retention_s", 600),
        ("GAME_RETENTION_S", "3600", "game_retention_s", 3600),
        ("TOKEN_TTL_S", "31536000", "token_ttl_s", 365 * 86_400),
        ("CACHE_TTL_S", "2.5", "cache_ttl_s", 2.5),
        ("CACHE_TTL_S", "1", "cache_ttl_s", 1.0),
        ("REDIS_TIMEOUT_MS", "50", "redis_timeout_ms", 50),
        ("ACTION_TIMEOUT_MS", "60000", "action_timeout_ms", 60_000),
        ("MAX_FRAME_BYTES", "1024", "max_frame_bytes", 1024),
        ("MAX_SEND_QUEUE_BYTES", "4096", "max_send_queue_bytes", 4096),
        ("DRAIN_TIMEOUT_S", "0", "drain_timeout_s", 0.0),
        ("DRAIN_TIMEOUT_S", "0.5", "drain_timeout_s", 0.5),
        ("DRAIN_NOTICE_S", "2.5", "drain_notice_s", 2.5),
        ("DRAIN_NOTICE_S", "0", "drain_notice_s", 0.0),
        ("INSTANCE_DEAD_AFTER_S", "1", "instance_dead_after_s", 1.0),
        ("INSTANCE_DEAD_AFTER_S", "90.5", "instance_dead_after_s", 90.5),
        ("INSTANCE_ID", "web-1", "instance_id", "web-1"),
        ("INSTANCE_ID", "x" * 100, "instance_id", "x" * 64),
        ("FLY_ALLOC_ID", "fly-alloc", "instance_id", "fly-alloc"),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("LOG_LEVEL", "Warning", "log_level", "WARNING"),
        ("LOG_LEVEL", "ERROR", "log_level", "ERROR"),
        ("LOG_FORMAT", "JSON", "log_format", "json"),
        ("LOG_FORMAT", "text", "log_format", "text"),
        ("CLIENT_IP_HEADER", " Fly-Client-IP ", "client_ip_header", "Fly-Client-IP"),
        ("RATE_LIMIT_CONNECTIONS_PER_MIN", "0", "rate_connections_per_min", 0),
        ("RATE_LIMIT_MESSAGES_PER_S", "100", "rate_messages_per_s", 100),
        ("RATE_LIMIT_SOCKET_MESSAGES_PER_S", "5", "rate_socket_messages_per_s", 5),
        ("RATE_LIMIT_GAMES_PER_HOUR", "10", "rate_games_per_hour", 10),
        ("MAX_SOCKETS_PER_IP", "0", "max_sockets_per_ip", 0),
        ("WS_HEARTBEAT_S", "2.5", "ws_heartbeat_s", 2.5),
        ("METRICS_TOKEN", " tok ", "metrics_token", "tok"),
        ("METRICS_PORT", "9091", "metrics_port", 9091),
        ("ALLOW_EVICTING_POLICY", "yes", "allow_evicting_policy", True),
        ("HSTS_MAX_AGE_S", "31536000", "hsts_max_age_s", 31_536_000),
    ],
)
def test_from_env_parses_each_variable(name: str, raw: str, attr: str, expected: object) -> None:
    s = Settings.from_env({name: raw})
    assert getattr(s, attr) == expected
    assert type(getattr(s, attr)) is type(expected)


def test_instance_id_wins_over_fly_alloc_id() -> None:
    assert Settings.from_env({"INSTANCE_ID": "mine", "FLY_ALLOC_ID": "fly"}).instance_id == "mine"


def test_a_redis_url_turns_off_the_embedded_engine() -> None:
    assert Settings.from_env({"REDIS_URL": "redis://h:1/0"}).embedded is False


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_test_clock_accepts_true_spellings(raw: str) -> None:
    assert Settings.from_env({"TAPOTARP_TEST_CLOCK": raw}).test_clock is True


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", "OFF"])
def test_test_clock_accepts_false_spellings(raw: str) -> None:
    assert Settings.from_env({"TAPOTARP_TEST_CLOCK": raw}).test_clock is False


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("PORT", "abc", "PORT='abc' is not a valid int"),
        ("PORT", "80.5", "PORT='80.5' is not a valid int"),
        ("PORT", "0", "PORT='0' is out of range [1, 65535]"),
        ("DRAIN_NOTICE_S", "-1", "DRAIN_NOTICE_S='-1' is out of range [0.0, 600.0]"),
        ("PORT", "65536", "PORT='65536' is out of range [1, 65535]"),
        ("TICK_INTERVAL_MS", "49", "TICK_INTERVAL_MS='49' is out of range [50, 60000]"),
        ("TICK_INTERVAL_MS", "1e3", "TICK_INTERVAL_MS='1e3' is not a valid int"),
        ("DEADLINE_POLL_MS", "9", "DEADLINE_POLL_MS='9' is out of range [10, 1000]"),
        ("DEADLINE_POLL_MS", "1001", "DEADLINE_POLL_MS='1001' is out of range [10, 1000]"),
        ("IDLE_GAME_RETENTION_S", "59", "IDLE_GAME_RETENTION_S='59' is out of range [60, 2592000]"),
        ("GAME_RETENTION_S", "59", "GAME_RETENTION_S='59' is out of range [60, 2592000]"),
        ("TOKEN_TTL_S", "-1", "TOKEN_TTL_S='-1' is out of range [60, 31536000]"),
        ("CACHE_TTL_S", "0.5", "CACHE_TTL_S='0.5' is out of range [1.0, 3600.0]"),
        ("CACHE_TTL_S", "inf", "CACHE_TTL_S='inf' is out of range [1.0, 3600.0]"),
        ("CACHE_TTL_S", "soon", "CACHE_TTL_S='soon' is not a valid float"),
        ("REDIS_TIMEOUT_MS", "49", "REDIS_TIMEOUT_MS='49' is out of range [50, 60000]"),
        ("ACTION_TIMEOUT_MS", "99", "ACTION_TIMEOUT_MS='99' is out of range [100, 60000]"),
        ("MAX_FRAME_BYTES", "1023", "MAX_FRAME_BYTES='1023' is out of range [1024, 16777216]"),
        ("MAX_SEND_QUEUE_BYTES", "4095", "MAX_SEND_QUEUE_BYTES='4095' is out of range [4096, 1073741824]"),
        ("DRAIN_TIMEOUT_S", "-0.1", "DRAIN_TIMEOUT_S='-0.1' is out of range [0.0, 600.0]"),
        ("DRAIN_TIMEOUT_S", "601", "DRAIN_TIMEOUT_S='601' is out of range [0.0, 600.0]"),
        ("INSTANCE_DEAD_AFTER_S", "0.5", "INSTANCE_DEAD_AFTER_S='0.5' is out of range [1.0, 3600.0]"),
        ("INSTANCE_DEAD_AFTER_S", "3601", "INSTANCE_DEAD_AFTER_S='3601' is out of range [1.0, 3600.0]"),
        ("INSTANCE_DEAD_AFTER_S", "never", "INSTANCE_DEAD_AFTER_S='never' is not a valid float"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL='verbose' must be one of DEBUG, INFO, WARNING, ERROR"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' must be one of json, text"),
        ("REDIS_URL", "http://h:6379", "REDIS_URL must start with redis://, rediss:// or unix://"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must start with redis://, rediss:// or unix://"),
        ("RATE_LIMIT_MESSAGES_PER_S", "-1", "RATE_LIMIT_MESSAGES_PER_S='-1' is out of range [0, 1000000]"),
        ("MAX_SOCKETS_PER_IP", "many", "MAX_SOCKETS_PER_IP='many' is not a valid int"),
        ("WS_HEARTBEAT_S", "0.5", "WS_HEARTBEAT_S='0.5' is out of range [1.0, 3600.0]"),
        ("METRICS_PORT", "70000", "METRICS_PORT='70000' is out of range [0, 65535]"),
        ("HSTS_MAX_AGE_S", "-5", "HSTS_MAX_AGE_S='-5' is out of range [0, 63072000]"),
        ("ALLOW_EVICTING_POLICY", "perhaps", "ALLOW_EVICTING_POLICY='perhaps' is not a valid boolean"),
    ],
)
def test_a_bad_value_raises_config_error_naming_the_variable(name: str, raw: str, message: str) -> None:
    assert config_error({name: raw}) == message


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_a_bad_test_clock_flag_raises_config_error_naming_the_variable(raw: str) -> None:
    assert config_error({"TAPOTARP_TEST_CLOCK": raw}).startswith(f"TAPOTARP_TEST_CLOCK={raw!r} is not a valid")


@pytest.mark.parametrize("name", ["CACHE_TTL_S", "DRAIN_TIMEOUT_S", "DRAIN_NOTICE_S", "INSTANCE_DEAD_AFTER_S"])
def test_not_a_number_is_rejected_for_float_settings(name: str) -> None:
    # NaN compares false with both bounds, so a plain range check lets it through; it would then
    # disable cache refreshes (CACHE_TTL_S), crash the shutdown path (DRAIN_TIMEOUT_S: int(nan))
    # or fail every liveness round (INSTANCE_DEAD_AFTER_S: int(nan) in reap), so no dead instance's
    # seats would ever be released.
    assert config_error({name: "nan"}).startswith(f"{name}='nan'")


def test_a_token_ttl_shorter_than_game_retention_is_rejected() -> None:
    message = config_error({"TOKEN_TTL_S": "3600", "GAME_RETENTION_S": "7200"})
    assert message == (
        "TOKEN_TTL_S (3600) must be at least GAME_RETENTION_S (7200) "
        "so that players can come back for as long as their game is kept"
    )


def test_the_default_token_ttl_must_cover_a_longer_retention_too() -> None:
    assert config_error({"GAME_RETENTION_S": str(8 * 86_400)}).startswith("TOKEN_TTL_S (604800) must be at least")


def test_a_token_ttl_equal_to_game_retention_is_accepted() -> None:
    s = Settings.from_env({"TOKEN_TTL_S": "3600", "GAME_RETENTION_S": "3600"})
    assert (s.token_ttl_s, s.game_retention_s) == (3600, 3600)


def test_the_redis_url_is_kept_out_of_repr() -> None:
    url = "redis://:s3cr3t-password@redis.internal:6379/0"
    s = Settings.from_env({"REDIS_URL": url, "INSTANCE_ID": "a"})
    assert s.redis_url == url
    assert "s3cr3t" not in repr(s)
    assert "redis.internal" not in repr(s)
    assert "s3cr3t" not in str(s)
    assert "instance_id='a'" in repr(s)


def test_the_metrics_port_must_differ_from_the_main_port() -> None:
    assert config_error({"PORT": "9000", "METRICS_PORT": "9000"}) == (
        "METRICS_PORT must differ from PORT (or be 0 to serve /metrics on PORT)"
    )


def test_the_metrics_token_is_kept_out_of_repr() -> None:
    assert "hunter2" not in repr(Settings.from_env({"METRICS_TOKEN": "hunter2"}))


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


# -- Redis topologies ----------------------------------------------------------------------


def test_the_redis_mode_follows_which_variables_are_set() -> None:
    assert Settings.from_env({}).redis_mode == "embedded"
    assert Settings.from_env({"REDIS_URL": "redis://r:6379"}).redis_mode == "single"
    assert Settings.from_env({"REDIS_URL": "redis://r:6379", "REDIS_CLUSTER": "1"}).redis_mode == "cluster"
    sentinel = Settings.from_env({"REDIS_SENTINELS": "a:26379, b:26380,[::1]:26381"})
    assert (sentinel.redis_mode, sentinel.embedded) == ("sentinel", False)
    assert sentinel.redis_sentinels == (("a", 26379), ("b", 26380), ("::1", 26381))
    assert sentinel.redis_sentinel_master == "mymaster"


def test_sentinel_master_and_passwords_are_read_and_kept_out_of_repr() -> None:
    s = Settings.from_env(
        {
            "REDIS_SENTINELS": "s1:26379",
            "REDIS_SENTINEL_MASTER": "games",
            "REDIS_PASSWORD": "data-secret",
            "REDIS_SENTINEL_PASSWORD": "sentinel-secret",
        }
    )
    assert (s.redis_sentinel_master, s.redis_password, s.redis_sentinel_password) == (
        "games",
        "data-secret",
        "sentinel-secret",
    )
    assert "secret" not in repr(s)


@pytest.mark.parametrize("raw", ["s1", "s1:", ":26379", "s1:port", "s1:70000", " , "])
def test_a_malformed_sentinel_list_names_the_variable(raw: str) -> None:
    assert "REDIS_SENTINELS" in config_error({"REDIS_SENTINELS": raw})


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"REDIS_SENTINELS": "s:1", "REDIS_URL": "redis://r"}, "REDIS_SENTINELS replaces REDIS_URL"),
        ({"REDIS_SENTINELS": "s:1", "REDIS_CLUSTER": "1"}, "REDIS_SENTINELS replaces REDIS_URL"),
        ({"REDIS_CLUSTER": "1"}, "REDIS_CLUSTER=1 needs REDIS_URL"),
        ({"REDIS_CLUSTER": "1", "REDIS_URL": "unix:///tmp/r.sock"}, "cluster nodes are TCP"),
        ({"REDIS_WAIT_REPLICAS": "1"}, "not the embedded engine"),
        ({"REDIS_WAIT_REPLICAS": "1", "REDIS_CLUSTER": "1", "REDIS_URL": "redis://r"}, "not the cluster engine"),
        (
            {"REDIS_WAIT_REPLICAS": "1", "REDIS_URL": "redis://r", "REDIS_WAIT_TIMEOUT_MS": "4000"},
            "must be below ACTION_TIMEOUT_MS",
        ),
    ],
)
def test_contradictory_redis_settings_are_refused(env: dict[str, str], needle: str) -> None:
    assert needle in config_error(env)


@pytest.mark.parametrize("target", [{"REDIS_URL": "redis://r"}, {"REDIS_SENTINELS": "s:1"}])
def test_a_durable_acknowledgement_is_taken_with_one_primary(target: dict[str, str]) -> None:
    s = Settings.from_env({**target, "REDIS_WAIT_REPLICAS": "2", "REDIS_WAIT_TIMEOUT_MS": "150"})
    assert (s.redis_wait_replicas, s.redis_wait_timeout_ms) == (2, 150)


# -- the declarations and the configuration table --------------------------------------------


def test_every_field_is_declared_with_its_own_variables_and_a_one_line_doc() -> None:
    declared = declarations()
    assert [name for name, _, _ in declared] == [f.name for f in dataclasses.fields(Settings)]
    variables = [v for _, var, _ in declared for v in var.names]
    assert len(variables) == len(set(variables))
    for name, var, _ in declared:
        assert var.doc and "\n" not in var.doc, name


def test_the_configuration_doc_shows_the_table_rendered_from_the_declarations() -> None:
    documented = table_in(CONFIGURATION_DOC.read_text(encoding="utf-8"))
    assert documented == markdown_table(), (
        "docs/configuration.md's settings table differs from service/settings.py; regenerate it with "
        "`python -m service.settings --write docs/configuration.md`"
    )


def row(variable: str) -> list[str]:
    """The cells of one setting's row of the rendered table."""
    for line in markdown_table().splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if cells[0] == variable:
            return cells
    raise AssertionError(f"no row for {variable}")


def test_the_table_shows_ranges_choices_and_what_unset_means() -> None:
    assert row("`PORT`")[1:3] == ["`3000`", "1–65535"]
    assert row("`CACHE_TTL_S`")[1:3] == ["`30`", "1–3600"]
    assert row("`LOG_LEVEL`")[1:3] == ["`INFO`", "`DEBUG`, `INFO`, `WARNING`, `ERROR`"]
    assert row("`REDIS_CLUSTER`")[1:3] == ["`0`", "`1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`"]
    assert row("`METRICS_TOKEN`")[1] == "unset"
    assert row("`INSTANCE_ID` / `FLY_ALLOC_ID`")[1:3] == ["random", "up to 64 characters"]


def test_the_table_has_a_header_and_one_row_per_setting() -> None:
    lines = markdown_table().splitlines()
    assert lines[0] == "| variable | default | range / values | meaning |"
    assert len(lines) == 2 + len(declarations())
    assert all(line.count(" | ") == 3 for line in lines[2:])


def test_markdown_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()


def test_write_replaces_only_the_marked_table(tmp_path: Path) -> None:
    doc = tmp_path / "configuration.md"
    doc.write_text(f"# Title\n\nbefore\n{TABLE_BEGIN}\n| stale |\n{TABLE_END}\nafter\n", encoding="utf-8")
    assert main(["--write", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\nbefore\n{TABLE_BEGIN}\n| variable |")
    assert text.endswith(f"|\n{TABLE_END}\nafter\n")
    assert table_in(text) == markdown_table()


def test_write_refuses_a_document_without_the_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "other.md"
    doc.write_text("# no table here\n", encoding="utf-8")
    assert main(["--write", str(doc)]) == 2
    assert doc.read_text(encoding="utf-8") == "# no table here\n"
    assert "settings-table:begin" in capsys.readouterr().err


def test_passwords_are_taken_verbatim() -> None:
    # unlike the other strings, a password may begin or end with a space
    s = Settings.from_env({"REDIS_PASSWORD": " pw ", "REDIS_SENTINEL_PASSWORD": "  "})
    assert (s.redis_password, s.redis_sentinel_password) == (" pw ", "  ")
