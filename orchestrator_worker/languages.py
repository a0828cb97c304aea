"""The script languages a job can be written in, and what running one takes:
the file the script is written to, the interpreter that runs it, and how
that interpreter finds the `cronium` runtime helpers. Container runs and
remote runs (plain or in Docker) all read this one table.

The helpers live in one directory per language (images/runtime/helpers:
bash/, python/, node/), baked into the runtime image and uploaded with
each remote run.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Language:
    name: str  # the job type, as in the job spec
    script_file: str  # the script's name in its (read-only) run directory
    interpreter: str  # on PATH in the runtime image and on users' servers
    # Environment that loads the helpers; "{helpers}" is their directory.
    helper_env_templates: dict[str, str] = field(default_factory=dict)

    def command(self, run_dir: str) -> list[str]:
        """The argv that runs the script written into `run_dir`."""
        return [self.interpreter, f"{run_dir}/{self.script_file}"]

    def helper_env(self, helpers_dir: str) -> dict[str, str]:
        return {key: value.format(helpers=helpers_dir) for key, value in self.helper_env_templates.items()}

    @property
    def suffix(self) -> str:
        return "." + self.script_file.rsplit(".", 1)[-1]


LANGUAGES: dict[str, Language] = {
    language.name: language
    for language in (
        # BASH_ENV: sourced by every non-interactive bash before its script.
        Language("bash", "script.sh", "bash", {"BASH_ENV": "{helpers}/bash/cronium.sh"}),
        # sitecustomize.py there makes `cronium` a builtin as well.
        Language("python", "script.py", "python3", {"PYTHONPATH": "{helpers}/python"}),
        # require('cronium') through NODE_PATH; global.js makes `cronium` a global.
        Language(
            "node", "script.js", "node",
            {"NODE_PATH": "{helpers}/node", "NODE_OPTIONS": "--require {helpers}/node/global.js"},
        ),
    )
}


def all_helpers_env(helpers_dir: str) -> dict[str, str]:
    """Every language's helpers at once: a script may start another
    language's interpreter (a Bash script running `python3 -c ...`), and
    the helpers should work there too."""
    env: dict[str, str] = {}
    for language in LANGUAGES.values():
        env.update(language.helper_env(helpers_dir))
    return env
