class Counter:
    def __init__(self):
        self.count = 0

    def add(self, n):
        def double(i):
            return i * 2

        for i in range(n):
            self.count += double(i)
        return self.count


def total(n):
    return Counter().add(n)


square = lambda x: x * x  # noqa: E731
