from __future__ import annotations

import json
import time

import pytest

from bot.answers import AnswerEngine, LLMConfig
from bot.config import load_settings
from bot.store import Database
from tests.answers.fixture import HOSPITAL_TEMARI, make_story
from tests.answers.llm_stub import running_stub

END = 13


def test_config_from_settings_needs_url_and_model() -> None:
    base = {"LLM_BASE_URL": "http://127.0.0.1:9/v1", "LLM_MODEL": "tiny", "LLM_API_KEY": "sekrit-key"}
    cfg = LLMConfig.from_settings(load_settings(base, dotenv=False))
    assert cfg is not None and cfg.endpoint == "http://127.0.0.1:9/v1/chat/completions"
    assert cfg.timeout == 8.0 and "sekrit" not in repr(cfg)
    assert LLMConfig.from_settings(load_settings({"LLM_MODEL": "tiny"}, dotenv=False)) is None
    assert LLMConfig.from_settings(load_settings({"LLM_BASE_URL": "http://x"}, dotenv=False)) is None


async def test_llm_words_the_answer_from_lines_read_so_far(db: Database) -> None:
    story = make_story()
    async with running_stub() as stub:
        cfg = LLMConfig(stub.base_url, "tiny", api_key="k-123", timeout=5)
        engine = AnswerEngine(db, llm=cfg)
        a = await engine.answer(story, "temari", "Why were you scared? @everyone", END)
        assert a.source == "llm"
        assert a.text.startswith("I was scared for him. That is all.")
        assert a.text.endswith("-# recalling scene 3 · Part 3")
        assert HOSPITAL_TEMARI in a.beats
        req = stub.requests[0]
        assert req["model"] == "tiny" and req["stream"] is False
        assert stub.headers[0]["Authorization"] == "Bearer k-123"
        sent = json.dumps(req["messages"], ensure_ascii=False)
        assert "Gaara's older sister" in sent  # the persona
        assert "I-I was scared, Gaara" in sent  # the retrieved line
        assert "Why were you scared?" in sent

        # Asked earlier, the request carries nothing from later beats.
        stub.requests.clear()
        await engine.answer(story, "temari", "What did you shout?", 4)
        sent = json.dumps(stub.requests[0]["messages"], ensure_ascii=False)
        for later in story.beats[5:]:
            assert later.text[:30] not in sent


@pytest.mark.parametrize("mode", ["status500", "badjson", "wrongshape", "empty", "hang"])
async def test_any_llm_failure_falls_back_to_retrieval(db: Database, mode: str) -> None:
    story = make_story()
    async with running_stub() as stub:
        stub.mode = mode
        # Only the hung server has to wait for the client's timeout, so only it gets a tiny one
        # (20 ms of real time); the others answer at once and keep a generous timeout.
        timeout = 0.02 if mode == "hang" else 5.0
        engine = AnswerEngine(db, llm=LLMConfig(stub.base_url, "tiny", timeout=timeout))
        t0 = time.perf_counter()
        a = await engine.answer(story, "temari", "Why were you scared?", END)
        assert a.source == "retrieval"
        assert "I-I was scared, Gaara" in a.text
        if mode == "hang":
            assert time.perf_counter() - t0 < 2.0  # the timeout, not the server, ended the wait
            assert len(stub.requests) <= 1  # a loaded machine may time out before the POST lands
        else:
            assert len(stub.requests) == 1


async def test_unreachable_llm_falls_back(db: Database) -> None:
    # Port 9 (discard) on loopback: connection refused at once.
    engine = AnswerEngine(db, llm=LLMConfig("http://127.0.0.1:9/v1", "tiny", timeout=1))
    a = await engine.answer(make_story(), "temari", "Why were you scared?", END)
    assert a.source == "retrieval"


async def test_llm_answer_quoting_a_later_beat_is_rejected(db: Database) -> None:
    story = make_story()
    async with running_stub() as stub:
        # The model "knows" the hospital scene although the reader is still in scene 1.
        stub.reply = "Hah. I-I was scared, Gaara, I thought you would kill us all."
        engine = AnswerEngine(db, llm=LLMConfig(stub.base_url, "tiny", timeout=5))
        a = await engine.answer(story, "temari", "What did you shout?", 4)
        assert a.source == "retrieval" and "kill us all" not in a.text
        # The same words are fine once the reader has reached them.
        b = await engine.answer(story, "temari", "Why were you scared?", END)
        assert b.source == "llm"


async def test_llm_not_called_when_nothing_is_known(db: Database) -> None:
    story = make_story()
    async with running_stub() as stub:
        engine = AnswerEngine(db, llm=LLMConfig(stub.base_url, "tiny", timeout=5))
        a = await engine.answer(story, "shukaku", "What do you think of Naruto?", 2)
        assert a.source == "deflection" and stub.requests == []


async def test_the_llm_is_told_whom_a_pronoun_stands_for(db: Database) -> None:
    """Asked 'why were you scared of him?' by Gaara's bed, the model is told 'him' is Gaara."""
    story = make_story()
    async with running_stub() as stub:
        engine = AnswerEngine(db, llm=LLMConfig(stub.base_url, "tiny", timeout=5))
        a = await engine.answer(story, "temari", "Why were you scared of him?", HOSPITAL_TEMARI)
        assert a.source == "llm"
        sent = json.dumps(stub.requests[0]["messages"], ensure_ascii=False)
        assert "«Why were you scared of him?»" in sent
        assert "«Why were you scared of Gaara?»" in sent
