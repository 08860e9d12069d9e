"""``python -m lineprof``: the lineprof command (cli.py)."""

from lineprof.cli import main

if __name__ == "__main__":
    # main() without arguments is the command, as the console script calls it: it reads
    # sys.argv and writes the results when the process ends (cli.main).
    raise SystemExit(main())
