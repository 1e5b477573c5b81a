"""Regular Tang quatrains (绝句): four lines of five or seven characters, from `tang_poems`."""

import re

PUNCTUATION = "，。？！；"
_QUATRAIN = {n: re.compile(rf"^(?:[^{PUNCTUATION}：]{{{n}}}[{PUNCTUATION}]){{4}}$") for n in (5, 7)}


def quatrain_form(body):
    """5 or 7 for a regular quatrain (four lines of 5 or 7 characters, each ending in punctuation), else None."""
    for n, pattern in _QUATRAIN.items():
        if pattern.match(body):
            return n
    return None


def quatrains(text):
    """`tang_poems` text (`title：body` per line) -> the quatrain bodies, deduplicated, in first-seen order.

    Deduplication comes before any split, so that no poem is in both training and
    validation (about 9% of the lines of `tang_poems` are duplicates).
    """
    seen, poems = set(), []
    for line in text.splitlines():
        body = line.split("：", 1)[-1].strip()
        if body not in seen and quatrain_form(body):
            seen.add(body)
            poems.append(body)
    return poems
