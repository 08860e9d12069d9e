"""A test of the demo, for the pytest plugin's example in README.md:

python -m pytest -q --lineprof=demo.word_stats examples/test_demo.py
"""

from demo import TEXT, word_stats


def test_it_is_among_the_commonest_words() -> None:
    assert "it" in word_stats(TEXT)
