"""`Dataset`: the immutable table of texts and labels every component works on."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError, ParameterError

IntArray = npt.NDArray[np.int64]


def _frozen_int_array(values: object) -> IntArray:
    raw = np.asarray(values)
    if raw.size and raw.dtype.kind not in "iub":
        is_whole = raw.dtype.kind == "f" and bool(np.all(np.isfinite(raw) & (raw == np.round(raw))))
        if not is_whole:
            raise DataError(
                f"Dataset labels must be integer class indices, not {raw.dtype} values; "
                "use map_labels to turn label names into indices."
            )
    array = np.array(raw, dtype=np.int64)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Texts with integer labels into `classes`, and a stable id per row.

    A `Dataset` never changes: every method returns a new one. `labels` is a read-only array.

    Parameters
    ----------
    texts : sequence of str
        One message per row.
    labels : array-like of int
        Class index per row, into `classes`.
    classes : sequence of str
        Class names; for spam corpora ``("ham", "spam")``, the legitimate class first.
    ids : sequence of str, optional
        A stable identifier per row; ``"0", "1", ...`` when omitted.
    name : str
        Where the data came from, for reports.

    Examples
    --------
    >>> ds = Dataset(["hi there", "WIN cash now"], [0, 1], classes=("ham", "spam"))
    >>> len(ds), ds.counts()
    (2, {'ham': 1, 'spam': 1})
    >>> ds.with_labels([1, 1]).counts()
    {'ham': 0, 'spam': 2}
    >>> ds.counts()  # the original is untouched
    {'ham': 1, 'spam': 1}
    """

    texts: tuple[str, ...]
    labels: IntArray
    classes: tuple[str, ...]
    ids: tuple[str, ...] = ()
    name: str = ""

    def __init__(
        self,
        texts: Sequence[str],
        labels: object,
        classes: Sequence[str],
        ids: Sequence[str] | None = None,
        name: str = "",
    ) -> None:
        texts_t = tuple(texts)
        labels_a = _frozen_int_array(labels)
        classes_t = tuple(str(c) for c in classes)
        ids_t = tuple(str(i) for i in range(len(texts_t))) if ids is None else tuple(ids)
        if labels_a.ndim != 1 or labels_a.shape[0] != len(texts_t):
            raise DataError(
                f"Dataset needs one label per text: got {len(texts_t)} texts and {labels_a.size} labels."
            )
        if len(ids_t) != len(texts_t):
            raise DataError(f"Dataset needs one id per text: got {len(texts_t)} texts and {len(ids_t)} ids.")
        if len(classes_t) < 2 or len(set(classes_t)) != len(classes_t):
            raise DataError(f"Dataset needs at least two distinct class names, got {classes_t!r}.")
        if labels_a.size and (labels_a.min() < 0 or labels_a.max() >= len(classes_t)):
            raise DataError(f"Dataset labels must be class indices in [0, {len(classes_t) - 1}].")
        for attribute, value in (
            ("texts", texts_t),
            ("labels", labels_a),
            ("classes", classes_t),
            ("ids", ids_t),
            ("name", name),
        ):
            object.__setattr__(self, attribute, value)

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"Dataset({self.name or 'unnamed'!s}: {len(self)} rows, {counts})"

    def counts(self) -> dict[str, int]:
        """Rows per class, in class order."""
        tally = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, tally)}

    def class_index(self, cls: str | int) -> int:
        """Index of a class given by name or index.

        Examples
        --------
        >>> Dataset(["a", "b"], [0, 1], ("ham", "spam")).class_index("spam")
        1
        """
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
            if 0 <= int(cls) < len(self.classes):
                return int(cls)
        elif cls in self.classes:
            return self.classes.index(str(cls))
        raise ParameterError(f"Unknown class {cls!r}. This dataset's classes are: {', '.join(self.classes)}.")

    def take(self, rows: Sequence[int] | npt.NDArray[np.integer]) -> Dataset:
        """The rows at the given positions, in that order; a boolean mask selects its True rows."""
        index = np.asarray(rows)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ParameterError(f"A row mask needs {len(self)} values, got {index.size}.")
            index = np.flatnonzero(index)
        elif index.size and index.dtype.kind not in "iu":
            raise ParameterError(f"Row positions must be integers, not {index.dtype} values.")
        index = index.astype(np.int64)
        return Dataset(
            [self.texts[i] for i in index],
            self.labels[index],
            self.classes,
            [self.ids[i] for i in index],
            self.name,
        )

    def with_labels(self, labels: object) -> Dataset:
        """The same rows with new labels."""
        return Dataset(self.texts, labels, self.classes, self.ids, self.name)

    def with_texts(self, texts: Sequence[str]) -> Dataset:
        """The same rows with new texts."""
        return Dataset(texts, self.labels, self.classes, self.ids, self.name)

    def concat(self, other: Dataset) -> Dataset:
        """This dataset's rows followed by `other`'s; both must share `classes`."""
        if other.classes != self.classes:
            raise DataError(f"Cannot join datasets with classes {self.classes!r} and {other.classes!r}.")
        return Dataset(
            self.texts + other.texts,
            np.concatenate([self.labels, other.labels]),
            self.classes,
            self.ids + other.ids,
            self.name,
        )

    def fingerprint(self) -> str:
        """SHA-256 over classes, texts and labels: equal data gives an equal fingerprint.

        Every class name and text is length-prefixed, so no choice of texts can make two
        different datasets hash the same bytes.

        Examples
        --------
        >>> a = Dataset(["x", "y"], [0, 1], ("ham", "spam"))
        >>> a.fingerprint() == a.with_labels([0, 1]).fingerprint() != a.with_labels([1, 1]).fingerprint()
        True
        """
        digest = hashlib.sha256()

        def feed(text: str) -> None:
            encoded = text.encode("utf-8", "surrogatepass")
            digest.update(f"{len(encoded)}:".encode())
            digest.update(encoded)

        digest.update(f"{len(self.classes)}\x1f".encode())
        for cls in self.classes:
            feed(cls)
        for text, label in zip(self.texts, self.labels.tolist()):
            digest.update(f"\x1e{label}\x1f".encode())
            feed(text)
        return digest.hexdigest()
