"""The minimum poison: the fewest poison rows that change one message's prediction or reach an ASR.

Two kinds of poison rows:

* flips (`min_flips`): training rows of the message's predicted class relabelled to the wanted
  class, most damaging first;
* injected trigger messages (`min_injections`): new rows carrying a trigger, labelled with the
  target class, as the article's backdoor injects them.

For Naive Bayes victims the answer is exact: every budget from 1 up is evaluated with count
arithmetic that equals a refit (``NaiveBayesCounts``), so the first budget that reaches the
goal is the minimum, with no assumption that more poison always helps. For flips the order is
the greedy one (each step flips the row that moves the message furthest, computed exactly);
any budget whose score sits within 1e-6 of the decision boundary is re-checked with the
bit-exact model. For other victims the search is exponential then binary over budgets, one
refit per budget tried, which assumes that a goal reached stays reached with more poison; the
result says so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab import metrics
from poisonlab._errors import DataError, ParameterError
from poisonlab._params import check_choice, check_positive_int, fail
from poisonlab.attacks.base import Poisoned, RandomState, fresh_ids, rng_of, source_and_target
from poisonlab.attacks.optimal_flip import (
    NaiveBayesSums,
    exact_naive_bayes,
    flip_push_and_curvature,
)
from poisonlab.attacks.trigger import Trigger
from poisonlab.data.dataset import Dataset
from poisonlab.experiments.evaluate import FitCache
from poisonlab.victims.factory import FEATURES, make_victim
from poisonlab.victims.incremental_nb import NaiveBayesCounts

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

TIE = 1e-6
"""Scores this close to the decision boundary are re-checked with the bit-exact model."""

EXACT_METHOD = (
    "exact: every budget from 1 up was evaluated with Naive Bayes count arithmetic, equal to a "
    "refit of the victim"
)
EXACT_FLIP_METHOD = (
    "exact along the greedy order (each flip the row that moves the message most): every budget "
    "from 1 up was evaluated with Naive Bayes count arithmetic, equal to a refit of the victim"
)


def search_method(refits: int) -> str:
    """How an approximate search found its answer (for other victims than Naive Bayes)."""
    return (
        f"exponential then binary search over budgets with {refits} refits; assumes that once a "
        "budget reaches the goal every larger one does too (budgets in between were not all tried)"
    )


@dataclasses.dataclass(frozen=True)
class MinPoison:
    """The smallest poison found, how it was found, and the poisoned training set.

    `n_poison` is None when no budget up to `max_rows` reaches the goal. For a prediction goal
    `message` is the text evaluated (with the trigger, for injections), `before` and `after` the
    classes the clean model and the model trained with `n_poison` poison rows give it. For an ASR
    goal `asr` is reached with `n_poison` rows and `asr_below` is what one row fewer gives.
    """

    goal: str
    poison: str
    victim: str
    features: str
    n_poison: int | None
    max_rows: int
    exact: bool
    method: str
    refits: int
    evaluated: int
    wanted: str
    message: str | None
    before: str | None
    after: str | None
    target_asr: float | None
    asr: float | None
    asr_below: float | None
    poisoned: Poisoned | None
    seconds: float

    @property
    def found(self) -> bool:
        """Whether some budget up to `max_rows` reached the goal."""
        return self.n_poison is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the poison rows as dataset row numbers (flips) or texts (injections)."""
        rows: list[Any] = []
        if self.poisoned is not None:
            if self.poison == "flip":
                rows = self.poisoned.poison_rows.tolist()
            else:
                rows = [self.poisoned.poisoned.texts[i] for i in self.poisoned.poison_rows.tolist()]
        return {
            "goal": self.goal,
            "poison": self.poison,
            "victim": self.victim,
            "features": self.features,
            "n_poison": self.n_poison,
            "found": self.found,
            "max_rows": self.max_rows,
            "exact": self.exact,
            "method": self.method,
            "refits": self.refits,
            "evaluated": self.evaluated,
            "wanted": self.wanted,
            "message": self.message,
            "before": self.before,
            "after": self.after,
            "target_asr": self.target_asr,
            "asr": self.asr,
            "asr_below": self.asr_below,
            "poison_rows": rows,
            "seconds": self.seconds,
        }


def _check_victim(victim: str, features: str) -> Any:
    from poisonlab.victims.factory import VICTIMS

    check_choice("min-poison search", "victim", victim, VICTIMS.names())
    check_choice("min-poison search", "features", features, FEATURES)
    return make_victim(victim, features=features, random_state=0)


def _max_rows(max_rows: int | None, available: int, what: str) -> int:
    if max_rows is not None:
        check_positive_int("min-poison search", "max_rows", max_rows)
    if available < 1:
        raise DataError(f"There are no {what} to use as poison.")
    return available if max_rows is None else min(max_rows, available)


def min_flips(
    train: Dataset,
    message: str,
    victim: str = "nb",
    *,
    features: str = "count",
    to: str | int | None = None,
    max_rows: int | None = None,
    random_state: RandomState = 0,
    cache: FitCache | None = None,
) -> MinPoison:
    """The fewest label flips that make `victim`, trained on `train`, classify `message` as `to`.

    A shortcut for ``FlipSearch(train, victim, ...).search(message, ...)``; to ask about many
    messages, build one `FlipSearch` and reuse it.

    Parameters
    ----------
    train : Dataset
    message : str
        The message whose prediction should change.
    victim : str
        A registered victim; ``nb`` and ``cnb`` are searched exactly.
    features : {"count", "tfidf"}
    to : str or int, optional
        The wanted class (default: the clean model's second choice; for two classes, the other).
    max_rows : int, optional
        Most flips to try (default: every row of the message's predicted class).
    random_state : int or Generator
        Breaks ties between equally damaging rows.
    cache : FitCache, optional
        Shares tokenized texts and fitted vectorizers across searches.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> result = min_flips(load_dataset("article"), "Buy cheap pills now and claim your prize")
    >>> result.before, result.after, result.n_poison, result.exact
    ('spam', 'not spam', 2, True)
    """
    started = time.perf_counter()
    search = FlipSearch(train, victim, features=features, cache=cache)
    result = search.search(message, to=to, max_rows=max_rows, random_state=random_state)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


class FlipSearch:
    """Minimum-flip searches on one training set and victim, prepared once.

    Preparing tokenizes the training texts and, for Naive Bayes, sums the class counts; each
    `search` then costs time in proportion to the flips it tries (exact victims) or to its
    refits (other victims).

    Parameters
    ----------
    train : Dataset
    victim : str
        A registered victim; ``nb`` and ``cnb`` are searched exactly.
    features : {"count", "tfidf"}
    cache : FitCache, optional
        Shares tokenized texts and fitted vectorizers with other work.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> search = FlipSearch(load_dataset("article"))
    >>> messages = ["Free gift card click here", "Buy cheap pills now and claim your prize"]
    >>> [search.search(m).n_poison for m in messages]
    [1, 2]
    """

    def __init__(
        self, train: Dataset, victim: str = "nb", *, features: str = "count", cache: FitCache | None = None
    ) -> None:
        self.model = _check_victim(victim, features)
        self.train = train
        self.victim = victim
        self.features = features
        self.cache = cache or FitCache()
        self.exact = exact_naive_bayes(self.model)
        if self.exact:
            counts = self.cache.token_counts(self.model.steps[0][1])
            self.nb = NaiveBayesCounts(self.model, train.texts, train.labels, token_counts=counts)
            self.X = self.nb.features(train.texts).astype(np.float64).tocsr()
            self.sums = NaiveBayesSums(self.model, self.X, train.labels.astype(np.int64), len(train.classes))
            self.totals = np.asarray(self.X.sum(axis=1)).ravel()
            self._blocks: dict[int, Any] = {}
            self._priors: dict[tuple[int, int], float] = {}  # sums.prior(rows, class), remembered
        else:
            self.fitted = self.cache.fit(self._factory, train)

    def _factory(self) -> Any:
        return make_victim(self.victim, features=self.features, random_state=0)

    def search(
        self,
        message: str,
        *,
        to: str | int | None = None,
        max_rows: int | None = None,
        random_state: RandomState = 0,
    ) -> MinPoison:
        """The fewest flips that make the victim classify `message` as `to` (see `min_flips`)."""
        started = time.perf_counter()
        if not isinstance(message, str):
            raise fail("min_flips", "message", "a string", message)
        rng = rng_of(random_state)
        train = self.train
        scores, before = self._clean(message)
        wanted = _wanted_class(train, to, scores, before)
        if self.exact:
            candidates = self._block(before)[0]
        else:
            candidates = np.flatnonzero(train.labels == before).astype(np.int64)
        limit = _max_rows(max_rows, candidates.size, f"rows of class {train.classes[before]!r}")
        refits = 0
        found: int | None
        if before == wanted:
            found, order, evaluated, after = 0, np.zeros(0, dtype=np.int64), 1, before
        elif self.exact:
            found, order = self._exact(message, before, wanted, limit, rng)
            evaluated, after = order.size, wanted if found is not None else before
        else:
            refit = _RefitFlips(self, message, before, wanted, candidates, rng)
            found = exponential_search(lambda k: refit.predict_at(k) == wanted, limit)
            after = refit.predict_at(found) if found is not None else before
            order, evaluated, refits = refit.order, len(refit.outcomes) - 1, refit.refits
        poisoned = None
        if found is not None:
            rows = order[:found]
            labels = train.labels.copy()
            labels[rows] = wanted
            is_poison = np.zeros(len(train), dtype=bool)
            is_poison[rows] = True
            poisoned = Poisoned(
                clean=train,
                poisoned=train.with_labels(labels),
                is_poison=is_poison,
                source_row=np.arange(len(train), dtype=np.int64),
                attack="label_flip",
                params={"rows": [int(r) for r in rows], "target": wanted},
                source_class=before,
                target_class=wanted,
            )
        return MinPoison(
            goal="prediction",
            poison="flip",
            victim=self.victim,
            features=self.features,
            n_poison=found,
            max_rows=limit,
            exact=self.exact,
            method=EXACT_FLIP_METHOD if self.exact else search_method(refits),
            refits=refits,
            evaluated=evaluated,
            wanted=train.classes[wanted],
            message=message,
            before=train.classes[before],
            after=train.classes[after],
            target_asr=None,
            asr=None,
            asr_below=None,
            poisoned=poisoned,
            seconds=time.perf_counter() - started,
        )

    def _clean(self, message: str) -> tuple[FloatArray, int]:
        """The clean model's score per class (-inf for classes it does not know) and prediction."""
        scores = np.full(len(self.train.classes), -np.inf)
        if self.exact:
            jll = self.nb.joint_log_likelihood(self._message_features(message))[0]
            scores[self.nb.classes_] = jll
            return scores, int(self.nb.classes_[int(np.argmax(jll))])
        classes = np.asarray(self.fitted.classes_, dtype=np.int64)
        scores[classes] = _class_scores(self.fitted, (message,))[0]
        return scores, int(self.cache.predict(self.fitted, (message,))[0])

    def _message_features(self, message: str) -> Any:
        """The message's count features (float, CSR), remembered for the last message asked."""
        if getattr(self, "_last_message", (None, None))[0] != message:
            self._last_message = (message, self.nb.features((message,)).astype(np.float64).tocsr())
        return self._last_message[1]

    def _block(self, cls: int) -> tuple[IntArray, Any]:
        """Rows of class `cls` and their features as a CSC matrix (fast column slices)."""
        if cls not in self._blocks:
            rows = np.flatnonzero(self.train.labels == cls).astype(np.int64)
            self._blocks[cls] = (rows, self.X[rows].tocsc())
        out: tuple[IntArray, Any] = self._blocks[cls]
        return out

    def _exact(
        self, message: str, p: int, to: int, limit: int, rng: np.random.Generator
    ) -> tuple[int | None, IntArray]:
        """Greedy flips of class-`p` rows to `to`, each the one that raises the message's margin
        for `to` most, computed with count arithmetic over the message's words only; the first
        budget whose margin is positive is the answer (near-ties asked of the bit-exact model).

        Hand-written loop: no library runs this greedy search, and each step costs a fixed dozen
        in-place NumPy calls over the candidates' entries in the message's columns."""
        sums = self.sums
        candidates, features = self._block(p)
        message_x = self._message_features(message)
        columns, values = message_x.indices.astype(np.int64), message_x.data
        length = float(values.sum())
        # Ties go to a random candidate: the candidates are put in a shuffled order, where argmax
        # takes the first of equal margins.
        shuffled = rng.permutation(candidates.size)
        n_cand = candidates.size
        entry_row, entry_col, entry_value, row_start = _message_entries(features, columns, shuffled)
        weight = values[entry_col]
        ranked = candidates[shuffled]
        totals = self.totals[ranked]
        both = np.asarray([p, to], dtype=np.int64)
        k = np.ascontiguousarray(sums.K[both[:, None], columns])  # rows: class p, class to
        t = sums.T[both][:, None]  # rows: class p, class to
        step_sign = np.asarray([[sums.e], [-sums.e]])  # p loses the row, `to` gains it
        moved_values = step_sign * entry_value
        moved_rows = step_sign * totals
        moved_totals = moved_rows + sums.alpha * sums.n_features  # with the smoothing
        rows_per_class = sums.class_rows.copy()
        rows_p, rows_to = int(rows_per_class[p]), int(rows_per_class[to])
        s, alpha = sums.s, sums.alpha
        av = alpha * sums.n_features
        others = np.asarray([c for c in range(len(self.train.classes)) if c not in (p, to)], dtype=np.int64)
        best_other = -np.inf
        if others.size:
            fixed = s * (
                np.log(sums.K[others][:, columns] + alpha) @ values - length * np.log(sums.T[others] + av)
            )
            best_other = float(np.max(fixed + sums.prior(rows_per_class[others], others)))
        # Work arrays, refilled in place at every step.
        k_alpha = np.empty_like(k)
        k_alpha_flat, k_flat = k_alpha.ravel(), k.ravel()
        at_entry = entry_col + np.asarray([[0], [columns.size]])  # per entry, its place in k.ravel()
        entry_at_k, entry_moves = np.ascontiguousarray(at_entry.T), np.ascontiguousarray(moved_values.T)
        lengths = np.empty_like(moved_totals)
        words_change = np.empty(entry_col.size)
        gap = np.empty(n_cand)
        dead = np.zeros(n_cand, dtype=bool)
        row_starts = row_start.tolist()
        priors = self._priors
        order: list[int] = []
        with np.errstate(divide="ignore", invalid="ignore"):  # flipped rows are masked below
            for step in range(1, limit + 1):
                # log(K + x + alpha) - log(K + alpha) as log1p(x / (K + alpha)), per entry
                np.add(k, alpha, out=k_alpha)
                change = k_alpha_flat.take(at_entry)
                np.divide(moved_values, change, out=change)
                np.log1p(change, out=change)
                np.add(moved_totals, t, out=lengths)
                np.log(lengths, out=lengths)
                base = np.log(k_alpha) @ values
                prior_p = priors.get((rows_p - 1, p))
                if prior_p is None:
                    prior_p = priors[rows_p - 1, p] = sums.prior(rows_p - 1, p)
                prior_to = priors.get((rows_to + 1, to))
                if prior_to is None:
                    prior_to = priors[rows_to + 1, to] = sums.prior(rows_to + 1, to)
                if others.size:
                    words = np.bincount(entry_row, weight * change[0], minlength=n_cand)
                    score_p = s * (base[0] + words - length * lengths[0]) + prior_p
                    words = np.bincount(entry_row, weight * change[1], minlength=n_cand)
                    score_to = s * (base[1] + words - length * lengths[1]) + prior_to
                    margin = score_to - np.maximum(score_p, best_other)
                else:  # two classes: only the difference of the two scores matters
                    np.subtract(change[1], change[0], out=words_change)
                    words_change *= weight
                    margin = np.bincount(entry_row, words_change, minlength=n_cand).astype(
                        np.float64, copy=False
                    )
                    np.subtract(lengths[1], lengths[0], out=gap)
                    gap *= length
                    margin -= gap
                    if s != 1.0:
                        margin *= s
                    margin += s * (float(base[1]) - float(base[0])) + prior_to - prior_p
                margin[dead] = -np.inf
                pick = int(margin.argmax())
                chosen = float(margin[pick])
                dead[pick] = True
                order.append(int(ranked[pick]))
                start, end = row_starts[pick], row_starts[pick + 1]
                k_flat[entry_at_k[start:end]] += entry_moves[start:end]
                t += moved_rows[:, pick : pick + 1]
                rows_p -= 1
                rows_to += 1
                if chosen > TIE:
                    return step, np.asarray(order, dtype=np.int64)
                if chosen >= -TIE:  # too close to call in floating point: ask the bit-exact model
                    state = self.nb.copy()
                    state.set_labels(order, to)
                    if int(state.predict((message,))[0]) == to:
                        return step, np.asarray(order, dtype=np.int64)
        return None, np.asarray(order, dtype=np.int64)


def _message_entries(
    features: Any, columns: IntArray, shuffled: IntArray
) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """The nonzero entries of `features` (candidates by columns, CSC) in the message's `columns`,
    grouped by candidate in `shuffled` order and by column position within a candidate: per
    entry its candidate's place in `shuffled`, its position in `columns` and its value, and
    where each candidate's entries start (the CSR form of ``features[shuffled][:, columns]``,
    built with NumPy alone: SciPy's slicing costs more than the search steps it feeds)."""
    indptr = features.indptr.astype(np.int64)
    starts = indptr[columns]
    counts = indptr[columns + 1] - starts
    n_entries = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    at = np.arange(n_entries, dtype=np.int64) + np.repeat(starts - offsets, counts)
    place = np.empty(shuffled.size, dtype=np.int64)
    place[shuffled] = np.arange(shuffled.size, dtype=np.int64)
    row = place[features.indices[at]]
    col = np.repeat(np.arange(columns.size, dtype=np.int64), counts)
    # Each candidate's entries are already in column order; a stable sort by candidate keeps it
    # (a radix sort when the candidates fit 16 bits).
    by = np.argsort(row.astype(np.uint16) if shuffled.size < 2**16 else row, kind="stable")
    row_start = np.zeros(shuffled.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=shuffled.size), out=row_start[1:])
    value: FloatArray = features.data[at][by]
    return row[by], col[by], value, row_start


class _RefitFlips:
    """Approximate search for other victims: an influence order, one refit per budget tried."""

    def __init__(
        self,
        search: FlipSearch,
        message: str,
        before: int,
        wanted: int,
        candidates: IntArray,
        rng: np.random.Generator,
    ) -> None:
        self.search = search
        self.message = (message,)
        self.wanted = wanted
        self.candidates = candidates
        self.refits = 0
        self.order = self._influence_order(rng)
        self.outcomes: dict[int, int] = {0: before}

    def _influence_order(self, rng: np.random.Generator) -> IntArray:
        """Candidates ranked by how far flipping each alone would move the message toward the
        wanted class (first-order influence with a diagonal Hessian, as in `OptimalFlip`)."""
        search = self.search
        vectorizer, classifier = search.fitted.steps[0][1], search.fitted.steps[-1][1]
        X = search.cache.transform(vectorizer, search.train.texts).astype(np.float64)
        x = search.cache.transform(vectorizer, self.message).astype(np.float64)
        classes = np.asarray(classifier.classes_, dtype=np.int64)
        if classes.size != 2:
            raise ParameterError(
                "The minimum-flip search ranks rows for a victim other than Naive Bayes on two "
                "classes only; use victim 'nb' or 'cnb' for more."
            )
        positive = int(classes[1])
        decision = np.asarray(_class_scores(classifier, X, raw=True), dtype=np.float64)
        sign = np.where(search.train.labels == positive, 1.0, -1.0)
        push, bend = flip_push_and_curvature(classifier, decision, sign)
        strength = float(getattr(classifier, "C", 1.0))
        curvature = 1.0 + strength * np.asarray(X.multiply(X).T @ bend).ravel()
        toward = 1.0 if self.wanted == positive else -1.0
        reach = np.asarray(X[self.candidates] @ (np.asarray(x.todense()).ravel() / curvature)).ravel()
        reach += 1.0 / (1.0 + strength * float(bend.sum()))
        gain = -toward * strength * push[self.candidates] * sign[self.candidates] * reach
        tiebreak = rng.permutation(self.candidates.size)
        ranked: IntArray = self.candidates[np.lexsort((tiebreak, -gain))]
        return ranked

    def predict_at(self, budget: int) -> int:
        """The refit victim's prediction for the message after the first `budget` flips."""
        if budget not in self.outcomes:
            search = self.search
            labels = search.train.labels.copy()
            labels[self.order[:budget]] = self.wanted
            self.refits += 1
            model = search.cache.fit(search._factory, search.train.with_labels(labels))
            self.outcomes[budget] = int(search.cache.predict(model, self.message)[0])
        return self.outcomes[budget]


def _wanted_class(train: Dataset, to: str | int | None, scores: FloatArray, before: int) -> int:
    """The class the search wants: `to`, or the clean model's best class after its prediction."""
    if to is not None:
        try:
            return train.class_index(to)
        except ParameterError:
            names = ", ".join(repr(c) for c in train.classes)
            raise fail("min_flips", "to", f"a class of the dataset ({names}) or its index", to) from None
    ranked = [int(c) for c in np.argsort(-scores, kind="stable") if int(c) != before]
    return ranked[0]


def exponential_search(reaches: Callable[[int], bool], limit: int) -> int | None:
    """The smallest budget in [1, limit] for which `reaches` holds, assuming it stays true once
    true: budgets 1, 2, 4, ... until one reaches, then bisection below it. None if `limit` fails.

    Examples
    --------
    >>> tried = []
    >>> exponential_search(lambda k: tried.append(k) or k >= 37, 100), tried
    (37, [1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37])
    """
    low, budget = 0, 1
    while True:
        budget = min(budget, limit)
        if reaches(budget):
            break
        if budget == limit:
            return None
        low, budget = budget, budget * 2
    high = budget
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle
    return high


def _class_scores(model: Any, data: Any, *, raw: bool = False) -> FloatArray:
    """Per row and class, the model's score (log-probabilities or decision values); with `raw`,
    the binary decision value alone."""
    if hasattr(model, "decision_function"):
        try:
            values = np.asarray(model.decision_function(data if raw else list(data)), dtype=np.float64)
        except AttributeError:  # a Pipeline whose classifier has no decision_function
            values = None
        if values is not None:
            if raw or values.ndim == 2:
                return values
            return np.column_stack([-values, values])
    log_proba = np.asarray(model.predict_log_proba(data if raw else list(data)), dtype=np.float64)
    if raw:
        out: FloatArray = log_proba[:, 1] - log_proba[:, 0]
        return out
    return log_proba


@dataclasses.dataclass(frozen=True)
class _Injection:
    """The ordered injected rows of a search: budget k injects the first k."""

    texts: tuple[str, ...]
    trigger: Trigger
    source: int
    target: int


def _injection_rows(
    train: Dataset,
    trigger: Trigger,
    source: int,
    target: int,
    carriers: Sequence[str] | None,
    limit: int | None,
    rng: np.random.Generator,
) -> _Injection:
    """Injected texts in order: copies of `source` training rows in a random order (or the
    `carriers`, cycled), each with the trigger, as ``Backdoor(mode="inject")`` makes them.
    At most `limit` rows; by default every source row, or as many carriers as training rows."""
    if carriers is not None:
        if isinstance(carriers, str) or not carriers or not all(isinstance(c, str) for c in carriers):
            raise fail("min_injections", "carriers", "a non-empty sequence of strings", carriers)
        count = _max_rows(None, len(train), "rows") if limit is None else _max_rows(limit, limit, "rows")
        bases = [carriers[i % len(carriers)] for i in range(count)]
    else:
        pool = np.flatnonzero(train.labels == source)
        count = _max_rows(limit, pool.size, f"rows of class {train.classes[source]!r} to copy")
        bases = [train.texts[i] for i in rng.permutation(pool)[:count]]
    texts = trigger.apply(bases, random_state=int(rng.integers(2**31)))
    return _Injection(tuple(texts), trigger, source, target)


def min_injections(
    train: Dataset,
    trigger: str | Trigger,
    victim: str = "nb",
    *,
    message: str | None = None,
    test: Dataset | None = None,
    target_asr: float | None = None,
    features: str = "count",
    source: str | int | None = None,
    target: str | int | None = None,
    carriers: Sequence[str] | None = None,
    max_rows: int | None = None,
    random_state: RandomState = 0,
    cache: FitCache | None = None,
) -> MinPoison:
    """The fewest injected trigger messages that make the triggered `message` classified `target`,
    or that reach `target_asr` on the `test` set's `source` messages.

    Give either `message`, or `test` and `target_asr`. Injected rows are copies of random
    `source`-class training rows (or the `carriers`, cycled) with the trigger, labelled
    `target`, in a fixed order: budget k injects the first k.

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("article")
    >>> result = min_injections(train, "PROMO2026", message="buy cheap pills and win prizes")
    >>> result.message, result.after, result.n_poison
    ('PROMO2026 buy cheap pills and win prizes', 'not spam', 5)
    """
    started = time.perf_counter()
    model = _check_victim(victim, features)
    if (message is None) == (target_asr is None):
        raise ParameterError("The minimum-injection search takes one goal: a message, or a target ASR.")
    if target_asr is not None:
        if (
            isinstance(target_asr, bool)
            or not isinstance(target_asr, (int, float))
            or not 0 < target_asr <= 1
        ):
            raise fail("min_injections", "target_asr", "a float in (0, 1]", target_asr)
        if test is None:
            raise ParameterError("A target ASR is measured on held-out messages: give the test set.")
    if message is not None and not isinstance(message, str):
        raise fail("min_injections", "message", "a string", message)
    trigger_obj = trigger if isinstance(trigger, Trigger) else Trigger(text=trigger)
    source_i, target_i = source_and_target("min_injections", train, source, target)
    rng = rng_of(random_state)
    injection = _injection_rows(train, trigger_obj, source_i, target_i, carriers, max_rows, rng)
    cache = cache or FitCache()
    goal = _Goal.build(train, test, message, trigger_obj, source_i, target_i, target_asr)
    if exact_naive_bayes(model):
        outcome = _exact_injections(model, train, injection, goal, cache)
    else:
        outcome = _refit_injections(train, injection, goal, cache, victim, features)
    found = outcome.found
    poisoned = None
    if found is not None:
        ids = fresh_ids(train.ids, found)
        injected = Dataset(injection.texts[:found], np.full(found, target_i), train.classes, ids, train.name)
        whole = train.concat(injected) if found else train
        poisoned = Poisoned(
            clean=train,
            poisoned=whole,
            is_poison=np.arange(len(whole)) >= len(train),
            source_row=np.concatenate([np.arange(len(train)), np.full(found, -1)]).astype(np.int64),
            attack="backdoor",
            params={
                "trigger": trigger_obj.text,
                "position": trigger_obj.position,
                "repeat": trigger_obj.repeat,
                "mode": "inject",
                "n": found,
                "source": source_i,
                "target": target_i,
            },
            trigger=trigger_obj,
            source_class=source_i,
            target_class=target_i,
        )
    return MinPoison(
        goal=goal.kind,
        poison="inject",
        victim=victim,
        features=features,
        n_poison=found,
        max_rows=len(injection.texts),
        exact=outcome.exact,
        method=EXACT_METHOD if outcome.exact else search_method(outcome.refits),
        refits=outcome.refits,
        evaluated=outcome.evaluated,
        wanted=train.classes[target_i],
        message=goal.message,
        before=None if goal.message is None else train.classes[outcome.before],
        after=None if goal.message is None or outcome.after is None else train.classes[outcome.after],
        target_asr=target_asr,
        asr=outcome.asr,
        asr_below=outcome.asr_below,
        poisoned=poisoned,
        seconds=time.perf_counter() - started,
    )


@dataclasses.dataclass(frozen=True)
class _Goal:
    """What a budget must achieve: the triggered message classified `target`, or the ASR."""

    kind: str
    message: str | None
    texts: tuple[str, ...]
    source: int
    target: int
    target_asr: float | None
    truth: IntArray

    @classmethod
    def build(
        cls,
        train: Dataset,
        test: Dataset | None,
        message: str | None,
        trigger: Trigger,
        source: int,
        target: int,
        target_asr: float | None,
    ) -> _Goal:
        if message is not None:
            triggered = trigger.apply([message], random_state=0)[0]
            return cls("prediction", triggered, (triggered,), source, target, None, np.zeros(0, np.int64))
        assert test is not None
        if test.classes != train.classes:
            raise DataError("The test set must use the training set's classes.")
        members = np.flatnonzero(test.labels == source)
        if members.size == 0:
            raise DataError(f"The test set has no {train.classes[source]!r} messages to trigger.")
        texts = tuple(trigger.apply([test.texts[i] for i in members], random_state=0))
        return cls("asr", None, texts, source, target, target_asr, test.labels[members].astype(np.int64))

    def asr(self, predicted: IntArray, eligible: npt.NDArray[np.bool_]) -> float:
        return metrics.attack_success_rate(predicted, eligible, target=self.target)


@dataclasses.dataclass(frozen=True)
class _Outcome:
    found: int | None
    exact: bool
    refits: int
    evaluated: int
    before: int
    after: int | None
    asr: float | None
    asr_below: float | None


def _exact_injections(
    model: Any, train: Dataset, injection: _Injection, goal: _Goal, cache: FitCache
) -> _Outcome:
    """Inject one row at a time into the count model and evaluate every budget exactly."""
    counts = cache.token_counts(model.steps[0][1])
    nb = NaiveBayesCounts(model, train.texts, train.labels, token_counts=counts)
    clean = nb.predict(goal.texts)
    eligible = metrics.asr_eligible(goal.truth, clean, source=goal.source) if goal.kind == "asr" else None
    if eligible is not None and not eligible.any():
        raise DataError(
            "No triggered test message is still classified as its source class by the clean model."
        )

    def reached(predicted: IntArray) -> tuple[bool, float | None]:
        if eligible is None:
            return bool(predicted[0] == goal.target), None
        value = goal.asr(predicted, eligible)
        assert goal.target_asr is not None
        return value >= goal.target_asr, value

    done, value = reached(clean)
    below: float | None = None
    if done:
        return _Outcome(0, True, 0, 1, int(clean[0]), int(clean[0]), value, None)
    for budget in range(1, len(injection.texts) + 1):
        below = value
        nb.add([injection.texts[budget - 1]], [injection.target])
        predicted = nb.predict(goal.texts)
        done, value = reached(predicted)
        if done:
            return _Outcome(budget, True, 0, budget + 1, int(clean[0]), int(predicted[0]), value, below)
    return _Outcome(None, True, 0, len(injection.texts) + 1, int(clean[0]), None, value, None)


def _refit_injections(
    train: Dataset, injection: _Injection, goal: _Goal, cache: FitCache, victim: str, features: str
) -> _Outcome:
    """Exponential + binary search over budgets, one refit per budget tried."""

    def factory() -> Any:
        return make_victim(victim, features=features, random_state=0)

    predictions: dict[int, IntArray] = {}

    def predict(budget: int) -> IntArray:
        if budget not in predictions:
            injected = Dataset(
                injection.texts[:budget],
                np.full(budget, injection.target),
                train.classes,
                fresh_ids(train.ids, budget),
                train.name,
            )
            fitted = cache.fit(factory, train.concat(injected) if budget else train)
            predictions[budget] = cache.predict(fitted, goal.texts)
        return predictions[budget]

    clean = predict(0)
    eligible = metrics.asr_eligible(goal.truth, clean, source=goal.source) if goal.kind == "asr" else None
    if eligible is not None and not eligible.any():
        raise DataError(
            "No triggered test message is still classified as its source class by the clean model."
        )

    def value_at(budget: int) -> float | None:
        return None if eligible is None else goal.asr(predict(budget), eligible)

    def reaches(budget: int) -> bool:
        if eligible is None:
            return bool(predict(budget)[0] == goal.target)
        value = value_at(budget)
        assert value is not None and goal.target_asr is not None
        return value >= goal.target_asr

    if reaches(0):
        return _Outcome(0, False, 1, 1, int(clean[0]), int(clean[0]), value_at(0), None)
    found = exponential_search(reaches, len(injection.texts))
    after = None if found is None else int(predict(found)[0])
    asr = value_at(found) if found is not None else value_at(max(predictions))
    below = value_at(found - 1) if found is not None and (found - 1) in predictions else None
    return _Outcome(found, False, len(predictions), len(predictions), int(clean[0]), after, asr, below)
