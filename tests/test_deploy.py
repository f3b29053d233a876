"""What docs/deploy.md promises an operator: rotating SECRET_KEY keeps readers signed in
while the old key is listed in SECRET_KEY_FALLBACKS."""
from __future__ import annotations

from webapp import config


def rotate(app, monkeypatch, fallbacks: str | None) -> None:
    """Deploy a new SECRET_KEY the way an operator does: through the environment."""
    monkeypatch.setenv("SECRET_KEY", "the-new-key")
    if fallbacks is None:
        monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY_FALLBACKS", fallbacks)
    settings = config.from_environment()
    app.config.update(SECRET_KEY=settings["SECRET_KEY"], SECRET_KEY_FALLBACKS=settings["SECRET_KEY_FALLBACKS"])


def test_a_session_signed_with_the_old_key_still_works_after_rotation(app, client, auth, monkeypatch):
    auth.register()
    auth.login()
    assert client.get("/account").status_code == 200  # signed in, the cookie signed with "test-secret"

    rotate(app, monkeypatch, "an-older-key, test-secret")

    assert app.config["SECRET_KEY_FALLBACKS"] == ["an-older-key", "test-secret"]
    response = client.get("/account")
    assert response.status_code == 200 and "reader@example.org" in response.get_data(as_text=True)


def test_without_the_old_key_as_a_fallback_the_session_is_gone(app, client, auth, monkeypatch):
    auth.register()
    auth.login()

    rotate(app, monkeypatch, None)

    assert app.config["SECRET_KEY_FALLBACKS"] == []
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
