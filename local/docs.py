"""The documentation pages whose commands act on an AWS account: their `aws` commands run in the tests
(local/tests/test_readme_commands.py) as written."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMMAND_PAGES = ("docs/deploy.md", "docs/operations.md", "docs/safety.md")


def command_pages_text() -> str:
    """The command pages, one after the other."""
    return "\n".join((ROOT / page).read_text() for page in COMMAND_PAGES)
