import pytest

from scrm.api.services import api_key_create


class KeyClient:
    """The Django test client sending JSON with `Authorization: Api-Key <key>`."""

    def __init__(self, client, raw_key: str):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"} if raw_key else {}

    def get(self, url, **kwargs):
        return self.client.get(url, **self.headers, **kwargs)

    def post(self, url, data):
        return self.client.post(url, data=data, content_type="application/json", **self.headers)

    def put(self, url, data):
        return self.client.put(url, data=data, content_type="application/json", **self.headers)


@pytest.fixture
def write_key(db):
    """(ApiKey, clear key) with the write scope."""
    return api_key_create(name="小程序", scope="write")


@pytest.fixture
def read_key(db):
    return api_key_create(name="BI 报表", scope="read")


@pytest.fixture
def writer(client, write_key):
    """A brand system allowed to write (and read) through /api/v1/."""
    return KeyClient(client, write_key[1])


@pytest.fixture
def reader(client, read_key):
    return KeyClient(client, read_key[1])


def error_fields(response) -> dict[str, list[str]]:
    """{field: [messages]} of an API error answer; a nested field also counts for its top-level name."""
    body = response.json()
    assert set(body) >= {"code", "message", "errors"}, body  # the one error shape
    fields: dict[str, list[str]] = {}
    for error in body["errors"]:
        for name in {error["field"], error["field"].split(".")[0]}:
            fields.setdefault(name, []).append(error["message"])
    return fields
