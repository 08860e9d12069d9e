import sys

from pkgdemo import top
from pkgdemo.sub.mod import total

print("main", sys.argv, top(1), total(3))
