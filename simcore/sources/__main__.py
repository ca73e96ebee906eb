"""``python -m simcore.sources FILE [key=value ...]``: check a recording and print what simcore sees in it.

Exit status 2 with one paragraph naming the problem when the file is corrupt or mismatched.
"""

from __future__ import annotations

import json
import sys

from simcore.errors import SimcoreError
from simcore.sources import open_source


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    options = dict(a.split("=", 1) for a in args[1:] if "=" in a)
    try:
        src = open_source(args[0], **{k: _value(v) for k, v in options.items()})
    except SimcoreError as exc:
        print(f"simcore: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(src.describe(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
