import sys

import pkgdemo.sub.mod
from pkgdemo import top


def local(x):
    return x * 10


value = pkgdemo.sub.mod.total(4) + top(2) + local(1)
print("value", value, pkgdemo.sub.mod.square(3), file=sys.stdout)
