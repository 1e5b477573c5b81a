"""Text classification data: who wrote this poem? (and your own labelled CSV/TSV).

    ten = poet_task("ten_poets")          # the ten most prolific named Tang poets
    li_du = poet_task("li_du")            # 李白 vs 杜甫
    ten.labels, ten.texts["train"], ten.targets["train"], ten.majority_baseline("test")
    mine = load_classification_table("reviews.csv", text_column="text", label_column="label")

Rules, the same for every task:

* **Deduplication before any split.** Texts are compared after stripping whitespace.
  A text that occurs several times under one label is kept once (its first
  occurrence); a text that occurs under two or more different labels is dropped
  altogether, since we cannot tell who wrote it. In `tang_poems` (55,851 poems, notes removed)
  this keeps 54,911 different bodies and drops 211 bodies (534 rows) claimed by several
  authors.
* **Editors' notes are not the poem**: variant readings in full-width parentheses
  (（一作「行」）, （京本作「正」）) are removed first (`strip_editorial_notes`).
* **Anonymous labels are not poets**: 不詳, 無名氏, 佚名, 缺名, 失撰人名, 無名僧, ... (see
  `is_anonymous`) are excluded before the ten poets are chosen.
* **Stratified, seeded split by text.** Each class is shuffled on its own, with a
  generator seeded by (seed, the label's CRC-32), and cut into test, validation and
  training parts of `round(n · fraction)` texts. A text's split therefore depends only
  on its class, the seed and the fractions: the 李白 vs 杜甫 split is exactly the ten-poet
  split restricted to those two poets, and every model sees the same split.
"""

import dataclasses
import re
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
LI_DU = ("李白", "杜甫")
TASKS = ("li_du", "ten_poets")
_ANONYMOUS = re.compile("不詳|不详|未詳|未详|無名|无名|佚名|缺名|闕名|阙名|失名|失姓名|失撰人")
_NOTE = re.compile("（[^（）]*）")


def strip_editorial_notes(text):
    """Remove the editors' notes in full-width parentheses: 水急客舟（一作「行」）疾 -> 水急客舟疾.

    13% of `tang_poems` bodies carry variant readings (一作…, 京本作…) that the poets did
    not write, and their density differs by source collection: all of 易靜's poems come
    from one annotated edition, so a classifier could learn the editor, not the poet.
    """
    return _NOTE.sub("", text).strip()


def is_anonymous(author):
    """True for labels that name no poet: empty, 不詳, 無名氏, 佚名, 缺名, 失撰人名, 無名僧, 南唐失名僧, ..."""
    return not author.strip() or bool(_ANONYMOUS.search(author))


@dataclasses.dataclass
class TextClassificationData:
    """A labelled text collection, split into train / validation / test.

    Attributes:
        name: what it is (`"ten_poets"`, a file name).
        labels: the class names; class id i is `labels[i]`.
        texts: {split: list of str}.
        targets: {split: int32 array (n,) of class ids}.
        dropped: {reason: number of texts dropped} by deduplication.
    """

    name: str
    labels: list
    texts: dict
    targets: dict
    dropped: dict = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self):
        return len(self.labels)

    def counts(self):
        """DataFrame: texts per class (rows) and split (columns), with totals."""
        table = pd.DataFrame({split: np.bincount(self.targets[split], minlength=self.num_classes)
                              for split in SPLITS}, index=pd.Index(self.labels, name="label"))
        table["total"] = table.sum(axis=1)
        return table

    def class_weights(self):
        """{class id: n / (num_classes · n_c)} from the training split ("balanced": each class weighs the same)."""
        counts = np.bincount(self.targets["train"], minlength=self.num_classes)
        return {c: float(len(self.targets["train"]) / (self.num_classes * counts[c])) for c in range(self.num_classes)}

    def majority_class(self):
        """The most frequent class of the training split (ties: the lowest id)."""
        return int(np.argmax(np.bincount(self.targets["train"], minlength=self.num_classes)))

    def majority_baseline(self, split="test"):
        """Accuracy of always answering the majority class: the floor every model must beat."""
        return float(np.mean(self.targets[split] == self.majority_class()))


def deduplicate(texts, labels):
    """-> (indices kept, {"duplicates": n, "conflicting": n}).

    Texts are compared stripped. Repeats under one label: the first is kept. A text
    found under several labels is dropped in all its occurrences (`conflicting` counts
    the rows dropped that way).
    """
    stripped = [t.strip() for t in texts]
    owners = {}
    for text, label in zip(stripped, labels):
        owners.setdefault(text, set()).add(label)
    seen, kept, duplicates, conflicting = set(), [], 0, 0
    for i, text in enumerate(stripped):
        if len(owners[text]) > 1:
            conflicting += 1
        elif text in seen:
            duplicates += 1
        else:
            seen.add(text)
            kept.append(i)
    return np.array(kept, np.int64), {"duplicates": duplicates, "conflicting": conflicting}


def stratified_split(targets, label_names, validation_fraction=0.1, test_fraction=0.1, seed=0):
    """Class ids (n,) -> {split: sorted indices}; each class shuffled with (seed, CRC-32 of its name).

    Raises:
        ValueError: bad fractions, or a class left without a training example.
    """
    if not (0 <= validation_fraction < 1 and 0 <= test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise ValueError(f"validation_fraction={validation_fraction} and test_fraction={test_fraction} must be "
                         f"fractions in [0, 1) that leave some texts for training")
    targets = np.asarray(targets)
    parts = {split: [] for split in SPLITS}
    for c, name in enumerate(label_names):
        members = np.flatnonzero(targets == c)
        members = members[np.random.default_rng([seed, zlib.crc32(str(name).encode("utf-8"))]).permutation(len(members))]
        n_test, n_validation = round(len(members) * test_fraction), round(len(members) * validation_fraction)
        if len(members) - n_test - n_validation < 1:
            raise ValueError(f"label {name!r} has {len(members)} text(s): too few for a training example after "
                             f"the validation and test fractions; add texts or drop the label")
        parts["test"].append(members[:n_test])
        parts["validation"].append(members[n_test:n_test + n_validation])
        parts["train"].append(members[n_test + n_validation:])
    return {split: np.sort(np.concatenate(p)).astype(np.int64) for split, p in parts.items()}


def _check(texts, labels, where):
    """Texts must be non-empty strings, labels non-empty; `where(i)` names row i in errors."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels: they must pair up")
    for i, (text, label) in enumerate(zip(texts, labels)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where(i)}: the text is empty ({text!r}); remove the row or fill it in")
        if not str(label).strip():
            raise ValueError(f"{where(i)}: the label is empty; every text needs a label")


def classification_data(texts, labels, name="texts", label_names=None, validation_fraction=0.1, test_fraction=0.1,
                        seed=0, test=None, where=None):
    """Deduplicate, index and split labelled texts -> `TextClassificationData`.

    Args:
        texts, labels: sequences of the same length (labels are used as strings).
        label_names: the classes in id order (default: by decreasing frequency, then name).
        test: optional (texts, labels) of a fixed test set. Then the texts are split into
            train / validation only; test labels must be known classes, and training texts
            that also occur in the test set are dropped (with a warning).
        where: `where(i)` describes row i in error messages (default: "texts[i]").

    Raises:
        ValueError: empty texts or labels, fewer than two classes, unknown test labels.
    """
    where = where or (lambda i: f"texts[{i}]")
    texts, labels = list(texts), [str(label).strip() for label in labels]
    _check(texts, labels, where)
    kept, dropped = deduplicate(texts, labels)
    texts, labels = [texts[i].strip() for i in kept], [labels[i] for i in kept]
    if test is not None:
        test_texts, test_labels = list(test[0]), [str(label).strip() for label in test[1]]
        _check(test_texts, test_labels, lambda i: f"test row {i + 1}")
        test_set = {t.strip() for t in test_texts}
        leaking = [i for i, t in enumerate(texts) if t in test_set]
        if leaking:
            warnings.warn(f"{len(leaking)} training text(s) also occur in the test set and were dropped from training.")
            dropped["in_test"] = len(leaking)
            leaking = set(leaking)
            texts = [t for i, t in enumerate(texts) if i not in leaking]
            labels = [label for i, label in enumerate(labels) if i not in leaking]
    counts = pd.Series(labels, dtype=object).value_counts()
    if label_names is None:
        label_names = sorted(counts.index, key=lambda label: (-counts[label], label))
    label_names = list(label_names)
    if len(label_names) < 2:
        raise ValueError(f"the labels have {len(label_names)} class(es) ({', '.join(map(repr, label_names))}): a "
                         f"classifier needs at least two")
    index = {label: i for i, label in enumerate(label_names)}
    unlisted = sorted(set(labels) - set(index))
    if unlisted:
        raise ValueError(f"labels {unlisted[:5]} are not in label_names={label_names}")
    targets = np.array([index[label] for label in labels], np.int32)
    split = stratified_split(targets, label_names, validation_fraction, 0.0 if test is not None else test_fraction,
                             seed)
    data_texts = {s: [texts[i] for i in split[s]] for s in SPLITS}
    data_targets = {s: targets[split[s]] for s in SPLITS}
    if test is not None:
        unknown = sorted(set(test_labels) - set(index))
        if unknown:
            raise ValueError(f"the test set has labels never seen in training: {unknown[:5]}"
                             f"{' ...' if len(unknown) > 5 else ''}; known labels: {label_names}")
        data_texts["test"] = [t.strip() for t in test_texts]
        data_targets["test"] = np.array([index[label] for label in test_labels], np.int32)
    return TextClassificationData(name, label_names, data_texts, data_targets, dropped)


def encode_texts(texts, tokenizer, max_length):
    """Texts -> int32 rows (n, width) of `[BOS] text [EOS]`, right-padded with 0, width <= max_length.

    A longer text keeps its first `max_length` tokens (and loses its [EOS]), silently:
    a classifier reads the beginning of a long poem. The exported `classify` signature
    cuts texts the same way.
    """
    from lm_keras.data.pipeline import encode_rows

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*longer than.*truncated")
        return encode_rows(list(texts), tokenizer, max_length)


def _read_table(path, columns):
    path = Path(path)
    separators = {".csv": ",", ".tsv": "\t"}
    if path.suffix.lower() not in separators:
        raise ValueError(f"{path}: a labelled table must be a .csv or .tsv file")
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    frame = pd.read_csv(path, sep=separators[path.suffix.lower()], dtype=str, keep_default_na=False,
                        encoding="utf-8")
    for role, column in columns.items():
        if column not in frame.columns:
            raise ValueError(f"{path} has no {role} column {column!r}; its columns are {list(frame.columns)}")
    return frame


def load_classification_table(path, text_column="text", label_column="label", test_path=None,
                              validation_fraction=0.1, test_fraction=0.1, seed=0):
    """Your own labelled texts from a CSV/TSV file -> `TextClassificationData`.

    With `test_path` (a second table with the same columns) that file is the test set
    and `path` is split into train / validation only.

    Raises:
        ValueError: a missing column, an empty text or label (naming its row), a label
            column with only one class, labels in the test file that training never saw.
    """
    columns = {"text": text_column, "label": label_column}
    frame = _read_table(path, columns)
    test = None
    if test_path is not None:
        test_frame = _read_table(test_path, columns)
        test = (test_frame[text_column].tolist(), test_frame[label_column].tolist())
    return classification_data(frame[text_column].tolist(), frame[label_column].tolist(), name=Path(path).name,
                               validation_fraction=validation_fraction, test_fraction=test_fraction, seed=seed,
                               test=test, where=lambda i: f"{path} data row {i + 1} ({text_column!r})")


def _poems_frame(corpus=None):
    if corpus is None:
        from lm_keras.data.loading import load_corpus

        corpus = load_corpus("tang_poems")
    if corpus.frame is None or not {"author", "body"} <= set(corpus.frame.columns):
        raise ValueError(f"{corpus.name!r} has no author/body table; use the named corpus 'tang_poems'")
    return corpus.frame


def poet_task(task="ten_poets", corpus=None, validation_fraction=0.1, test_fraction=0.1, seed=0, num_poets=10):
    """Tang poems labelled with their author -> `TextClassificationData` of poem bodies.

    Args:
        task: "ten_poets" (the `num_poets` named poets with the most poems after
            deduplication; ties by name) or "li_du" (李白 vs 杜甫).
        corpus: the loaded `tang_poems` corpus (default: load it).
    """
    if task not in TASKS:
        raise ValueError(f"task={task!r} is invalid: must be one of {TASKS}")
    frame = _poems_frame(corpus)
    authors, bodies = frame["author"].tolist(), [strip_editorial_notes(body) for body in frame["body"]]
    kept, dropped = deduplicate(bodies, authors)
    named = [i for i in kept if not is_anonymous(authors[i])]
    dropped["anonymous"] = len(kept) - len(named)
    counts = pd.Series([authors[i] for i in named], dtype=object).value_counts()
    poets = list(LI_DU) if task == "li_du" else sorted(counts.index, key=lambda a: (-counts[a], a))[:num_poets]
    chosen = [i for i in named if authors[i] in set(poets)]
    data = classification_data([bodies[i] for i in chosen], [authors[i] for i in chosen], name=task,
                               label_names=poets, validation_fraction=validation_fraction,
                               test_fraction=test_fraction, seed=seed)
    data.dropped = dropped
    return data


def pretraining_poems(*tasks, corpus=None):
    """Every distinct poem body of `tang_poems` (any author, anonymous included; editors' notes
    removed as in `poet_task`) except the validation and test texts of `tasks`: the text a language model may be pretrained on
    before it is fine-tuned on those tasks, in the table's order."""
    held_out = {text for task in tasks for split in ("validation", "test") for text in task.texts[split]}
    seen, poems = set(), []
    for body in _poems_frame(corpus)["body"]:
        body = strip_editorial_notes(body)
        if body and body not in seen and body not in held_out:
            seen.add(body)
            poems.append(body)
    return poems
