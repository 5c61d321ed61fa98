"""The models under attack: plain scikit-learn Pipelines, built by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union

from poisonlab._params import check_choice
from poisonlab._registry import Registry

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline

FEATURES = ("count", "tfidf")
VICTIMS: Registry[Callable[[int | None], Any]] = Registry("victim")
VictimFactory = Callable[[], "BaseEstimator"]
VictimLike = Union[str, "BaseEstimator", VictimFactory]


@VICTIMS.register("nb")
def _multinomial_nb(random_state: int | None) -> Any:
    """Multinomial Naive Bayes with scikit-learn defaults: the article's model."""
    from sklearn.naive_bayes import MultinomialNB

    return MultinomialNB()


@VICTIMS.register("cnb")
def _complement_nb(random_state: int | None) -> Any:
    """Complement Naive Bayes (Rennie et al. 2003), made for imbalanced text classes."""
    from sklearn.naive_bayes import ComplementNB

    return ComplementNB()


@VICTIMS.register("logreg")
def _logistic_regression(random_state: int | None) -> Any:
    """L2-regularised logistic regression (lbfgs, C=1)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, random_state=random_state)


@VICTIMS.register("svm")
def _linear_svm(random_state: int | None) -> Any:
    """Linear support vector machine (hinge loss, C=1); scores via ``decision_function``."""
    from sklearn.svm import LinearSVC

    return LinearSVC(max_iter=5000, random_state=random_state)


def make_victim(name: str = "nb", *, features: str = "count", random_state: int | None = None) -> Pipeline:
    """A fresh, unfitted victim Pipeline: a vectorizer step then a classifier step.

    Parameters
    ----------
    name : {"nb", "cnb", "logreg", "svm"}
        The classifier; ``nb`` is the article's ``MultinomialNB``.
    features : {"count", "tfidf"}
        ``CountVectorizer()`` (the article's) or ``TfidfVectorizer()``, both with defaults.
    random_state : int, optional
        Seeds the classifier where it has randomness.

    Examples
    --------
    >>> pipe = make_victim("nb")
    >>> [step for step, _ in pipe.steps]
    ['vectorizer', 'classifier']
    >>> pipe.fit(["cheap pills", "see you"], [1, 0]).predict(["cheap cheap"]).tolist()
    [1]
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.pipeline import Pipeline

    check_choice("make_victim", "features", features, FEATURES)
    classifier = VICTIMS.get(name)(random_state)
    vectorizer = CountVectorizer() if features == "count" else TfidfVectorizer()
    return Pipeline([("vectorizer", vectorizer), ("classifier", classifier)])


def as_factory(
    victim: VictimLike, *, features: str = "count", random_state: int | None = None
) -> VictimFactory:
    """Turn a victim name, an sklearn estimator or a factory into a factory of fresh models.

    A user's own Pipeline works wherever a victim does: it is cloned, never refitted in place.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import RidgeClassifier
    >>> factory = as_factory(make_pipeline(TfidfVectorizer(), RidgeClassifier()))
    >>> factory() is factory()
    False
    """
    if isinstance(victim, str):
        make_victim(victim, features=features)  # validate now, not at first use
        return lambda: make_victim(victim, features=features, random_state=random_state)
    if hasattr(victim, "fit") and hasattr(victim, "get_params") and not isinstance(victim, type):
        from sklearn.base import clone

        template = victim
        return lambda: clone(template)
    if callable(victim):
        return victim
    raise TypeError(
        f"A victim must be a name, an sklearn estimator or a factory, not {type(victim).__name__}."
    )


def victim_label(victim: VictimLike) -> str:
    """A short name for a victim in reports: its registry name or its class name."""
    if isinstance(victim, str):
        return victim
    if isinstance(victim, type) or not hasattr(victim, "get_params"):  # a class or a factory function
        return str(getattr(victim, "__name__", type(victim).__name__))
    return type(victim).__name__
