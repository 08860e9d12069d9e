"""Seed workflow: kernprof -lv script.py in.txt out.txt, with a bare @profile."""

import sys


@profile  # noqa: F821 - put in the builtins by lineprof -l / -b
def transform(lines):
    result = []
    for line in lines:
        result.append(line.upper())
    return result


def main(source, destination):
    with open(source) as stream:
        lines = stream.read().splitlines()
    with open(destination, "w") as stream:
        stream.write("\n".join(transform(lines)) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
