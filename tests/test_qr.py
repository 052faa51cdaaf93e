from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from service import keys, qr
from tests.support.qr_decode import decode

#: a valid game id (one whose slot holds a deadline partition)
GID = keys.new_game_id(b"qr")


def test_the_join_link_is_the_one_the_web_client_shares() -> None:
    assert qr.join_link("https://clock.example.com", "ABC234") == "https://clock.example.com/?game=ABC234"
    assert qr.join_link("https://example.com/clock/", "ABC234") == "https://example.com/clock/?game=ABC234"


def test_the_svg_decodes_to_its_link() -> None:
    link = "https://clock.example.com/?game=ABC234"

    assert decode(qr.svg(link)) == link


def test_the_svg_is_dark_on_light_without_script_or_style() -> None:
    svg = qr.svg("http://localhost:3000/?game=ABC234")

    assert svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert b'fill="#fff"' in svg and b'stroke="#000"' in svg
    assert b"<script" not in svg and b"<style" not in svg


@pytest.mark.parametrize("raw", [f" {GID.lower()} ", GID])
def test_a_game_code_is_normalised_as_join_does(raw: str) -> None:
    assert qr.game_code(raw) == GID


@pytest.mark.parametrize("raw", [None, "", GID[:5], GID + "2", GID[:5] + "-", "ABC234"])
def test_anything_else_is_no_game_code(raw: str | None) -> None:
    assert qr.game_code(raw) is None


def test_the_public_url_decides_when_set() -> None:
    request = make_mocked_request("GET", "/qr", headers={"Host": "internal:3000", "X-Forwarded-Proto": "http"})

    assert qr.request_base(request, "https://clock.example.com", True) == "https://clock.example.com"


def test_without_it_the_request_names_scheme_and_host() -> None:
    request = make_mocked_request("GET", "/qr", headers={"Host": "clock.local:3000"})

    assert qr.request_base(request, "", False) == "http://clock.local:3000"


def test_x_forwarded_proto_counts_only_behind_a_trusted_proxy() -> None:
    request = make_mocked_request("GET", "/qr", headers={"Host": "clock.example.com", "X-Forwarded-Proto": "HTTPS"})
    odd = make_mocked_request("GET", "/qr", headers={"Host": "clock.example.com", "X-Forwarded-Proto": "gopher"})

    assert qr.request_base(request, "", True) == "https://clock.example.com"
    assert qr.request_base(request, "", False) == "http://clock.example.com"
    assert qr.request_base(odd, "", True) == "http://clock.example.com"
