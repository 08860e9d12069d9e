"""Seed workflow: LINE_PROFILE=1 python pipeline.py, with lineprof's own import."""

from lineprof import profile


@profile
def tokenize(lines):
    words = []
    for line in lines:
        words.extend(line.split())
    return words


@profile
def count(words):
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return counts


def main():
    lines = ["the cat sat", "on the mat"] * 50
    counts = count(tokenize(lines))
    print("the:", counts["the"])


if __name__ == "__main__":
    main()
