from lineprof import profile


@profile
def tokenize(lines):
    words = []
    for line in lines:
        words.extend(line.lower().split())
    return words


@profile
def count(words):
    counts = {}
    for word in words:
        word = word.strip(".,;:!?")
        counts[word] = counts.get(word, 0) + 1
    return counts


def main():
    lines = ["The cat sat on the mat", "the dog sat on the log"] * 5000
    counts = count(tokenize(lines))
    print("the:", counts["the"])


if __name__ == "__main__":
    main()
