"""How well the clean-label and spam-filter attacks work on the SMS corpus, for nb and logreg.

Not a speed benchmark: it measures the figures the attack docs quote, so anyone can rerun
them. Every cell trains the victim on the clean and the poisoned SMS training split (seed 0,
split seed 2026) and scores both on the held-out split.

* ``clean_label_backdoor`` vs the dirty-label ``backdoor``: ASR, CACC and the clean-label
  check's pass share, at 1 % and 5 %, random and hardest rows (surrogate = the victim).
* ``boundary_shift``: spam leak overall and on held-out spam using the campaign words.
* ``dictionary``: ham loss and spam leak (nb, cnb, logreg), top-300 words vs whole vocabulary.
* ``focused``: share of `--targets` random held-out ham messages blocked, by budget and
  attacker knowledge.
* backdoor variants: rare vs common token, phrase, repeats, position, insert vs inject.

One JSON line, ``{"section": {"cell": {...figures}}}``.

    python bench/attack_suite.py [--targets 10]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from _corpus import add_corpus_option
from poisonlab.attacks import Backdoor, BoundaryShift, CleanLabelBackdoor, DictionaryAttack, FocusedAttack
from poisonlab.data import load_train_test
from poisonlab.experiments.attack_goals import campaign_outcome, target_message_outcome
from poisonlab.experiments.clean_label import check_clean_label
from poisonlab.experiments.evaluate import FitCache, evaluate_attack

VICTIMS = ("nb", "logreg")


def cell(attack, train, test, victim, cache):
    result = evaluate_attack(attack, train, test, victim, random_state=0, cache=cache)
    check = check_clean_label(result.poisoned, victim, model=result.clean_model)
    figures = {
        "n_poison": result.poisoned.n_poison,
        "cacc": [round(result.clean.accuracy, 4), round(result.attacked.accuracy, 4)],
        "ham_loss": [round(result.clean.ham_loss, 4), round(result.attacked.ham_loss, 4)],
        "spam_leak": [round(result.clean.spam_leak, 4), round(result.attacked.spam_leak, 4)],
        "clean_label_pass": round(check.share, 4),
    }
    if result.backdoor is not None:
        figures["asr"] = round(result.backdoor.asr, 4)
    return result, figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--targets", type=int, default=10, help="held-out ham messages for the focused attack"
    )
    add_corpus_option(parser)
    options = parser.parse_args()
    started = time.perf_counter()
    train, test = load_train_test(options.corpus)
    out: dict[str, dict[str, object]] = {
        "clean_label_backdoor": {},
        "boundary_shift": {},
        "dictionary": {},
        "focused": {},
        "backdoor_variants": {},
    }
    for victim in VICTIMS:
        cache = FitCache()
        for rate in (0.01, 0.05):
            _, figures = cell(Backdoor(rate=rate), train, test, victim, cache)
            out["clean_label_backdoor"][f"{victim} rate={rate} dirty-label backdoor"] = figures
            for select in ("random", "hardest"):
                attack = CleanLabelBackdoor(rate=rate, select=select, surrogate=victim)
                _, figures = cell(attack, train, test, victim, cache)
                out["clean_label_backdoor"][f"{victim} rate={rate} clean-label {select}"] = figures
        for rate in (0.05, 0.1):
            attack = BoundaryShift(rate=rate, surrogate=victim)
            result, figures = cell(attack, train, test, victim, cache)
            campaign = campaign_outcome(result, test, attack.campaign_words(train))
            figures["campaign_slip"] = [round(campaign.clean_slip, 4), round(campaign.poisoned_slip, 4)]
            figures["campaign_messages"] = campaign.n_messages
            out["boundary_shift"][f"{victim} rate={rate}"] = figures
        variants = {
            "rare token PROMO2026": Backdoor(rate=0.01),
            "common token 'call'": Backdoor(trigger="call", rate=0.01),
            "phrase 'limited offer'": Backdoor(trigger="limited offer", rate=0.01),
            "repeat 3": Backdoor(repeat=3, rate=0.01),
            "position end": Backdoor(position="end", rate=0.01),
            "position random": Backdoor(position="random", rate=0.01),
            "inject copies": Backdoor(mode="inject", rate=0.01),
            "inject carriers": Backdoor(
                mode="inject", rate=0.01, carriers=("special offer buy now", "claim your free prize")
            ),
        }
        for label, attack in variants.items():
            out["backdoor_variants"][f"{victim} {label}"] = cell(attack, train, test, victim, cache)[1]
    for victim in ("nb", "cnb", "logreg"):
        cache = FitCache()
        for n_words in (300, None):
            for rate in (0.01, 0.05):
                attack = DictionaryAttack(n_words=n_words, rate=rate)
                out["dictionary"][f"{victim} n_words={n_words} rate={rate}"] = cell(
                    attack, train, test, victim, cache
                )[1]
    rng = np.random.default_rng(0)
    targets = [
        test.texts[i] for i in rng.choice(np.flatnonzero(test.labels == 0), options.targets, replace=False)
    ]
    for victim in VICTIMS:
        cache = FitCache()
        for knowledge in (1.0, 0.5):
            for n in (3, 10, 30):
                blocked = []
                for message in targets:
                    result = evaluate_attack(
                        FocusedAttack(message=message, knowledge=knowledge, n=n),
                        train,
                        test,
                        victim,
                        random_state=0,
                        cache=cache,
                    )
                    blocked.append(target_message_outcome(result, message).is_blocked)
                out["focused"][f"{victim} knowledge={knowledge} n={n}"] = {
                    "blocked": round(float(np.mean(blocked)), 4),
                    "targets": len(blocked),
                }
    out["seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[assignment]
    print(json.dumps({"corpus": options.corpus, **out}))


if __name__ == "__main__":
    main()
