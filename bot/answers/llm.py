"""Optional LLM voice: one call to an OpenAI-compatible `/chat/completions` endpoint (llama.cpp,
Ollama, vLLM, hosted APIs). Any failure raises LLMError and the engine answers from retrieval."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import Settings

MAX_ANSWER_CHARS = 1200


class LLMError(Exception):
    """The LLM gave no usable answer (timeout, HTTP error, bad JSON, empty); never shown to users."""


@dataclass(frozen=True, slots=True, repr=False)
class LLMConfig:
    base_url: str  # e.g. http://127.0.0.1:8080/v1 (the part before /chat/completions)
    model: str
    api_key: str | None = None
    timeout: float = 8.0
    max_tokens: int = 220
    temperature: float = 0.4

    def __repr__(self) -> str:  # the key must never reach a log line
        return (f"LLMConfig(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key={'<set>' if self.api_key else None}, timeout={self.timeout})")

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig | None:
        """The config when LLM_BASE_URL and LLM_MODEL are both set, else None (retrieval only)."""
        if not settings.llm_base_url or not settings.llm_model:
            return None
        return cls(settings.llm_base_url.rstrip("/"), settings.llm_model, settings.llm_api_key,
                   settings.llm_timeout)

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


async def chat(config: LLMConfig, messages: list[dict[str, str]]) -> str:
    """POST the messages; return the first choice's text. Raises LLMError on anything unusable,
    within `config.timeout` seconds in total."""
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    payload: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
        "stream": False,
    }
    timeout = aiohttp.ClientTimeout(total=config.timeout)
    try:
        async with asyncio.timeout(config.timeout), aiohttp.ClientSession(timeout=timeout) as http, \
                http.post(config.endpoint, json=payload, headers=headers) as resp:
            if resp.status != 200:
                raise LLMError(f"HTTP {resp.status}")
            raw = await resp.content.read(256 * 1024)
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        raise LLMError(f"{type(exc).__name__}") from exc
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError("response is not a chat completion") from exc
    if not isinstance(content, str) or not content.strip():
        raise LLMError("empty answer")
    text = content.strip()
    if len(text) > MAX_ANSWER_CHARS:
        raise LLMError("answer too long")
    return text
