"""``python -m lineprof``: the lineprof command (cli.py)."""

from lineprof.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
