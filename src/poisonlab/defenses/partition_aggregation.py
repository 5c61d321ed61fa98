"""`PartitionAggregation`: Deep Partition Aggregation with a certified radius for every prediction."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import ParameterError
from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimFactory, VictimLike, as_factory

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_PARTS = 10_000


def partition_of(texts: Sequence[str], k: int) -> IntArray:
    """The part, in ``[0, k)``, of each text: SHA-256 of its UTF-8 bytes, first 8 bytes, mod `k`.

    Depends on the text alone (not its label, position or the other rows), so identical texts
    share a part, relabelling a row keeps it in its part, and an inserted row joins exactly one
    part. Written by hand: scikit-learn's splitters assign by position or by a random draw.

    Examples
    --------
    >>> partition_of(["win cash", "see you", "win cash"], 10).tolist()
    [8, 2, 8]
    """
    check_positive_int("partition_of", "k", k)
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest()[:8], "big") % k
            for t in texts
        ),
        dtype=np.int64,
        count=len(texts),
    )


def plurality(votes: npt.ArrayLike) -> IntArray:
    """The class with most votes in each row; a tie goes to the smallest class index.

    Examples
    --------
    >>> plurality([[3, 3, 1], [0, 2, 5]]).tolist()
    [0, 2]
    """
    return np.asarray(np.argmax(np.asarray(votes), axis=1), dtype=np.int64)


def certified_radius(votes: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Plurality prediction and its certified radius from per-class vote counts.

    With ``c`` the plurality class (ties to the smallest index) and ``n_j`` the votes for class
    ``j``, the radius is (Levine & Feizi 2021, Theorem 1)::

        floor((n_c - max_{j != c} (n_j + [j < c])) / 2)

    Each poisoned training row changes at most one member, which moves at most one vote from
    ``c`` to a rival: the gap shrinks by at most 2, and a rival with a smaller index wins a tie.
    So no set of at most `radius` inserted, removed or relabelled rows can change the
    prediction.

    Returns
    -------
    predictions, radii : ndarray of int

    Examples
    --------
    >>> predictions, radii = certified_radius([[5, 0], [3, 3], [2, 4], [0, 3]])
    >>> predictions.tolist(), radii.tolist()
    ([0, 0, 1, 1], [2, 0, 0, 1])
    """
    counts = np.asarray(votes, dtype=np.int64)
    if counts.ndim != 2 or counts.shape[1] < 2:
        raise fail(
            "certified_radius", "votes", "a 2-d array of counts with a column per class (>= 2)", counts.shape
        )
    predictions = plurality(counts)
    rows = np.arange(counts.shape[0])
    top = counts[rows, predictions]
    # A rival below the winner's index wins ties, so it needs one vote fewer: count it as one more.
    rivals = counts + (np.arange(counts.shape[1])[None, :] < predictions[:, None])
    rivals[rows, predictions] = np.iinfo(np.int64).min
    radii = (top - rivals.max(axis=1)) // 2
    return predictions, radii.astype(np.int64)


def certified_accuracy_curve(
    y_true: npt.ArrayLike, predictions: npt.ArrayLike, radii: npt.ArrayLike, *, max_radius: int | None = None
) -> FloatArray:
    """Certified accuracy at each radius: ``curve[r]`` is the share of messages both correctly
    predicted and certified at radius ``>= r``, for ``r = 0 .. max_radius``.

    ``curve[0]`` is the ensemble's clean accuracy; the curve never rises. `max_radius`
    defaults to the largest radius seen.

    Examples
    --------
    >>> certified_accuracy_curve([0, 1, 1, 0], [0, 1, 0, 0], [3, 1, 5, 0]).tolist()
    [0.75, 0.5, 0.25, 0.25, 0.0, 0.0]
    """
    truth, pred, radius = (np.asarray(a) for a in (y_true, predictions, radii))
    if not truth.ndim == pred.ndim == radius.ndim == 1 or not truth.shape == pred.shape == radius.shape:
        raise ParameterError(
            "certified_accuracy_curve needs three flat arrays of one length, one value per message: "
            f"got shapes {truth.shape}, {pred.shape} and {radius.shape}."
        )
    top = int(radius.max(initial=0)) if max_radius is None else max_radius
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 0:
        raise fail("certified_accuracy_curve", "max_radius", "an int >= 0", max_radius)
    if truth.size == 0:
        return np.full(top + 1, np.nan)
    correct_radius = np.where(truth == pred, radius, -1)
    levels = np.arange(top + 1)
    return np.asarray((correct_radius[None, :] >= levels[:, None]).mean(axis=1), dtype=np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class Certificates:
    """Per message: the ensemble's prediction, its certified radius, the votes and a dispute flag.

    Attributes
    ----------
    predictions : ndarray of int
        Plurality of the members' votes, ties to the smallest class index.
    radii : ndarray of int
        How many training rows an attacker may insert, remove or relabel without changing the
        prediction (a row whose text changes counts twice: removal plus insertion).
    votes : ndarray of int, shape (n_messages, n_classes)
    agreement : ndarray of float
        Share of the members voting for the prediction.
    is_disputed : ndarray of bool
        True where `agreement` is below the defense's ``min_agreement``: members disagree.
    """

    predictions: IntArray
    radii: IntArray
    votes: IntArray
    agreement: FloatArray
    is_disputed: BoolArray


@dataclasses.dataclass(frozen=True)
class _Member:
    """One part's model: a fixed vote, or a classifier over that part's own vocabulary."""

    constant: int | None = None
    columns: IntArray | None = None  # shared-matrix columns of this part's vocabulary
    weighting: Any = None  # the part's TfidfTransformer, for tf-idf victims
    model: Any = None  # a classifier over `columns` (shared path) or a whole Pipeline


class PartitionEnsemble:
    """The fitted DPA model: one member per part, plurality vote, certificates on request.

    ``predict_proba`` gives the vote shares (not calibrated probabilities).
    """

    def __init__(
        self,
        members: list[_Member],
        n_classes: int,
        vectorizer: Any,
        min_agreement: float,
    ) -> None:
        self.members_ = members
        self.classes_ = np.arange(n_classes)
        self.vectorizer_ = vectorizer
        self.min_agreement = min_agreement

    @property
    def k(self) -> int:
        """Number of parts (members)."""
        return len(self.members_)

    def member_predictions(self, texts: Sequence[str]) -> IntArray:
        """Each member's vote on each text, shape ``(k, n_texts)``."""
        texts = list(texts)
        out = np.zeros((self.k, len(texts)), dtype=np.int64)
        shared = None
        if self.vectorizer_ is not None and texts:
            shared = self.vectorizer_.transform(texts).tocsc()  # one pass; members slice columns
        for index, member in enumerate(self.members_):
            if member.constant is not None:
                out[index] = member.constant
            elif not texts:
                continue
            elif shared is None:
                out[index] = member.model.predict(texts)
            else:
                features = shared[:, member.columns]
                if member.weighting is not None:
                    features = member.weighting.transform(features)
                out[index] = member.model.predict(features)
        return out

    def votes(self, texts: Sequence[str]) -> IntArray:
        """Votes per class from the members, shape ``(n_texts, n_classes)``."""
        predictions = self.member_predictions(texts)
        counts = np.zeros((predictions.shape[1], self.classes_.size), dtype=np.int64)
        np.add.at(counts, (np.tile(np.arange(predictions.shape[1]), self.k), predictions.ravel()), 1)
        return counts

    def certify(self, texts: Sequence[str]) -> Certificates:
        """Predictions with their certified radii, votes and dispute flags."""
        counts = self.votes(texts)
        predictions, radii = certified_radius(counts)
        agreement = counts[np.arange(len(counts)), predictions] / self.k
        return Certificates(predictions, radii, counts, agreement, agreement < self.min_agreement)

    def predict(self, texts: Sequence[str]) -> IntArray:
        """Plurality vote of the members."""
        return plurality(self.votes(texts))

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        """Vote shares per class."""
        return self.votes(texts) / self.k


def _shared_vectorizer(template: Any) -> tuple[Any, Any] | None:
    """For a (Count|Tfidf)Vectorizer -> classifier Pipeline whose vocabulary is every token seen,
    a CountVectorizer to fit once on all rows, and a tf-idf weighting to refit per part (or None).

    Restricting the shared matrix to the columns a part uses is then exactly fitting the
    victim's vectorizer on that part alone; other settings (document-frequency cuts, a fixed
    vocabulary, custom steps) fall back to fitting each member's whole Pipeline.
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
    from sklearn.pipeline import Pipeline

    if not isinstance(template, Pipeline) or len(template.steps) != 2:
        return None
    vectorizer = template.steps[0][1]
    if type(vectorizer) not in (CountVectorizer, TfidfVectorizer):
        return None
    settings = vectorizer.get_params()
    if not (
        settings["min_df"] == 1
        and isinstance(settings["min_df"], int)
        and settings["max_df"] == 1.0
        and isinstance(settings["max_df"], float)
        and settings["max_features"] is None
        and settings["vocabulary"] is None
    ):
        return None
    count_settings = {name: settings[name] for name in CountVectorizer().get_params()}
    shared = CountVectorizer(**count_settings)
    weighting = None
    if isinstance(vectorizer, TfidfVectorizer):
        weighting = TfidfTransformer(
            norm=settings["norm"],
            use_idf=settings["use_idf"],
            smooth_idf=settings["smooth_idf"],
            sublinear_tf=settings["sublinear_tf"],
        )
    return shared, weighting


def _majority(labels: IntArray, n_classes: int) -> int:
    """The most common label, ties to the smallest; class 0 for no rows."""
    return int(np.argmax(np.bincount(labels, minlength=n_classes)))


def fit_members(
    texts: Sequence[str], labels: IntArray, parts: IntArray, k: int, n_classes: int, factory: VictimFactory
) -> tuple[list[_Member], Any, int]:
    """Fit one member per part; returns the members, the shared vectorizer (or None) and how
    many members vote a fixed class.

    A part whose victim cannot be trained (no rows, one class, no words) votes its most common
    label, class 0 when empty: still a function of that part's rows alone, so the certificate
    holds.
    """
    from threadpoolctl import threadpool_limits

    # Parts are small: BLAS threads cost more than they save there (10x slower on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_members(texts, labels, parts, k, n_classes, factory)


def _fit_members(
    texts: Sequence[str], labels: IntArray, parts: IntArray, k: int, n_classes: int, factory: VictimFactory
) -> tuple[list[_Member], Any, int]:
    from sklearn.base import clone

    template = factory()
    vectorizer, weighting = _shared_vectorizer(template) or (None, None)
    matrix = None
    if vectorizer is not None and len(texts):
        try:
            matrix = vectorizer.fit_transform(texts).tocsr()
        except ValueError as error:
            if "empty vocabulary" not in str(error):
                raise
            vectorizer = None  # no part has a word: every member votes its majority below
    order = np.argsort(parts, kind="stable")
    bounds = np.searchsorted(parts[order], np.arange(k + 1))
    members: list[_Member] = []
    for part in range(k):
        rows = order[bounds[part] : bounds[part + 1]]
        part_labels = labels[rows]
        fixed = _Member(constant=_majority(part_labels, n_classes))
        if np.unique(part_labels).size < 2:
            members.append(fixed)
        elif matrix is not None:
            block = matrix[rows]
            columns = np.unique(block.indices).astype(np.int64)
            if columns.size == 0:  # no words in this part
                members.append(fixed)
                continue
            features = block[:, columns]
            part_weighting = None if weighting is None else clone(weighting).fit(features)
            if part_weighting is not None:
                features = part_weighting.transform(features)
            classifier = clone(template.steps[1][1]).fit(features, part_labels)
            members.append(_Member(columns=columns, weighting=part_weighting, model=classifier))
        else:
            try:
                members.append(_Member(model=factory().fit([texts[i] for i in rows], part_labels)))
            except ValueError as error:
                if "empty vocabulary" not in str(error):  # scikit-learn's words for a part with no words
                    raise
                members.append(fixed)
    n_constant = sum(member.constant is not None for member in members)
    return members, vectorizer, n_constant


@DEFENSES.register("partition_aggregation")
@dataclasses.dataclass(frozen=True, kw_only=True)
class PartitionAggregation(Defense):
    """Deep Partition Aggregation: `k` victims on disjoint parts, a plurality vote, certificates.

    Training rows go to parts by a hash of their text (`partition_of`), one victim is trained
    per part, and a message is classified by the members' plurality vote (ties to the smallest
    class index). Since a training row reaches exactly one member, the vote margin certifies
    each prediction (`certified_radius`): no ``radius`` poisoned rows, however chosen, can
    change it. What counts as one row: an inserted row, a removed row, or a relabelled row
    (its text, hence its part, is unchanged). A row whose text is modified leaves one part
    and joins another, so it counts twice. The guarantee is deterministic (no noise) and holds
    for any victim.

    ``defended.model.certify(texts)`` gives, per message, the prediction, its radius, the votes,
    and `is_disputed`: members disagreeing beyond `min_agreement`, a flag for review at
    inference time. `certified_accuracy_curve` turns radii into the certified-accuracy curve.

    Fast: the victim's vectorizer (Count or Tfidf with default document-frequency settings) is
    fitted once on all rows, and each member uses the columns of its own part's vocabulary,
    exactly as if its Pipeline had been fitted on that part alone (tested equal); other
    victims are fitted whole per part.

    Parameters
    ----------
    k : int
        Number of parts, in [1, 10000]. More parts give larger radii and weaker members.
    min_agreement : float
        Share of members that must vote for the prediction for it not to be flagged as
        disputed, in (0, 1].

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("sms_spam")
    >>> defended = PartitionAggregation(k=25).fit(train, "nb")
    >>> certificates = defended.model.certify(test.texts[:4])
    >>> certificates.predictions.tolist() == defended.predict(test.texts[:4]).tolist()
    True
    >>> bool((certificates.radii <= 12).all())
    True
    """

    name: ClassVar[str] = "partition_aggregation"
    paper: ClassVar[str] = (
        "Levine & Feizi (2021), Deep Partition Aggregation: Provable Defenses against General "
        "Poisoning Attacks, ICLR."
    )

    k: int = 50
    min_agreement: float = 0.8

    def __post_init__(self) -> None:
        freeze_sequences(self)
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= MAX_PARTS:
            raise fail("PartitionAggregation", "k", f"an int in [1, {MAX_PARTS}]", self.k)
        share = self.min_agreement
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise fail("PartitionAggregation", "min_agreement", "a float in (0, 1]", share)

    @classmethod
    def examples(cls) -> list[Defense]:
        """A few parts, the default, and many parts with a lenient dispute flag."""
        return [cls(k=5), cls(), cls(k=100, min_agreement=0.6)]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Partition `dataset` by text hash and fit one `victim` per part.

        `random_state` seeds the victims; the partition itself has no randomness.
        """
        factory = as_factory(victim, random_state=random_state)
        parts = partition_of(dataset.texts, self.k)
        labels = np.asarray(dataset.labels, dtype=np.int64)
        members, vectorizer, n_constant = fit_members(
            dataset.texts, labels, parts, self.k, len(dataset.classes), factory
        )
        sizes = np.bincount(parts, minlength=self.k)
        return Defended(
            model=PartitionEnsemble(members, len(dataset.classes), vectorizer, self.min_agreement),
            defense=self.name,
            params=self.get_params(),
            info={
                "k": self.k,
                "part_size_min": int(sizes.min()),
                "part_size_median": float(np.median(sizes)),
                "part_size_max": int(sizes.max()),
                "parts_empty": int((sizes == 0).sum()),
                "members_voting_one_class": n_constant,
                "shared_vectorizer": vectorizer is not None,
                "partition": "sha256(text, UTF-8), first 8 bytes big-endian, mod k",
                "radius_counts": "training rows inserted, removed or relabelled; a changed text counts twice",
            },
        )
