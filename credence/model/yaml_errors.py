"""Where a YAML file went wrong, in words: line, column and problem.

PyYAML's own message quotes the parsed text and names it ``"<unicode string>"``; the caller
knows the file and puts its name in front of this.
"""

import yaml


def where(err: yaml.YAMLError) -> str:
    """``", line L, column C: not valid YAML: problem"`` (or without a place if PyYAML has none)."""
    if not isinstance(err, yaml.MarkedYAMLError) or err.problem_mark is None:
        return f": not valid YAML: {str(err).splitlines()[0]}"
    mark, problem = err.problem_mark, err.problem or "syntax error"
    context = f" ({err.context})" if err.context else ""
    return f", line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}{context}"
