"""A programmatic "human" judge of Tang quatrains, the reward for RLHF / DPO.

    judge = QuatrainJudge()
    judge.score("床前明月光，疑是地上霜。举头望明月，低头思故乡。")
    # JudgeScore(format=1.0, rhyme=1.0, repetition=0.1, total=1.9, ...)
    judge.score_many(samples)          # a DataFrame, one row per text
    success_rate(samples, judge)       # the share with format and rhyme

The rules (see `QuatrainJudge`):

- format (0/1): exactly four lines of 5 (or four of 7) Han characters (`is_han`,
  the tokenizers' definition: `lm_keras.tokenizers.cjk`); lines 1 and 3 end with
  '，', lines 2 and 4 with '。', '？' or '！'. Any other character (Latin letters,
  digits, spaces inside the text, the [UNK] mark U+FFFD) fails.
- rhyme (0/1): the format holds and the last characters of lines 2 and 4 (and
  of line 1 with `first_line=True`) are in the same rhyme group, and are
  different characters: the same character twice is repetition, not a rhyme.
- repetition (>= 0, a penalty): the share of the Han characters that repeat an
  earlier character of the poem, plus 1 for each line that repeats an earlier
  line.
- total = format + rhyme - repetition_weight * repetition.

Rhyme groups are the 十三辙 (thirteen rhyme groups of modern Mandarin), read
from the finals that pypinyin gives. This is *modern* pronunciation: some rhymes
that were correct in the Tang (Middle Chinese, the 平水韵 of the rhyme books) no
longer rhyme today, e.g. 斜 xié with 家 jiā, so real Tang quatrains do not all
score as rhyming: of the 14,073 poems of `tang_quatrains`, 99.6% pass the
format and 83.6% rhyme (lines 2 and 4); with `first_line=True`, 50.9%.
Polyphonic characters take pypinyin's reading in the context of their line,
which is often its default reading: 還 in 千里江陵一日還 is read hái, not the
poem's huán, so 早發白帝城 (還/山) does not rhyme here. Traditional characters
(the corpus is traditional: 鄉, 頭) are read like simplified ones.
"""

import re
from dataclasses import dataclass

import pandas as pd
from pypinyin import Style, lazy_pinyin

from lm_keras.data.poems import PUNCTUATION, quatrain_form
from lm_keras.tokenizers.cjk import is_han

# 十三辙: group -> pypinyin finals, both the strict forms (iou, uei, uen, ve, van,
# vn, ueng) and the written ones (iu, ui, un, ue, uan, ong for 雍), ü as v.
RHYME_GROUPS = {
    "发花": ("a", "ia", "ua"),
    "梭波": ("o", "e", "uo", "io"),
    "乜斜": ("ie", "ve", "ue", "ê"),
    "一七": ("i", "v", "er"),  # i includes the -i of zhi chi shi ri zi ci si
    "姑苏": ("u",),
    "怀来": ("ai", "uai"),
    "灰堆": ("ei", "uei", "ui"),
    "遥条": ("ao", "iao"),
    "油求": ("ou", "iou", "iu"),
    "言前": ("an", "ian", "uan", "van"),
    "人辰": ("en", "in", "uen", "un", "vn"),
    "江阳": ("ang", "iang", "uang"),
    "中东": ("eng", "ing", "ong", "iong", "ueng"),
}
FINAL_TO_GROUP = {final: group for group, finals in RHYME_GROUPS.items() for final in finals}

_ODD_END, _EVEN_END = "，", "。？！"
_LINE = re.compile(f"[^{PUNCTUATION}]*[{PUNCTUATION}]|[^{PUNCTUATION}]+$")


def _finals(text):
    """One final per character of `text` ('' where pypinyin has none: non-Han, 嗯)."""
    finals = lazy_pinyin(text, style=Style.FINALS, strict=True, errors=lambda chars: [""] * len(chars))
    if len(finals) != len(text):  # never seen; fall back to one character at a time
        finals = [_finals(c)[0] for c in text]
    return finals


def _group(final):
    return FINAL_TO_GROUP.get(final)


def rhyme_group(character):
    """The 十三辙 group of one character ('光' -> '江阳'), None for non-Han or unreadable.

    Reads the character alone (pypinyin's default reading for polyphones).
    """
    if not isinstance(character, str):
        raise TypeError(f"rhyme_group takes a one-character str, not {type(character).__name__}")
    if len(character) != 1:
        raise ValueError(f"rhyme_group takes one character, got {character!r}")
    if not is_han(character):
        return None
    return _group(_finals(character)[0])


def _end_group(line):
    """The rhyme group of the last character before the line's punctuation, read in context."""
    body = line.rstrip(PUNCTUATION)
    if not body or not is_han(body[-1]):
        return None
    return _group(_finals(body)[-1])


@dataclass(frozen=True)
class JudgeScore:
    """One text's scores; `lines` and `rhyme_groups` (of each line's last character) explain them."""

    format: float
    rhyme: float
    repetition: float
    total: float
    lines: tuple = ()
    rhyme_groups: tuple = ()

    @property
    def success(self):
        """A well-formed quatrain that rhymes."""
        return self.format == 1.0 and self.rhyme == 1.0


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"the judge scores str, not {type(text).__name__}")


class QuatrainJudge:
    """Scores a text as a Tang quatrain (绝句) by fixed rules; see `score`.

    first_line: line 1 must rhyme too (usual in 7-character quatrains, optional
        in 5-character ones), not only lines 2 and 4.
    repetition_weight: how much the repetition penalty counts in `total`.
    """

    def __init__(self, first_line=False, repetition_weight=1.0):
        self.first_line = bool(first_line)
        self.repetition_weight = float(repetition_weight)

    def __repr__(self):
        return f"QuatrainJudge(first_line={self.first_line}, repetition_weight={self.repetition_weight})"

    def score(self, text):
        """Score one text (surrounding whitespace is ignored; the empty text scores 0).

        format: 1 for four lines of 5 (or of 7) Han characters only, lines 1 and 3
            ending in '，', lines 2 and 4 in '。', '？' or '！'; else 0.
        rhyme: 1 if the format holds and the last characters of lines 2 and 4 (and 1,
            with first_line) share a 十三辙 group and are all different characters; else 0.
        repetition: (Han characters - distinct Han characters) / Han characters,
            plus 1 for every line whose characters repeat an earlier line's.
        total: format + rhyme - repetition_weight * repetition.
        """
        _check_text(text)
        text = text.strip()
        lines = tuple(_LINE.findall(text)) if text else ()
        groups = tuple(_end_group(line) for line in lines)
        fmt = float(self._well_formed(text, lines))
        rhyme = float(fmt == 1.0 and self._rhymes(lines, groups))
        repetition = _repetition(text, lines)
        total = fmt + rhyme - self.repetition_weight * repetition
        return JudgeScore(fmt, rhyme, repetition, total, lines, groups)

    def score_many(self, texts):
        """A DataFrame with columns text, format, rhyme, repetition, total, success."""
        if isinstance(texts, str):
            raise TypeError("score_many takes a list of texts, not one str (use score)")
        rows = []
        for text in texts:
            s = self.score(text)
            rows.append((text, s.format, s.rhyme, s.repetition, s.total, s.success))
        return pd.DataFrame(rows, columns=["text", "format", "rhyme", "repetition", "total", "success"])

    @staticmethod
    def _well_formed(text, lines):
        if not quatrain_form(text) or len(lines) != 4:
            return False
        for i, line in enumerate(lines):
            body, end = line[:-1], line[-1]
            if end not in (_ODD_END if i % 2 == 0 else _EVEN_END):
                return False
            if not all(map(is_han, body)):
                return False
        return True

    def _rhymes(self, lines, groups):
        rhyming = (0, 1, 3) if self.first_line else (1, 3)
        ends = [lines[i].rstrip(PUNCTUATION)[-1] for i in rhyming]
        wanted = {groups[i] for i in rhyming}
        return len(wanted) == 1 and None not in wanted and len(set(ends)) == len(ends)


def _repetition(text, lines):
    chars = [c for c in text if is_han(c)]
    if not chars:
        return 0.0
    repeated_chars = (len(chars) - len(set(chars))) / len(chars)
    seen, repeated_lines = set(), 0
    for line in lines:
        key = "".join(c for c in line if is_han(c))
        if not key:
            continue
        repeated_lines += key in seen
        seen.add(key)
    return repeated_chars + repeated_lines


def success_rate(texts, judge=None):
    """The share of `texts` that are well-formed rhyming quatrains (default judge: `QuatrainJudge()`)."""
    judge = judge if judge is not None else QuatrainJudge()
    frame = judge.score_many(texts)
    if frame.empty:
        raise ValueError("success_rate needs at least one text")
    return float(frame["success"].mean())
