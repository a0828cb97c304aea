"""Templates of tool fields: Jinja2 in a sandbox, rendered in a child
process of its own.

A template is the user's code. Jinja2's ImmutableSandboxedEnvironment keeps
it from reaching Python's internals or changing its context, but not from
spending CPU or memory (`{{ 9 ** 9 ** 9 }}`, a loop in a loop of 100,000,
`"%999999999s" % 1`). So templates never render in the worker's or the
app's own process: `render_isolated` runs `main` in a fresh interpreter
that first caps its own address space, CPU time and files, then renders
with a size bound on each field; the caller kills it after a wall-clock
timeout. A runaway template costs one short-lived process, never a worker's
event loop (its leases) or the app.

What a template sees: `input` (the job's input: in a workflow, the parent
step's output; for a conditional action, the ended job's summary), `event`
(id and name), `job` (id and attempt) and `variables` (the owner's
variables the templates name literally: `variables.key` or
`variables["key"]`; secret ones are masked wherever they are logged).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from orchestrator_worker.tools.kinds import RENDERED_MAX_CHARS, TEMPLATE_MAX_CHARS

# The child's own limits: address space, CPU seconds; the caller's clock.
CHILD_MEMORY_BYTES = 512 * 1024 * 1024
CHILD_CPU_SECONDS = 5
RENDER_TIMEOUT_S = 10.0
# What the child may print back (every field at its cap, as JSON).
REPLY_MAX_BYTES = 16 * RENDERED_MAX_CHARS + 64 * 1024
# Numbers and repetitions a template may build in one operation.
MAX_REPEAT_ITEMS = 1_000_000
MAX_POWER_BITS = 4096
MAX_VARIABLES = 20
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class TemplateProblem(Exception):
    """A template that cannot be used or rendered; the message says why
    (safe to show) and `field` which one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and _number(left) and _number(right):
            if abs(right) * max(abs(left), 2).bit_length() > MAX_POWER_BITS:
                raise SecurityError(f"{left} ** {right} is too large a number for a template")
        if operator == "*":
            for items, times in ((left, right), (right, left)):
                if isinstance(items, (str, list, tuple)) and isinstance(times, int):
                    if len(items) * times > MAX_REPEAT_ITEMS:
                        raise SecurityError("that repetition makes too long a value for a template")
            if _number(left) and _number(right) and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
                raise SecurityError("that product is too large a number for a template")
        return super().call_binop(context, operator, left, right)


def _number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def environment() -> _Sandbox:
    return _Sandbox(
        undefined=ChainableUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=lambda value: "" if value is None else value,
    )


def parse(text: str, field: str | None = None) -> nodes.Template:
    """The template's syntax tree, or TemplateProblem naming the line."""
    if len(text) > TEMPLATE_MAX_CHARS:
        raise TemplateProblem(f"a template may be at most {TEMPLATE_MAX_CHARS} characters", field)
    try:
        return environment().parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error on line {exc.lineno}: {exc.message}", field) from None
    except (RecursionError, MemoryError):
        raise TemplateProblem("the template is nested too deeply", field) from None


def referenced_variables(templates: dict[str, str]) -> list[str]:
    """The variables the templates read (`variables.key`,
    `variables["key"]`), so that exactly those are fetched for a run. A
    name computed at run time cannot be known beforehand: refused."""
    names: set[str] = set()
    for field, text in templates.items():
        tree = parse(text, field)
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node.node, nodes.Name) and node.node.name == "variables":
                if isinstance(node, nodes.Getattr):
                    names.add(node.attr)
                elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                    names.add(node.arg.value)
                else:
                    raise TemplateProblem("name a variable literally: variables.key or variables[\"key\"]", field)
        uses = sum(1 for node in tree.find_all(nodes.Name) if node.name == "variables")
        reads = sum(
            1 for node in tree.find_all((nodes.Getattr, nodes.Getitem))
            if isinstance(node.node, nodes.Name) and node.node.name == "variables"
        )
        if uses > reads:
            raise TemplateProblem("use one variable at a time: variables.key or variables[\"key\"]", field)
    if len(names) > MAX_VARIABLES:
        raise TemplateProblem(f"templates may read at most {MAX_VARIABLES} variables")
    return sorted(names)


def render_fields(templates: dict[str, str], context: dict[str, Any], max_chars: int = RENDERED_MAX_CHARS) -> dict[str, str]:
    """Every template rendered over `context`, each at most `max_chars`.
    In this process: only for the child `main` runs in."""
    env = environment()
    rendered: dict[str, str] = {}
    for field, text in templates.items():
        try:
            template = env.from_string(text)
            size, parts = 0, []
            for chunk in template.generate(context):
                size += len(chunk)
                if size > max_chars:
                    raise TemplateProblem(f"the rendered {field} is longer than {max_chars} characters", field)
                parts.append(chunk)
        except TemplateProblem:
            raise
        except SecurityError as exc:
            raise TemplateProblem(f"not allowed in a template: {exc}", field) from None
        except TemplateError as exc:
            raise TemplateProblem(f"the template failed: {exc.message or type(exc).__name__}", field) from None
        except MemoryError:
            raise TemplateProblem("the template used too much memory", field) from None
        except RecursionError:
            raise TemplateProblem("the template recursed too deeply", field) from None
        except Exception as exc:  # a filter given the wrong kind of value, a division by zero, ...
            raise TemplateProblem(f"the template failed: {type(exc).__name__}: {str(exc)[:300]}", field) from None
        rendered[field] = "".join(parts)
    return rendered


def _limit_self() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    """The child: limits first, then the request from stdin, the reply to stdout."""
    _limit_self()
    sys.setrecursionlimit(2000)
    try:
        request = json.loads(sys.stdin.buffer.read())
        reply: dict[str, Any] = {
            "fields": render_fields(request["templates"], request["context"], int(request["maxChars"]))
        }
    except TemplateProblem as exc:
        reply = {"error": exc.message, "field": exc.field}
    except MemoryError:
        reply = {"error": "the template used too much memory"}
    sys.stdout.write(json.dumps(reply))
    sys.stdout.flush()


_CHILD_CODE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from orchestrator_worker.tools.templates import main; main()"
)


async def render_isolated(
    templates: dict[str, str], context: dict[str, Any], *, max_chars: int = RENDERED_MAX_CHARS,
    timeout: float = RENDER_TIMEOUT_S,
) -> dict[str, str]:
    """Render in a child process (see the module's docstring); the fields,
    or TemplateProblem."""
    if not templates:
        return {}
    payload = json.dumps({"templates": templates, "context": context, "maxChars": max_chars}, default=str).encode()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-c", _CHILD_CODE, _PACKAGE_PARENT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        # Nothing of the parent's environment (the worker's token) reaches it.
        env={"LANG": "C.UTF-8", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(payload), timeout)
    except asyncio.TimeoutError:
        raise TemplateProblem(f"rendering took longer than {timeout:g} s") from None
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if len(out) > REPLY_MAX_BYTES:
        raise TemplateProblem("the rendered fields are too long")
    try:
        reply = json.loads(out)
    except ValueError:
        # Killed by its limits: CPU time (SIGXCPU) or memory.
        raise TemplateProblem("rendering was stopped: the template used too much CPU time or memory") from None
    if "error" in reply:
        raise TemplateProblem(reply["error"], reply.get("field"))
    return reply["fields"]
