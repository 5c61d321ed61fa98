"""PartitionAggregation (DPA): the radius formula, the certificate under real poisoning, the fast path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.data import Dataset
from poisonlab.defenses import DEFENSES, PartitionAggregation, certified_accuracy_curve, certified_radius
from poisonlab.defenses.partition_aggregation import partition_of, plurality
from poisonlab.victims import make_victim

# --- the partition ------------------------------------------------------------------------------


def test_registered() -> None:
    assert DEFENSES.get("partition_aggregation") is PartitionAggregation


def test_partition_depends_on_the_text_alone(sms_split: tuple[Dataset, Dataset]) -> None:
    train, _ = sms_split
    parts = partition_of(train.texts, 25)
    assert parts.min() >= 0 and parts.max() < 25
    reversed_parts = partition_of(train.texts[::-1], 25)[::-1]
    assert np.array_equal(parts, reversed_parts), "order and neighbours do not matter"
    first_of: dict[str, int] = {}
    for text, part in zip(train.texts, parts.tolist()):
        assert first_of.setdefault(text, part) == part, "identical texts share a part"
    sizes = np.bincount(parts, minlength=25)
    assert sizes.min() > 0.7 * len(train) / 25 and sizes.max() < 1.3 * len(train) / 25


# --- the radius formula against brute force ----------------------------------------------------


def vote_vectors(k: int, n_classes: int) -> list[tuple[int, ...]]:
    """Every way `k` members can split their votes over `n_classes` classes."""
    return [v for v in itertools.product(range(k + 1), repeat=n_classes) if sum(v) == k]


@pytest.mark.parametrize(("k", "n_classes"), [(1, 2), (4, 2), (7, 2), (6, 3), (5, 4)])
def test_radius_formula_matches_brute_force(k: int, n_classes: int) -> None:
    """Changing up to `radius` members' votes never changes the plurality; `radius + 1` can."""
    vectors = vote_vectors(k, n_classes)
    predictions, radii = certified_radius(np.array(vectors))
    for vote, prediction, radius in zip(vectors, predictions, radii):
        assert prediction == plurality([vote])[0]
        worst = k + 1  # fewest changed members that flip the prediction
        for other in vectors:
            changed = sum(max(0, a - b) for a, b in zip(vote, other))
            if plurality([other])[0] != prediction:
                worst = min(worst, changed)
        assert radius == worst - 1, (vote, radius, worst)


def test_radius_tie_rule() -> None:
    # Ties go to the smaller class, so class 1 needs a margin of 2 over class 0 to keep radius 0.
    predictions, radii = certified_radius([[2, 2], [2, 3], [3, 2], [1, 4], [4, 1]])
    assert predictions.tolist() == [0, 1, 0, 1, 0]
    assert radii.tolist() == [0, 0, 0, 1, 1]
    predictions, radii = certified_radius([[0, 0, 3], [1, 1, 1], [0, 2, 2]])
    assert predictions.tolist() == [2, 0, 1]
    assert radii.tolist() == [1, 0, 0]


def test_radius_needs_a_column_per_class() -> None:
    with pytest.raises(ParameterError, match="'votes' parameter of certified_radius"):
        certified_radius([1, 2, 3])


# --- the certificate under actual poisoning -----------------------------------------------------

SPAMMY = ["win", "free", "cash", "prize", "claim", "urgent", "offer", "bonus", "txt", "reward"]
HAMMY = ["lunch", "meeting", "home", "tomorrow", "mum", "dinner", "later", "office", "call", "thanks"]


def toy_corpus() -> Dataset:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i in range(70):
        label = int(i % 3 == 0)
        words = rng.choice(SPAMMY if label else HAMMY, size=4, replace=False).tolist()
        texts.append(" ".join([*words, f"id{i}"]))
        labels.append(label)
    return Dataset(texts, labels, ("ham", "spam"), name="toy")


def crafted_row(text: str, part: int, k: int) -> str:
    """`text`, strengthened and with a suffix chosen so that the row lands in `part`."""
    for nonce in range(100_000):
        candidate = f"{text} {text} {text} n{nonce}"
        if partition_of([candidate], k)[0] == part:
            return candidate
    raise AssertionError("no nonce found")


def insert_against(train: Dataset, ensemble: object, text: str, budget: int, k: int) -> Dataset:
    """Insert `budget` rows, each into a different part whose member votes for the prediction,
    each carrying `text` itself with the other label: the strongest one-row push per part."""
    members = ensemble.member_predictions([text])[:, 0]  # type: ignore[attr-defined]
    prediction = int(plurality([np.bincount(members, minlength=2)])[0])
    targets = np.flatnonzero(members == prediction)[:budget]
    rows = [crafted_row(text, int(part), k) for part in targets]
    return train.concat(
        Dataset(rows, [1 - prediction] * len(rows), train.classes, [f"x{i}" for i in range(len(rows))])
    )


def test_no_poisoning_within_the_radius_changes_a_prediction() -> None:
    train, k = toy_corpus(), 9
    queries = ["win free cash now", "lunch at home tomorrow", "free lunch", "call me", "prize meeting offer"]
    defended = PartitionAggregation(k=k).fit(train, "nb")
    certificates = defended.model.certify(queries)
    flipped_beyond = 0
    for text, prediction, radius in zip(queries, certificates.predictions, certificates.radii):
        within = insert_against(train, defended.model, text, int(radius), k)
        assert PartitionAggregation(k=k).fit(within, "nb").predict([text])[0] == prediction
        beyond = insert_against(train, defended.model, text, int(radius) + 1, k)
        flipped_beyond += PartitionAggregation(k=k).fit(beyond, "nb").predict([text])[0] != prediction
    assert flipped_beyond > 0, "the certificate is tight for some message: radius + 1 rows flip it"


def test_relabelling_within_the_radius_changes_nothing() -> None:
    train, k = toy_corpus(), 9
    text = "win free cash now"
    defended = PartitionAggregation(k=k).fit(train, "nb")
    certificate = defended.model.certify([text])
    prediction, radius = int(certificate.predictions[0]), int(certificate.radii[0])
    members = defended.model.member_predictions([text])[:, 0]
    parts = partition_of(train.texts, k)
    labels = train.labels.copy()
    hit = 0
    for part in np.flatnonzero(members == prediction):
        if hit == radius:
            break
        rows = np.flatnonzero((parts == part) & (labels == prediction))
        if rows.size:
            labels[rows[0]] = 1 - prediction
            hit += 1
    assert hit == radius
    assert PartitionAggregation(k=k).fit(train.with_labels(labels), "nb").predict([text])[0] == prediction


@pytest.mark.parametrize("victim", ["nb", "logreg"])
def test_one_row_reaches_one_member(sms_split: tuple[Dataset, Dataset], victim: str) -> None:
    """An inserted or relabelled row changes one member; a row whose text changes, at most two.

    This holds only because each member learns its own vocabulary: a vocabulary shared by all
    parts would let a new word shift every Naive Bayes member's smoothing.
    """
    train, test = sms_split
    base, probe = train.take(range(800)), list(test.texts[:400])
    k = 10
    before = PartitionAggregation(k=k).fit(base, victim).model.member_predictions(probe)
    inserted = base.concat(Dataset(["zzunseen qqnever free prize txt now"], [0], base.classes, ["new"]))
    relabelled = base.with_labels(np.where(np.arange(len(base)) == 3, 1 - base.labels, base.labels))
    texts = list(base.texts)
    texts[5] = texts[5] + " zzunseen qqnever free free prize"
    modified = base.with_texts(texts)
    for poisoned, allowed in ((inserted, 1), (relabelled, 1), (modified, 2)):
        after = PartitionAggregation(k=k).fit(poisoned, victim).model.member_predictions(probe)
        changed = np.flatnonzero((after != before).any(axis=1))
        assert changed.size <= allowed
    changed_parts = np.flatnonzero(
        (PartitionAggregation(k=k).fit(inserted, victim).model.member_predictions(probe) != before).any(
            axis=1
        )
    )
    assert set(changed_parts.tolist()) <= {int(partition_of(["zzunseen qqnever free prize txt now"], k)[0])}


# --- the fast path equals fitting each part's Pipeline ------------------------------------------


@pytest.mark.parametrize(("victim", "features"), [("nb", "count"), ("logreg", "tfidf"), ("svm", "count")])
def test_shared_vectorizer_equals_fitting_each_part(
    sms_split: tuple[Dataset, Dataset], victim: str, features: str
) -> None:
    train, test = sms_split
    base, probe = train.take(range(1500)), list(test.texts[:300])
    k = 8
    template = make_victim(victim, features=features, random_state=0)
    defended = PartitionAggregation(k=k).fit(base, template, random_state=0)
    assert defended.info["shared_vectorizer"] is True
    parts = partition_of(base.texts, k)
    expected = np.stack(
        [
            make_victim(victim, features=features, random_state=0)
            .fit([base.texts[i] for i in np.flatnonzero(parts == p)], base.labels[parts == p])
            .predict(probe)
            for p in range(k)
        ]
    )
    assert np.array_equal(defended.model.member_predictions(probe), expected)


def test_other_victims_are_fitted_whole_per_part(sms_split: tuple[Dataset, Dataset]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import make_pipeline

    train, test = sms_split
    base, probe = train.take(range(600)), list(test.texts[:100])
    pipeline = make_pipeline(TfidfVectorizer(min_df=2), RidgeClassifier())
    defended = PartitionAggregation(k=4).fit(base, pipeline)
    assert defended.info["shared_vectorizer"] is False
    parts = partition_of(base.texts, 4)
    expected = np.stack(
        [
            make_pipeline(TfidfVectorizer(min_df=2), RidgeClassifier())
            .fit([base.texts[i] for i in np.flatnonzero(parts == p)], base.labels[parts == p])
            .predict(probe)
            for p in range(4)
        ]
    )
    assert np.array_equal(defended.model.member_predictions(probe), expected)


# --- degenerate parts, certificates, the curve --------------------------------------------------


def test_parts_that_cannot_train_vote_their_majority(small_dataset: Dataset) -> None:
    defended = PartitionAggregation(k=40).fit(small_dataset, "logreg")
    sizes = np.bincount(partition_of(small_dataset.texts, 40), minlength=40)
    assert defended.info["parts_empty"] == int((sizes == 0).sum()) > 0
    votes = defended.model.member_predictions(["anything"])[:, 0]
    parts = partition_of(small_dataset.texts, 40)
    one_class = 0
    for part in range(40):
        labels = small_dataset.labels[parts == part]
        if np.unique(labels).size < 2:
            one_class += 1
            assert votes[part] == (labels[0] if labels.size else 0)
    assert defended.info["members_voting_one_class"] == one_class > 30


def test_certificates_and_dispute_flag(sms_split: tuple[Dataset, Dataset]) -> None:
    train, test = sms_split
    defended = PartitionAggregation(k=20, min_agreement=0.9).fit(train, "nb")
    texts = list(test.texts[:300])
    certificates = defended.model.certify(texts)
    assert certificates.votes.shape == (300, 2)
    assert (certificates.votes.sum(axis=1) == 20).all()
    assert np.array_equal(certificates.predictions, defended.predict(texts))
    assert np.allclose(certificates.agreement, certificates.votes.max(axis=1) / 20)
    assert np.array_equal(certificates.is_disputed, certificates.agreement < 0.9)
    assert certificates.is_disputed.any() and not certificates.is_disputed.all()
    assert np.array_equal(defended.predict_proba(texts), certificates.votes / 20)
    assert (certificates.radii <= 10).all() and (certificates.radii >= 0).all()
    unanimous = certificates.agreement == 1.0
    assert (certificates.radii[unanimous] == 10 - certificates.predictions[unanimous]).all()


def test_certified_accuracy_curve() -> None:
    truth = [0, 1, 1, 0, 1]
    predictions = [0, 1, 0, 0, 1]
    radii = [3, 1, 5, 0, 2]
    curve = certified_accuracy_curve(truth, predictions, radii)
    assert curve.tolist() == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0, 0.0])  # up to the largest radius
    assert certified_accuracy_curve(truth, predictions, radii, max_radius=2).tolist() == pytest.approx(
        [0.8, 0.6, 0.4]
    )
    assert np.all(np.diff(curve) <= 0)
    assert np.isnan(certified_accuracy_curve([], [], [])).all()
    with pytest.raises(ParameterError, match="three flat arrays of one length"):
        certified_accuracy_curve([0, 1], [0], [1, 1])
    with pytest.raises(ParameterError, match="'max_radius' parameter"):
        certified_accuracy_curve(truth, predictions, radii, max_radius=-1)


def test_curve_on_sms_starts_at_accuracy(sms_split: tuple[Dataset, Dataset]) -> None:
    train, test = sms_split
    defended = PartitionAggregation(k=25).fit(train, "nb")
    certificates = defended.model.certify(test.texts)
    curve = certified_accuracy_curve(test.labels, certificates.predictions, certificates.radii)
    assert curve[0] == pytest.approx(np.mean(certificates.predictions == test.labels))
    assert curve.size == certificates.radii.max() + 1
    assert 0 < curve[-1] <= curve[0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 10_001}, "k"),
        ({"k": True}, "k"),
        ({"k": 2.0}, "k"),
        ({"min_agreement": 0}, "min_agreement"),
        ({"min_agreement": 1.5}, "min_agreement"),
    ],
)
def test_bad_parameters(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{field}' parameter of PartitionAggregation must be"):
        PartitionAggregation(**params)  # type: ignore[arg-type]


@pytest.mark.parametrize("fast", [True, False])
def test_a_part_without_words_votes_its_majority(fast: bool) -> None:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    wordless = Dataset(["a", "b", "c", "d", "e"], [1, 0, 1, 0, 1], ("ham", "spam"))
    victim = "nb" if fast else make_pipeline(CountVectorizer(max_df=0.99), MultinomialNB())
    defended = PartitionAggregation(k=1).fit(wordless, victim)
    assert defended.info["members_voting_one_class"] == 1
    assert defended.predict(["anything at all"]).tolist() == [1]
