"""Reading the environment: an empty value means unset."""

import os


def env(name: str, default: str = "") -> str:
    # Empty means unset: `.env.example` lists every key, most of them blank, and Docker's --env-file and
    # systemd's EnvironmentFile pass a blank line through as an empty string.
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}
