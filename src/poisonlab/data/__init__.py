"""Data: the immutable `Dataset`, loaders, bundled corpora and the shared train/test split."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

from poisonlab._errors import DataWarning
from poisonlab.data.corpora import CORPORA, article_test, article_train, sms_spam, spamassassin
from poisonlab.data.dataset import Dataset
from poisonlab.data.labels import map_labels
from poisonlab.data.loaders import FORMATS, load_file
from poisonlab.data.mail import EmailLoadReport, is_email_source, load_email, read_label_mapping
from poisonlab.data.split import DEFAULT_SPLIT_SEED, DEFAULT_TEST_SIZE, split_train_test

__all__ = [
    "CORPORA",
    "DEFAULT_SPLIT_SEED",
    "DEFAULT_TEST_SIZE",
    "FORMATS",
    "Dataset",
    "EmailLoadReport",
    "load_dataset",
    "load_email",
    "load_file",
    "load_train_test",
    "map_labels",
    "split_train_test",
]


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    file_format: str | None = None,
    classes: Sequence[str] | None = None,
    encoding: str | None = None,
    min_classes: int = 2,
    labels: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Load a bundled corpus by name (``article``, ``sms_spam``, ``spamassassin``), a data file, or e-mail.

    For the ``article`` corpus this is its 10 training and 4 test messages together. A folder,
    an mbox, a maildir, an ``.eml`` file or a zip/tar archive is read as e-mail (see
    `load_email`), with `labels` naming an optional label-mapping CSV; what was odd about the
    messages (attachments, bad charsets, ...) is reported in a `DataWarning`.

    Examples
    --------
    >>> load_dataset("sms_spam").counts()
    {'ham': 4827, 'spam': 747}
    >>> load_dataset("spamassassin").counts()
    {'ham': 4150, 'spam': 1896}
    >>> len(load_dataset("article"))
    14
    """
    if str(name_or_path) == "sms_spam":
        return sms_spam()
    if str(name_or_path) == "spamassassin":
        return spamassassin()
    if str(name_or_path) == "article":
        return article_train().concat(article_test())
    if is_email_source(name_or_path):
        mapping = read_label_mapping(labels) if labels is not None else None
        dataset, report = load_email(
            name_or_path, labels=mapping, classes=tuple(classes) if classes else None, min_classes=min_classes
        )
        if report.problems():
            details = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.problems().items())
            warnings.warn(
                f"{name_or_path}: read {report.messages} messages ({details}).", DataWarning, stacklevel=2
            )
        return dataset
    return load_file(
        name_or_path,
        text_column=text_column,
        label_column=label_column,
        file_format=file_format,
        classes=classes,
        encoding=encoding,
        min_classes=min_classes,
    )


def load_train_test(
    name_or_path: str | os.PathLike[str],
    *,
    test: str | os.PathLike[str] | None = None,
    test_size: float = DEFAULT_TEST_SIZE,
    split_seed: int = DEFAULT_SPLIT_SEED,
    text_column: str | None = None,
    label_column: str | None = None,
    classes: Sequence[str] | None = None,
    encoding: str | None = None,
    labels: str | os.PathLike[str] | None = None,
) -> tuple[Dataset, Dataset]:
    """The train and test sets every command uses for a corpus or file.

    The ``article`` corpus keeps the article's own split (10 train, 4 test). Anything else is
    split by `split_train_test` with `split_seed`, unless `test` names a separate test file,
    whose labels must use the training file's classes.

    Examples
    --------
    >>> train, test = load_train_test("sms_spam")
    >>> len(train) + len(test)
    5574
    """
    if str(name_or_path) == "article" and test is None:
        return article_train(), article_test()
    options = {
        "text_column": text_column,
        "label_column": label_column,
        "encoding": encoding,
        "labels": labels,
    }
    data = load_dataset(name_or_path, classes=classes, **options)  # type: ignore[arg-type]
    if test is None:
        return split_train_test(data, test_size=test_size, split_seed=split_seed)
    held_out = load_dataset(
        test,
        classes=classes or data.classes,
        min_classes=1,
        **options,  # type: ignore[arg-type]
    )
    return data, held_out
