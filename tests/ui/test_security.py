from __future__ import annotations

import pytest

from agent.errors import AccessDeniedError
from agent.settings import UIUser, get_settings
from ui.app import launch_kwargs
from ui.identity import check_login, identify


class FakeRequest:
    def __init__(self, username: str | None) -> None:
        self.username = username


def test_binds_loopback_and_serves_only_outputs_by_default() -> None:
    settings = get_settings()
    kwargs = launch_kwargs(settings)
    assert kwargs["server_name"] == "127.0.0.1"
    assert kwargs["auth"] is None
    assert kwargs["allowed_paths"] == [str(settings.outputs_dir)]
    assert kwargs["share"] is False
    assert kwargs["max_file_size"].endswith("mb")


def test_exposing_without_logins_is_refused() -> None:
    settings = get_settings()
    settings.ui.host = "0.0.0.0"
    with pytest.raises(AccessDeniedError, match="without logins"):
        launch_kwargs(settings)
    settings.ui.users = [UIUser(name="dr", password="pw", role="expert")]
    assert launch_kwargs(settings)["auth"] is check_login


def test_login_and_roles() -> None:
    settings = get_settings()
    settings.ui.users = [UIUser(name="dr", password="s3cret", role="expert"), UIUser(name="tech", password="x")]
    assert check_login("dr", "s3cret")
    assert not check_login("dr", "wrong")
    assert not check_login("nobody", "s3cret")
    assert identify(FakeRequest("dr"), "b1").role == "expert"
    assert identify(FakeRequest("tech"), "b1").role == "viewer"


def test_anonymous_browsers_get_separate_sessions() -> None:
    a = identify(FakeRequest(None), "aaaa1111")
    b = identify(FakeRequest(None), "bbbb2222")
    assert a.session != b.session
    assert identify(FakeRequest(None), "../../etc").session.count("/") == 0
