"""The YAML examples of the documentation, read where users read them.

``blocks(root)``: every ```yaml block of README.md and of the markdown files under
docs/, and the EXAMPLES of every module and lookup (found with ``ast``), in order.
``examples(blocks)``: the ones that run, each a play (with the group_vars block
just before it in the same document, if any) or a task list, and the blocks that
can neither run nor carry a marker saying why. A block that cannot run against
the sandbox carries one on the line before its fence::

    <!-- example: not run: needs an AWX controller -->
"""

import ast
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

NOT_RUN = re.compile(r"^<!--\s*example:\s*not run:(?P<reason>.*)-->$")
YAML_LANGUAGES = ("yaml", "yml")
PLAY_KEYS = ("hosts", "import_playbook", "ansible.builtin.import_playbook")
MESSAGE_MODULES = ("exchange.ews.message", "exchange.ews.draft")
SEND_ITEM = "exchange.ews.send_item"
# Modules a block may use and still run against the sandbox: a marked block using only these should run.
SANDBOX_COLLECTIONS = ("exchange.ews", "ansible.builtin")


@dataclass
class Block:
    source: str                  # the file, relative to the repository
    line: int                    # where the block starts
    text: str
    not_run: str | None = None   # the reason a marker gives

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    @cached_property
    def data(self):
        return yaml.safe_load(self.text)

    @property
    def kind(self) -> str:
        """``playbook``, ``tasks``, ``vars`` (a group_vars file) or ``other``."""
        if isinstance(self.data, dict):
            return "vars"
        if isinstance(self.data, list) and self.data and all(isinstance(entry, dict) for entry in self.data):
            plays = [entry for entry in self.data if any(key in entry for key in PLAY_KEYS)]
            if len(plays) == len(self.data):
                return "playbook"
            if not plays:
                return "tasks"
        return "other"

    @property
    def collections(self) -> set[str]:
        """The collections whose modules the block's tasks call (``awx.awx`` for ``awx.awx.job_template:``)."""
        return set(re.findall(r"^\s*(?:- )?([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:", self.text, re.MULTILINE))


@dataclass
class Example:
    """A block that runs: a playbook, or a task list run inside a play that configures the connection."""
    block: Block
    group_vars: Block | None = None

    @property
    def id(self) -> str:
        """``<file>: <name of the first play or task>``; ``<file>: EXAMPLES`` for a plugin's."""
        if self.block.source.endswith(".py"):
            return f"{self.block.source}: EXAMPLES"
        first = self.block.data[0]
        return f"{self.block.source}: {first.get('name') or first['tasks'][0]['name']}"

    @property
    def tasks(self) -> list[dict]:
        if self.block.kind == "tasks":
            return self.block.data
        return [task for play in self.block.data for task in play.get("tasks", [])]

    @property
    def drafts_then_sends(self) -> bool:
        """Prepares a draft (``message`` with ``state: draft``, or ``draft``) and then sends it."""
        prepared = set()
        for task in self.tasks:
            module = next((name for name in (*MESSAGE_MODULES, SEND_ITEM) if name in task), None)
            arguments = task.get(module) or {}
            state = arguments.get("state", "draft" if module == "exchange.ews.draft" else "sent")
            if module in MESSAGE_MODULES and state in ("draft", "present"):
                prepared.add(arguments.get("key"))
            elif prepared and (module == SEND_ITEM or (state == "sent" and arguments.get("key") in prepared)):
                return True
        return False

    @property
    def connection_from_environment(self) -> bool:
        """A playbook that names no ``ews_*`` variable takes the connection from the ``EWS_*`` environment."""
        return self.block.kind == "playbook" and "ews_" not in self.block.text


def markdown_blocks(path: Path, root: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, opening, body = [], None, []
    for index, line in enumerate(lines):
        if not line.lstrip().startswith("```"):
            body.append(line)
            continue
        if opening is None:
            opening, body = index, []
            continue
        if _language(lines[opening]) in YAML_LANGUAGES:
            before = [text.strip() for text in lines[:opening] if text.strip()]
            marker = NOT_RUN.match(before[-1]) if before else None
            found.append(Block(str(path.relative_to(root)), opening + 1, _dedent(body),
                               marker["reason"].strip() if marker else None))
        opening = None
    return found


def _dedent(lines: list[str]) -> str:
    """A block indented as the rest of a play it continues (a task list under ``tasks:``), moved to the left
    margin; its comments may stand further left ("# ... and in Monday's job:") and do not count."""
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    margin = min(indents, default=0)
    return "\n".join(line[min(margin, len(line) - len(line.lstrip())):] for line in lines) + "\n"


def _language(fence: str) -> str:
    """The language of a fence, however written: ```yaml, ```YAML, ``` yml title="site.yml"."""
    words = fence.strip()[3:].split()
    return words[0].lower() if words else ""


def plugin_examples(path: Path, root: Path) -> Block:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "EXAMPLES" for target in node.targets):
            return Block(str(path.relative_to(root)), node.lineno, node.value.value)
    raise AssertionError(f"{path.relative_to(root)} has no EXAMPLES")


def blocks(root: Path) -> list[Block]:
    documents = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    plugins = sorted((root / "plugins" / "modules").glob("*.py")) + sorted((root / "plugins" / "lookup").glob("*.py"))
    return ([block for document in documents for block in markdown_blocks(document, root)]
            + [plugin_examples(plugin, root) for plugin in plugins if plugin.name != "__init__.py"])


def examples(all_blocks: list[Block]) -> tuple[list[Example], list[str]]:
    """The examples that run, and a problem for each block that neither runs nor is marked."""
    runs, problems = [], []
    for index, block in enumerate(all_blocks):
        before = all_blocks[index - 1] if index else None
        after = all_blocks[index + 1] if index + 1 < len(all_blocks) else None
        if block.not_run is not None:
            continue
        if block.kind == "playbook":
            runs.append(Example(block, before if _group_vars_of(before, block) else None))
        elif block.kind == "tasks":
            runs.append(Example(block))
        elif not _group_vars_of(block, after):
            problems.append(f"{block.where}: a block that cannot run: make it a play, a task list or the "
                            f"group_vars of the play after it, or mark it <!-- example: not run: REASON -->")
    return runs, problems


def _group_vars_of(block: Block | None, play: Block | None) -> bool:
    """``block`` holds the variables of ``play``: a vars block just before it in the same document."""
    return (block is not None and play is not None and block.source == play.source and block.kind == "vars"
            and block.not_run is None and play.kind == "playbook" and play.not_run is None)


def readme_module_defaults(all_blocks: list[Block]) -> dict:
    """The ``module_defaults`` of the README's play: how the README configures the connection."""
    plays = [play for block in all_blocks if block.source == "README.md" and block.kind == "playbook"
             for play in block.data if "module_defaults" in play]
    assert plays, "README.md has no play with module_defaults"
    return plays[0]["module_defaults"]
