"""The Actions runner's reading of ``$GITHUB_OUTPUT`` / ``$GITHUB_ENV``, as its source does it.

actions/runner ``src/Runner.Worker/FileCommandManager.cs`` (``SetEnvFileCommand``; outputs are read the
same way): each non-empty line is ``NAME=VALUE`` when ``=`` comes before any ``<<``; ``NAME<<DELIMITER``
when ``<<`` comes first, and then the value is every following line up to one that is exactly DELIMITER
(the newline before it is not part of the value); no such line is an error ("Matching delimiter not
found"), as is a line with neither form or an empty name or delimiter. A later NAME overrides an earlier.
"""

from __future__ import annotations


class FileCommandError(ValueError):
    """What the runner reports as "Unable to process file command 'output' successfully"."""


def parse(text: str) -> dict[str, str]:
    """The name -> value pairs the runner would set from ``text``; FileCommandError where it would fail."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it does not start an empty one
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            name, value = line.split("=", 1)
            values[name] = value
            continue
        if heredoc < 0:
            raise FileCommandError(f"Invalid format '{line}'")
        name, delimiter = line.split("<<", 1)
        if not name or not delimiter:
            raise FileCommandError(f"Invalid format '{line}': empty name or delimiter")
        body: list[str] = []
        while i < len(lines) and lines[i] != delimiter:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise FileCommandError(f"Invalid value. Matching delimiter not found '{delimiter}'")
        i += 1
        values[name] = "\n".join(body)
    return values
