import pytest

from tests.analytics.dataset import build, build_rolled_up


@pytest.fixture
def dataset(db):
    return build()


@pytest.fixture
def rolled_up(db):
    return build_rolled_up()
