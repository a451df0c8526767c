import pytest


@pytest.fixture
def media_files(settings):
    """Every file under MEDIA_ROOT, to prove a failed write left nothing behind."""

    def list_files():
        root = settings.MEDIA_ROOT
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return list_files
