"""Where a webhook may point: HTTPS only, hosts the operator allows, public addresses only
(judged on every address a name resolves to), and never an exception on any input."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liqmap.policies.webhook_targets import (
    BAD_URL,
    NOT_ALLOWED,
    NOT_HTTPS,
    OFF,
    PRIVATE,
    UNRESOLVED,
    TargetRefused,
    allowed_hosts,
    host_allowed,
    is_discord,
    masked,
    public,
    target,
    vetted,
)

ALLOWED = allowed_hosts("discord.com, *.example.org, 8.8.8.8, 2001:4860:4860::8888")
TOKEN = "Zq3-kR9vXbT2nLw8yHc5dJ0fA7sE4gU1iO6pM"


def refusal(raw: str, patterns: tuple[str, ...] = ALLOWED, private: bool = False) -> str:
    with pytest.raises(TargetRefused) as refused:
        target(raw, patterns, private)
    return str(refused.value)


def test_the_allowed_hosts_setting_reads_names_and_wildcards() -> None:
    assert allowed_hosts(" Discord.com ,*.Example.org., ") == ("discord.com", "*.example.org")
    assert allowed_hosts("") == ()
    for bad in ("exa mple.org", "*", "a.*.org", "-x.org", "ex_ample.org", "http://x.org"):
        with pytest.raises(ValueError, match="not a host name"):
            allowed_hosts(bad)


def test_a_wildcard_matches_sub_domains_only() -> None:
    assert host_allowed("hooks.example.org", ALLOWED)
    assert host_allowed("a.b.example.org", ALLOWED)
    assert not host_allowed("example.org", ALLOWED)
    assert not host_allowed("evilexample.org", ALLOWED)
    assert not host_allowed("discord.com.evil.net", ALLOWED)


def test_accepted_urls_are_normalised() -> None:
    hook = target(f"HTTPS://Discord.com/api/webhooks/1/{TOKEN}#frag", ALLOWED)
    assert hook.url == f"https://discord.com/api/webhooks/1/{TOKEN}"
    assert (hook.host, hook.port, hook.literal) == ("discord.com", 443, False)
    assert (
        target("https://hooks.example.org:8443", ALLOWED).url == "https://hooks.example.org:8443/"
    )
    assert target("https://hooks.example.org:443/x?a=1", ALLOWED).url == (
        "https://hooks.example.org/x?a=1"
    )
    assert target("https://[2001:4860:4860::8888]/in", ALLOWED).url == (
        "https://[2001:4860:4860::8888]/in"
    )


def test_each_refusal_says_why() -> None:
    assert refusal("https://discord.com/x", ()) == OFF
    assert refusal("http://discord.com/api/webhooks/1/t") == NOT_HTTPS
    assert refusal("ftp://discord.com/") == NOT_HTTPS
    assert refusal("discord.com/api") == BAD_URL
    assert refusal("https://user:pass@discord.com/") == BAD_URL
    assert refusal("https:///nohost") == BAD_URL
    assert refusal("https://disc ord.com/") == BAD_URL
    assert refusal("https://discord.com:99999/") == BAD_URL
    assert refusal("https://discord.com:0/") == BAD_URL
    assert refusal("https://discord.com/<b>x</b>") == BAD_URL
    assert refusal("https://dïscord.com/") == BAD_URL
    assert refusal("https://" + "a" * 2000 + ".org/") == BAD_URL
    assert refusal("https://other.net/hook") == NOT_ALLOWED
    assert refusal("https://1.1.1.1/hook") == NOT_ALLOWED


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1", "10.0.0.8", "172.16.3.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "[::1]", "[::]",
        "[fe80::1]", "[fc00::1]", "[ff02::1]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]",
        "[2002:7f00:1::]", "[64:ff9b::7f00:1]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    ],
)  # fmt: skip
def test_private_loopback_link_local_and_reserved_literals_are_refused(host: str) -> None:
    patterns = allowed_hosts(host.strip("[]"))
    assert refusal(f"https://{host}/hook", patterns) == PRIVATE
    assert target(f"https://{host}/hook", patterns, private_allowed=True).literal


def test_resolved_addresses_are_vetted_all_together() -> None:
    assert vetted(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]) == [
        "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]  # fmt: skip
    for inner in (["127.0.0.1"], ["93.184.215.14", "10.1.2.3"], ["::ffff:169.254.169.254"]):
        with pytest.raises(TargetRefused, match=PRIVATE):
            vetted(inner)
        assert vetted(inner, private_allowed=True) == [str(ipaddress.ip_address(a)) for a in inner]
    for nothing in ([], ["not an address"]):
        with pytest.raises(TargetRefused, match=UNRESOLVED):
            vetted(nothing)
    assert vetted(["fe80::1%eth0"], private_allowed=True) == ["fe80::1"]


def test_public_judges_mapped_addresses_by_their_ipv4() -> None:
    assert public(ipaddress.ip_address("8.8.8.8"))
    assert public(ipaddress.ip_address("::ffff:8.8.8.8"))
    assert not public(ipaddress.ip_address("::ffff:192.168.0.1"))


def test_discord_urls_are_known_and_their_token_masked() -> None:
    url = f"https://discord.com/api/webhooks/123456/{TOKEN}"
    assert is_discord(url) and not is_discord("https://hooks.example.org/api/webhooks/1/x")
    assert masked(url) == "https://discord.com/api/webhooks/123456/…"
    assert TOKEN not in masked(url)
    assert masked("https://hooks.example.org/in?key=secret") == "https://hooks.example.org/in?…"


HOSTS = [
    "discord.com", "hooks.example.org", "example.org", "8.8.8.8", "127.0.0.1", "[::1]",
    "[2001:4860:4860::8888]", "localhost", "xn--nxasmq6b.example.org", "[::ffff:7f00:1]",
    "2130706433",
]  # fmt: skip
PORTS = st.one_of(st.just(""), st.integers(-5, 70_000).map(lambda p: f":{p}"), st.text(max_size=6))
HOSTS = [
    "discord.com", "hooks.example.org", "example.org", "8.8.8.8", "127.0.0.1", "[::1]",
    "[2001:4860:4860::8888]", "localhost", "xn--nxasmq6b.example.org", "[::ffff:7f00:1]",
    "2130706433",
]  # fmt: skip
PORTS = st.one_of(st.just(""), st.integers(-5, 70_000).map(lambda p: f":{p}"), st.text(max_size=6))
URLS = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(["https", "http", "HTTPS", "", "javascript", "file"]),
        st.one_of(st.sampled_from(HOSTS), st.text(max_size=40)),
        PORTS,
        st.text(max_size=60),
    ),
)


@given(URLS, st.booleans())
def test_any_text_gets_a_refusal_or_a_normalised_https_url(raw: str, private: bool) -> None:
    try:
        hook = target(raw, ALLOWED, private)
    except TargetRefused as refused:
        assert str(refused) in (OFF, NOT_HTTPS, BAD_URL, NOT_ALLOWED, PRIVATE)
        return
    assert hook.url.startswith("https://") and host_allowed(hook.host, ALLOWED)
    assert target(hook.url, ALLOWED, private) == hook, "normalising is stable"
    assert masked(hook.url).startswith("https://")


@given(st.lists(st.text(max_size=45), max_size=4), st.booleans())
def test_any_resolver_answer_is_vetted_or_refused(answer: list[str], private: bool) -> None:
    try:
        addresses = vetted(answer, private)
    except TargetRefused as refused:
        assert str(refused) in (PRIVATE, UNRESOLVED)
        return
    assert len(addresses) == len(answer)
    if not private:
        assert all(public(ipaddress.ip_address(a)) for a in addresses)


@given(st.text(max_size=200))
def test_any_allowed_hosts_setting_is_read_or_named(raw: str) -> None:
    try:
        patterns = allowed_hosts(raw)
    except ValueError as bad:
        assert "not a host name" in str(bad)
        return
    assert all(p and p == p.lower() for p in patterns)
