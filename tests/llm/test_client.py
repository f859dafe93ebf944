"""The LLM client against the scripted endpoint: answers, cache, retries, timeouts, JSON mode, limits, errors."""

from __future__ import annotations

import pytest

from hippo.config import Settings
from hippo.errors import ConfigError, LLMError
from hippo.llm.client import ChatRequest
from hippo.llm.config import LLMConfig, Secret, llm_config
from tests.llm.conftest import API_KEY, MODEL
from tests.llm.server import ChatServer, error, reply

HELLO = ChatRequest(({"role": "user", "content": "Say hello."},))
JSON_ASK = ChatRequest(({"role": "user", "content": "Reply in JSON."},), schema={"type": "object"})


def test_answer_usage_and_bearer_key(server, make_client):
    server.enqueue(reply("Hello."))
    client = make_client()
    answer = client.chat(HELLO)
    assert answer.text == "Hello." and not answer.cached
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.body["model"] == MODEL and request.body["temperature"] == 0.0
    assert client.usage.to_dict() == {"requests": 1, "cache_hits": 0, "retries": 0, "failures": 0,
                                      "prompt_tokens": 12, "completion_tokens": 7}


def test_second_run_is_served_from_the_cache(server, make_client):
    server.enqueue(reply("Hello."))
    make_client().chat(HELLO)
    again = make_client()  # a new client on the same cache file, as a later run would be
    assert again.chat(HELLO).cached
    assert again.chat_many([HELLO, HELLO])[0].text == "Hello."
    assert len(server.requests) == 1
    assert again.usage.requests == 0 and again.usage.cache_hits == 3 and again.usage.prompt_tokens == 0


def test_cache_key_covers_the_whole_request(server, make_client):
    client = make_client()
    server.enqueue(reply("a"), reply("b"), reply("c"))
    client.chat(HELLO)
    client.chat(ChatRequest(HELLO.messages, temperature=0.7))
    client.chat(ChatRequest(HELLO.messages, max_tokens=5))
    assert len(server.requests) == 3


def test_429_waits_as_long_as_retry_after_says(server, make_client, sleeps):
    server.enqueue(error(429, headers={"Retry-After": "3"}), reply("Hello."))
    client = make_client()
    assert client.chat(HELLO).text == "Hello."
    assert sleeps == [3.0] and len(server.requests) == 2 and client.usage.retries == 1


def test_500_then_success_backs_off(server, make_client, sleeps):
    server.enqueue(error(500), error(503), reply("Hello."))
    assert make_client(backoff=0.5).chat(HELLO).text == "Hello."
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 0.625 and 1.0 <= sleeps[1] <= 1.25  # doubled, with jitter


def test_persistent_5xx_ends_in_llm_error(server, make_client):
    server.enqueue(*[error(502)] * 3)
    with pytest.raises(LLMError, match=r"answered 502 \(tried 3 time\(s\)\)") as caught:
        make_client(max_retries=2).chat(HELLO)
    assert "127.0.0.1" in str(caught.value)


def test_timeout_is_retried_then_reported(server, make_client):
    server.enqueue(reply("late", delay=1.0), reply("late", delay=1.0))
    with pytest.raises(LLMError, match=r"did not answer within 0.2 s \(tried 2 time\(s\)\).*timeout"):
        make_client(timeout=0.2, max_retries=1).chat(HELLO)


def test_timeout_then_success(server, make_client):
    server.enqueue(reply("late", delay=1.0), reply("Hello."))
    assert make_client(timeout=0.2).chat(HELLO).text == "Hello."


def test_key_refused_stops_at_once_with_advice(server, make_client):
    server.enqueue(error(401, body=f'{{"error": "bad key {API_KEY}"}}'))
    with pytest.raises(LLMError, match="API key was refused; set HIPPO_LLM_API_KEY") as caught:
        make_client().chat(HELLO)
    assert API_KEY not in str(caught.value) and len(server.requests) == 1


def test_400_to_json_schema_steps_down_to_json_object_then_off(server, make_client):
    server.enqueue(error(400, '{"error": "response_format json_schema unsupported"}'),
                   error(400, '{"error": "response_format unsupported"}'), reply('{"ok": true}'))
    client = make_client(json_mode="schema")
    assert client.chat(JSON_ASK).text == '{"ok": true}'
    formats = [r.body.get("response_format", {}).get("type") for r in server.requests]
    assert formats == ["json_schema", "json_object", None]
    server.enqueue(reply('{"again": 1}'))
    client.chat(ChatRequest(JSON_ASK.messages, schema={"type": "object"}, max_tokens=9))
    assert "response_format" not in server.requests[-1].body  # remembered for later requests


def test_plain_400_is_not_retried(server, make_client):
    server.enqueue(error(400, '{"error": "context length exceeded"}'))
    with pytest.raises(LLMError, match="context length exceeded.*retrying will not help"):
        make_client().chat(HELLO)
    assert len(server.requests) == 1


def test_chat_many_keeps_order_and_limits_concurrency(server, make_client):
    server.handler = lambda body: reply(body["messages"][-1]["content"].upper(), delay=0.1)
    requests = [ChatRequest(({"role": "user", "content": f"n{i}"},)) for i in range(6)]
    replies = make_client(concurrency=2).chat_many(requests)
    assert [r.text for r in replies] == [f"N{i}" for i in range(6)]
    assert server.in_flight_max == 2


def test_chat_many_returns_per_request_failures(server, make_client):
    def handler(body):
        return error(400, "no") if body["messages"][-1]["content"] == "bad" else reply("fine")

    server.handler = handler
    good, bad = make_client().chat_many([HELLO, ChatRequest(({"role": "user", "content": "bad"},))])
    assert good.text == "fine" and isinstance(bad, LLMError)


def test_unreachable_endpoint_raises(make_client):
    with ChatServer() as gone:
        url = gone.base_url  # closed on leaving the block: nothing listens there any more
    client = make_client(base_url=url, max_retries=1)
    with pytest.raises(LLMError, match="cannot connect to the LLM endpoint 127.0.0.1.*is the server running"):
        client.chat_many([HELLO, ChatRequest(({"role": "user", "content": "other"},))])


def test_config_from_settings_and_environment(server):
    env = {"HIPPO_LLM_MODEL": "env-model", "HIPPO_LLM_BASE_URL": "http://env:1/v1", "OPENAI_API_KEY": "k1"}
    config = llm_config(Settings(), environ=env)
    assert (config.model, config.base_url, config.api_key.reveal()) == ("env-model", "http://env:1/v1", "k1")
    mine = llm_config(Settings(extra={"llm": {"model": "m", "base_url": server.base_url, "timeout": 3}}),
                      environ={**env, "HIPPO_LLM_API_KEY": "k2"})
    assert (mine.model, mine.base_url, mine.timeout, mine.api_key.reveal()) == ("m", server.base_url, 3, "k2")
    assert llm_config(Settings(extra={"llm": {"enabled": False}}), environ=env) is None
    assert llm_config(Settings(), environ={"OPENAI_API_KEY": "k"}) is None  # a key alone configures nothing
    with pytest.raises(ConfigError, match="holds an API key.*HIPPO_LLM_API_KEY"):
        llm_config(Settings(extra={"llm": {"model": "m", "api_key": "k"}}), environ={})
    with pytest.raises(ConfigError, match="unknown LLM setting"):
        llm_config(Settings(extra={"llm": {"modle": "m"}}), environ={})


def test_key_is_in_no_repr():
    config = LLMConfig(base_url="http://user:pw@localhost:8000/v1", model="m", api_key=Secret(API_KEY))
    assert API_KEY not in repr(config) and API_KEY not in str(config.api_key)
    assert config.host == "localhost:8000"
