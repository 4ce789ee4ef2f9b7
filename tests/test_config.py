from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "MTIz.fake-token-for-tests.abcdefghijklmnop"


def test_defaults_without_token() -> None:
    s = load_settings({})
    assert s.discord_token is None
    assert s.database_path == Path("data/narrator.sqlite3")
    assert s.story_dir == Path("story_data")
    assert s.log_level == "INFO"
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set.*\\.env"):
        s.require_token()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEV_GUILD_ID": "abc"}, "DEV_GUILD_ID must be a numeric"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"DISCORD_API_BASE": "ftp://x"}, "DISCORD_API_BASE must be a URL"),
        ({"DISCORD_GATEWAY_URL": "http://127.0.0.1:1/"}, "DISCORD_GATEWAY_URL must be a URL starting with ws://"),
        ({"LLM_TIMEOUT": "never"}, "LLM_TIMEOUT must be a number"),
        ({"DISCORD_TOKEN": "has spaces in it but is long"}, "does not look like a bot token"),
    ],
)
def test_invalid_values_fail_with_one_sentence(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(env)
    assert "\n" not in str(info.value)


def test_token_never_in_repr_or_errors() -> None:
    s = load_settings({"DISCORD_TOKEN": TOKEN, "LLM_API_KEY": "sk-secret-key-value"})
    assert TOKEN not in repr(s)
    assert "sk-secret-key-value" not in repr(s)
    assert s.require_token() == TOKEN


def test_valid_values_are_parsed() -> None:
    s = load_settings(
        {
            "DEV_GUILD_ID": "123456789012345678",
            "LOG_LEVEL": "debug",
            "DISCORD_API_BASE": "http://127.0.0.1:9000/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9000/gateway",
        }
    )
    assert s.dev_guild_id == 123456789012345678
    assert s.log_level == "DEBUG"
    assert s.discord_api_base == "http://127.0.0.1:9000/api/v10"


def test_test_timing_scales() -> None:
    s = load_settings({})
    assert (s.time_scale, s.rate_scale) == (1.0, 1.0)
    s = load_settings({"NARRATOR_TIME_SCALE": "0.01", "NARRATOR_RATE_SCALE": " 0.5 "})
    assert (s.time_scale, s.rate_scale) == (0.01, 0.5)
    for name in ("NARRATOR_TIME_SCALE", "NARRATOR_RATE_SCALE"):
        for bad in ("fast", "0", "2", "-1"):
            with pytest.raises(ConfigError, match=f"^{name} must be a number above 0 and at most 1"):
                load_settings({name: bad})


def test_env_example_documents_every_setting() -> None:
    text = (Path(__file__).parent.parent / ".env.example").read_text(encoding="utf-8")
    for name in ("NARRATOR_TIME_SCALE", "NARRATOR_RATE_SCALE", "DATABASE_URL", "SHARD_COUNT", "SHARD_IDS",
                 "DISCORD_GLOBAL_RATE"):
        assert f"\n{name}=" in text
    assert "TEST/REHEARSAL ONLY" in text


def test_app_reads_no_environment() -> None:
    src = (Path(__file__).parent.parent / "bot" / "app.py").read_text(encoding="utf-8")
    assert "os.environ" not in src and "-> Any" not in src and "import os" not in src


def test_scale_settings_database_url_shards_and_global_rate() -> None:
    s = load_settings({})
    assert (s.database_url, s.shard_count, s.shard_ids, s.global_rate) == (None, None, None, 50)
    url = "postgresql://narrator:hunter2-secret@db.example:5432/narrator"
    s = load_settings({"DATABASE_URL": url, "SHARD_COUNT": "4", "SHARD_IDS": "3, 1", "DISCORD_GLOBAL_RATE": "25"})
    assert s.database_url == url and "hunter2-secret" not in repr(s)
    assert (s.shard_count, s.shard_ids, s.global_rate) == (4, (1, 3), 25)
    assert load_settings({"SHARD_COUNT": "2"}).shard_ids == (0, 1)  # every shard in this process
    for env, message in [
        ({"DATABASE_URL": "mysql://x@h/db"}, "^DATABASE_URL must look like postgresql://"),
        ({"DATABASE_URL": "postgresql://u:hunter2-secret@/db"}, "^DATABASE_URL must look like"),
        ({"SHARD_IDS": "0"}, "^SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "0"}, "^SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "^SHARD_IDS must be shard numbers from 0 to 1"),
        ({"DISCORD_GLOBAL_RATE": "fast"}, "^DISCORD_GLOBAL_RATE must be a whole number"),
    ]:
        with pytest.raises(ConfigError, match=message) as info:
            load_settings(env)
        assert "hunter2" not in str(info.value) and "\n" not in str(info.value)


def test_import_settings_are_validated() -> None:
    s = load_settings({}, dotenv=False)
    assert (s.import_max_bytes, s.stories_per_server, s.story_cache_bytes) == (4_000_000, 25, 64_000_000)
    s = load_settings({"IMPORT_MAX_MB": "2.5", "STORIES_PER_SERVER": "3", "STORY_CACHE_MB": "8"}, dotenv=False)
    assert (s.import_max_bytes, s.stories_per_server, s.story_cache_bytes) == (2_500_000, 3, 8_000_000)
    for env in ({"IMPORT_MAX_MB": "lots"}, {"IMPORT_MAX_MB": "500"}, {"STORIES_PER_SERVER": "0"},
                {"STORIES_PER_SERVER": "2.5"}, {"STORY_CACHE_MB": "0"}, {"STORY_CACHE_MB": "lots"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            load_settings(env, dotenv=False)
