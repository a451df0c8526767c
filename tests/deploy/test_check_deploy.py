"""`manage.py check --deploy` passes, warnings included, with the production environment the README documents."""

import os
import re
import secrets
import subprocess
import sys

from tests.deploy.envreads import ROOT, parse_env_file

MARKER = "<!-- production env (tests/deploy/test_check_deploy.py reads this block) -->"


def readme_production_env() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(re.escape(MARKER) + r"\s*```sh\n(.*?)```", readme, re.DOTALL).group(1)
    values, problems = parse_env_file(block)
    assert not problems, problems  # it can be pasted into an env file as it is
    return values


def test_check_deploy_passes_with_the_readmes_production_env(tmp_path):
    env = {
        **readme_production_env(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "VAR_DIR": str(tmp_path),
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
