"""Safe model files: skops archives with a small model card, never pickle.

A model file is itself a poisoning vector: unpickling runs whatever code its author put in it,
so poisonlab saves and loads fitted models with skops, which rebuilds an object from a JSON
schema and refuses any type not on its trusted list unless the caller names it.

The file is an ordinary skops archive (``skops.io.load`` opens it as is) with one extra
member, ``poisonlab-card.json``: the model card. Files are kept small by storing the
vectorizer vocabulary as plain ints (skops writes one archive member per NumPy integer) in a
deflated archive.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import os
import pickletools
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from poisonlab._errors import DataError, PoisonlabError
from poisonlab.data.dataset import Dataset

CARD_MEMBER = "poisonlab-card.json"
"""The archive member holding the model card."""

CARD_FORMAT = "poisonlab-model-card/1"

MAX_CARD_BYTES = 1_000_000
"""A card larger than this is refused: cards are a few kilobytes."""

INSTALL_HINT = "pip install 'poisonlab[models]'"

_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"x\x01": "zlib",
    b"x\x5e": "zlib",
    b"x\x9c": "zlib",
    b"x\xda": "zlib",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"]\x00\x00": "lzma",
    b"ZF": "joblib zlib",
    b"\x04\x22\x4d\x18": "lz4",
}
"""Magic bytes of the compressions joblib applies to pickles."""


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """What a saved model is: how it was made, from which data, and how well it did.

    Attributes
    ----------
    victim : str
        The victim's registry name (``nb``, ``logreg``, ...) or its class name.
    features : str
        ``count`` or ``tfidf`` (or ``custom`` for a user's Pipeline).
    classes : tuple of str
        Class names, indexed by the model's integer predictions.
    parameters : dict
        The seed and the classifier's scikit-learn parameters.
    training_data : dict
        Name, split, row and class counts, and the fingerprints: the data manifest's Merkle
        root of the training rows and `Dataset.fingerprint` (see `data_summary`).
    metrics : dict or None
        Held-out metrics (CACC, ham loss, spam leak, per class), when a holdout was given.
    poisonlab_version : str
    versions : dict
        Versions of the libraries that decide the model's numbers.

    Examples
    --------
    >>> card = ModelCard(victim="nb", features="count", classes=("ham", "spam"))
    >>> ModelCard.from_dict(card.to_dict()) == card
    True
    """

    victim: str
    features: str
    classes: tuple[str, ...]
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    training_data: dict[str, Any] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    poisonlab_version: str = ""
    versions: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        if not self.poisonlab_version:
            from poisonlab import __version__

            object.__setattr__(self, "poisonlab_version", __version__)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the card format first."""
        return {"format": CARD_FORMAT, **_json_ready(dataclasses.asdict(self))}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> ModelCard:
        """Rebuild a card from `to_dict` output; unknown keys are ignored."""
        if not isinstance(document, dict) or document.get("format") != CARD_FORMAT:
            raise DataError(f"The model card is not a {CARD_FORMAT} document.")
        fields = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in document.items() if k in fields})
        except TypeError as error:
            raise DataError(f"The model card is incomplete: {error}.") from None


@dataclasses.dataclass(frozen=True, eq=False)
class LoadedModel:
    """A fitted model read from a file, with its card."""

    model: Any
    card: ModelCard
    path: str

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names, indexed by the model's predictions."""
        return self.card.classes


@dataclasses.dataclass(frozen=True)
class SavedModel:
    """What `save_model` wrote.

    `untrusted_types` lists the types skops will not load without being told to trust them;
    empty for poisonlab's own victims.
    """

    path: str
    size: int
    untrusted_types: tuple[str, ...]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)  # a parameter that is an object (a custom tokenizer): described, not stored


def require_skops() -> Any:
    """The `skops.io` module, or a clear error naming the extra to install."""
    try:
        import skops.io
    except ImportError:
        raise PoisonlabError(f"Model files need the skops library: {INSTALL_HINT}.") from None
    return skops.io


def data_summary(
    dataset: Dataset, *, split: str | None = None, split_seed: int | None = None
) -> dict[str, Any]:
    """The card's ``training_data`` entry for `dataset`.

    ``fingerprint`` is the Merkle root a data manifest of these rows records
    (`poisonlab.data.manifest.merkle_root`, so ``poisonlab manifest`` on the same rows gives
    the same root); ``dataset_sha256`` is `Dataset.fingerprint` (classes, texts and labels only).

    Examples
    --------
    >>> from poisonlab.data import Dataset
    >>> summary = data_summary(Dataset(["a", "b"], [0, 1], ("ham", "spam"), name="toy"))
    >>> summary["rows"], summary["counts"], summary["fingerprint_kind"], len(summary["fingerprint"])
    (2, {'ham': 1, 'spam': 1}, 'manifest-merkle-root', 64)
    """
    from poisonlab.data.manifest import merkle_root

    return {
        "name": dataset.name,
        "split": split,
        "split_seed": split_seed,
        "rows": len(dataset),
        "counts": dataset.counts(),
        "fingerprint": merkle_root(dataset),
        "fingerprint_kind": "manifest-merkle-root",
        "dataset_sha256": dataset.fingerprint(),
    }


def _compact(model: Any) -> Any:
    """A copy of `model` whose vocabularies hold plain ints; `model` itself is not touched.

    skops stores every NumPy integer as its own archive member, so a 7,000-word vocabulary
    of ``np.int64`` values becomes 7,000 files; plain ints go into the JSON schema.
    """
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        duplicate = copy.copy(model)
        duplicate.steps = [(name, _compact(step)) for name, step in steps]
        return duplicate
    vocabulary = getattr(model, "vocabulary_", None)
    if isinstance(vocabulary, dict) and any(isinstance(v, np.integer) for v in vocabulary.values()):
        duplicate = copy.copy(model)
        duplicate.vocabulary_ = {str(k): int(v) for k, v in vocabulary.items()}
        return duplicate
    return model


def save_model(model: Any, path: str | os.PathLike[str], card: ModelCard) -> SavedModel:
    """Write `model` and `card` to a skops file at `path`, atomically.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from poisonlab.victims import make_victim
    >>> model = make_victim("nb").fit(["cheap pills", "see you"], [1, 0])
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model.skops"
    >>> saved = save_model(model, target, ModelCard(victim="nb", features="count", classes=("ham", "spam")))
    >>> saved.untrusted_types
    ()
    >>> load_model(target).model.predict(["cheap cheap"]).tolist()
    [1]
    """
    sio = require_skops()
    buffer = io.BytesIO(sio.dumps(_compact(model), compression=zipfile.ZIP_DEFLATED))
    untrusted = tuple(sio.get_untrusted_types(data=buffer.getvalue()))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CARD_MEMBER, json.dumps(card.to_dict(), indent=2, sort_keys=False))
    data = buffer.getvalue()
    _write_bytes_atomically(Path(path), data)
    return SavedModel(path=str(path), size=len(data), untrusted_types=untrusted)


def _write_bytes_atomically(target: Path, data: bytes) -> None:
    if target.is_dir():
        raise DataError(f"{str(target)!r} is a folder; name a .skops file.")
    if not target.resolve().parent.is_dir():
        raise DataError(f"The folder for {str(target)!r} does not exist.")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise DataError(f"Cannot write {str(target)!r}: {error.strerror or error}.") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # what a plain open() would give, not mkstemp's 0o600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def sniff_model_file(path: str | os.PathLike[str]) -> None:
    """Raise `DataError` unless `path` is a zip archive shaped like a skops file.

    Reads bytes only: a pickle (plain, in a joblib compression, or inside a PyTorch-style
    zip) is recognised by its magic bytes and opcodes and refused, never unpickled.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"Model file {str(file)!r} does not exist or is not a file.")
    try:
        with open(file, "rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise DataError(f"Cannot read model file {str(file)!r}: {error.strerror or error}.") from None
    refusal = (
        "unpickling runs whatever code the file's author put in it, so a model file is itself a "
        "poisoning vector; poisonlab loads only skops files (type-checked before anything is built), "
        "so re-save the model with `poisonlab train` or poisonlab.victims.model_file.save_model "
        "where you trust it"
    )
    protocol = _pickle_protocol(head)
    if protocol is not None:
        raise DataError(
            f"Refusing to load {str(file)!r}: it is a pickle (protocol {protocol}) and {refusal}."
        )
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            raise DataError(
                f"Refusing to load {str(file)!r}: it is {kind}-compressed, the way joblib stores pickled "
                f"models, and poisonlab does not decompress or unpickle it: {refusal}."
            )
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise DataError(f"{str(file)!r} is not a skops model file (a skops file is a zip archive).")
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"{str(file)!r} is not a readable skops model file: {error}.") from None
    pickled = [n for n in names if n.endswith((".pkl", ".pickle"))]
    if pickled:
        raise DataError(
            f"Refusing to load {str(file)!r}: it is a zip holding the pickle {pickled[0]!r} "
            f"(a PyTorch-style archive) and {refusal}."
        )
    if "schema.json" not in names:
        raise DataError(f"{str(file)!r} is a zip archive but not a skops model file (no schema.json).")


def _pickle_protocol(head: bytes) -> int | None:
    """The pickle protocol `head` starts with, or None; parses opcodes, never executes them."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return head[1]
    if not head or head[:1] not in b"c(]}NIFSV":
        return None
    try:  # protocols 0 and 1 have no magic: check the first opcodes parse as a pickle
        opcodes = [op.name for op, _, _ in _take(pickletools.genops(head), 3)]
    except (ValueError, UnicodeDecodeError):
        return None
    return 0 if len(opcodes) == 3 else None


def _take(iterator: Any, count: int) -> list[Any]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) == count:
            break
    return out


def untrusted_types(path: str | os.PathLike[str]) -> list[str]:
    """The types in a skops file that skops will not build unless told to trust them."""
    sniff_model_file(path)
    try:
        return list(require_skops().get_untrusted_types(file=str(path)))
    except PoisonlabError:
        raise
    except Exception as error:  # skops raises many types for a damaged schema
        raise DataError(f"{str(path)!r} is not a readable skops model file: {error}.") from None


def read_model_card(path: str | os.PathLike[str]) -> ModelCard:
    """The model card of a poisonlab model file, without building the model."""
    sniff_model_file(path)
    with zipfile.ZipFile(path) as archive:
        try:
            info = archive.getinfo(CARD_MEMBER)
        except KeyError:
            raise DataError(
                f"{str(path)!r} is a skops file without a poisonlab model card; save it with "
                "poisonlab.victims.model_file.save_model."
            ) from None
        if info.file_size > MAX_CARD_BYTES:
            raise DataError(f"The model card of {str(path)!r} is {info.file_size} bytes; cards are small.")
        try:
            document = json.loads(archive.read(info).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise DataError(f"The model card of {str(path)!r} is not valid JSON: {error}.") from None
    return ModelCard.from_dict(document)


def load_model(path: str | os.PathLike[str], *, trust: bool | Sequence[str] = False) -> LoadedModel:
    """Read a model file written by `save_model`, refusing untrusted types unless trusted.

    Parameters
    ----------
    path : path
    trust : bool or sequence of str
        False: refuse a file holding any type skops does not trust, naming the types.
        True: trust every type the file names (only for files you made or verified).
        A sequence: trust exactly these fully qualified type names.

    Raises
    ------
    DataError
        The file is a pickle (refused, never unpickled), not a skops file, holds untrusted
        types, or has no model card.
    """
    card = read_model_card(path)
    sio = require_skops()
    trusted = untrusted_types(path) if trust is True else [str(t) for t in (trust or ())]
    try:  # skops checks the types before building anything; names are looked up only on refusal
        model = sio.load(str(path), trusted=trusted)
    except sio.exceptions.UntrustedTypesFoundException:
        refused = [t for t in untrusted_types(path) if t not in trusted]
        raise DataError(
            f"Refusing to load {str(path)!r}: it holds types poisonlab does not trust "
            f"({', '.join(refused)}), "
            "and building them could run their code; if you made this file or checked these types, "
            "pass --trust (trust=True in Python)."
        ) from None
    except Exception as error:  # a damaged archive fails inside skops in many ways
        raise DataError(f"Cannot load the model in {str(path)!r}: {type(error).__name__}: {error}.") from None
    n_classes = len(getattr(model, "classes_", card.classes))
    if n_classes != len(card.classes):
        raise DataError(
            f"The model in {str(path)!r} predicts {n_classes} classes but its card names {len(card.classes)}."
        )
    return LoadedModel(model=model, card=card, path=str(path))
