"""The LLM settings: defaults, every variable read, validation messages, the key hidden,
and which LLM (if any) make_llm builds from them."""

from pathlib import Path

import pytest

from rag.answers.llm import OpenAILLM, make_llm
from rag.config import DEFAULT_ABSTAIN_THRESHOLD, DEFAULT_OPENAI_MODEL, Settings
from rag.errors import ConfigError

KEY = "sk-test-FAKE-0123456789abcdef"


def test_defaults_mean_extractive_answers() -> None:
    s = Settings.from_env({})
    assert (
        s.answers.llm,
        s.answers.llm_base_url,
        s.answers.openai_api_key,
        s.answers.llm_model,
    ) == ("auto", None, None, None)
    assert (s.answers.llm_timeout, s.answers.llm_retries, s.answers.llm_max_tokens) == (
        30.0,
        2,
        512,
    )
    assert (s.answers.llm_context_tokens, s.answers.llm_temperature, s.answers.llm_threads) == (
        4096,
        0.1,
        1,
    )
    assert s.answers.abstain_threshold == DEFAULT_ABSTAIN_THRESHOLD
    assert s.answers.llm_enabled is False and make_llm(s.answers) is None


def test_every_llm_variable_is_read(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "RAG_LLM": "OpenAI",
            "RAG_LLM_BASE_URL": "http://localhost:11434/v1",
            "OPENAI_BASE_URL": "http://ignored:1/v1",
            "OPENAI_API_KEY": KEY,
            "RAG_LLM_MODEL": "llama3.2",
            "RAG_LLM_TEMPERATURE": "0.7",
            "RAG_LLM_MAX_TOKENS": "256",
            "RAG_LLM_TIMEOUT": "12.5",
            "RAG_LLM_RETRIES": "0",
            "RAG_LLM_CONTEXT_TOKENS": "8192",
            "RAG_LLM_THREADS": "4",
            "RAG_ABSTAIN_THRESHOLD": "0.5",
        }
    )
    assert (s.answers.llm, s.answers.llm_base_url, s.answers.llm_model) == (
        "openai",
        "http://localhost:11434/v1",
        "llama3.2",
    )
    assert s.answers.openai_api_key == KEY
    assert (s.answers.llm_temperature, s.answers.llm_max_tokens, s.answers.llm_timeout) == (
        0.7,
        256,
        12.5,
    )
    assert (s.answers.llm_retries, s.answers.llm_context_tokens, s.answers.llm_threads) == (
        0,
        8192,
        4,
    )
    assert s.answers.abstain_threshold == 0.5
    llm = make_llm(s.answers)  # builds the client; nothing is contacted
    assert isinstance(llm, OpenAILLM)
    assert (llm.model, llm.base_url, llm.timeout, llm.retries) == (
        "llama3.2", "http://localhost:11434/v1", 12.5, 0,
    )  # fmt: skip
    assert KEY not in repr(s) and KEY not in repr(llm)


def test_openai_base_url_is_the_fallback_and_a_key_alone_means_openai() -> None:
    s = Settings.from_env({"OPENAI_BASE_URL": "http://h:8000/v1", "RAG_LLM_MODEL": "m"})
    assert s.answers.llm_base_url == "http://h:8000/v1" and s.answers.llm_enabled
    s = Settings.from_env({"OPENAI_API_KEY": KEY})
    llm = make_llm(s.answers)
    assert isinstance(llm, OpenAILLM)
    assert (llm.base_url, llm.model) == ("https://api.openai.com/v1", DEFAULT_OPENAI_MODEL)
    assert make_llm(Settings.from_env({"OPENAI_API_KEY": KEY, "RAG_LLM": "none"}).answers) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_LLM": "gpt"}, "RAG_LLM is 'gpt'; use one of auto, openai, local, none"),
        ({"RAG_LLM": "openai"}, "RAG_LLM=openai but neither RAG_LLM_BASE_URL"),
        (
            {"RAG_LLM_BASE_URL": "http://localhost:11434/v1"},
            "RAG_LLM_MODEL is not set. Set it to a model that server serves",
        ),
        ({"RAG_LLM_BASE_URL": "localhost:1234", "RAG_LLM_MODEL": "m"}, "is not an http(s) URL"),
        ({"RAG_LLM_TIMEOUT": "soon"}, "RAG_LLM_TIMEOUT must be a number, got 'soon'"),
        ({"RAG_LLM_TIMEOUT": "0"}, "RAG_LLM_TIMEOUT must be at least 0.1, got 0.0"),
        ({"RAG_LLM_TEMPERATURE": "3"}, "RAG_LLM_TEMPERATURE must be between 0.0 and 2.0, got 3.0"),
        ({"RAG_ABSTAIN_THRESHOLD": "nan"}, "RAG_ABSTAIN_THRESHOLD must be at least -1.0, got nan"),
        (
            {"RAG_LLM_MAX_TOKENS": "4096"},
            "RAG_LLM_MAX_TOKENS (4096) must be smaller than RAG_LLM_CONTEXT_TOKENS (4096)",
        ),
    ],
)
def test_bad_llm_values_say_what_and_how(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert message in str(info.value)
    assert KEY not in str(info.value)
