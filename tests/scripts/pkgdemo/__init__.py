"""A package for -m and -p tests."""


def top(x):
    return x + 1
