"""Safe model files: skops round trip, model card, small archives, refusals that never unpickle."""

from __future__ import annotations

import copy
import io
import json
import pickle
import pickletools
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from poisonlab import DataError, PoisonlabError
from poisonlab.data import Dataset
from poisonlab.data.manifest import merkle_root
from poisonlab.victims import make_victim
from poisonlab.victims.model_file import (
    CARD_MEMBER,
    ModelCard,
    data_summary,
    load_model,
    read_model_card,
    require_skops,
    save_model,
    sniff_model_file,
    untrusted_types,
)

CARD = ModelCard(victim="nb", features="count", classes=("ham", "spam"), metrics={"accuracy": 0.9})


@pytest.fixture(scope="module")
def fitted(sms_split):
    train, _ = sms_split
    return make_victim("nb").fit(list(train.texts), train.labels)


class Touch:
    """Unpickling this creates a file: proof a loader ran the pickle's code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize(("victim", "features"), [("nb", "count"), ("logreg", "tfidf"), ("svm", "count")])
def test_round_trip_keeps_predictions_scores_and_card(tmp_path, sms_split, victim, features):
    train, test = sms_split
    model = make_victim(victim, features=features, random_state=0).fit(list(train.texts), train.labels)
    card = ModelCard(
        victim=victim, features=features, classes=train.classes, training_data=data_summary(train)
    )
    saved = save_model(model, tmp_path / "m.skops", card)
    assert saved.untrusted_types == ()
    assert saved.size == (tmp_path / "m.skops").stat().st_size
    loaded = load_model(tmp_path / "m.skops")
    texts = list(test.texts)
    assert np.array_equal(loaded.model.predict(texts), model.predict(texts))
    from poisonlab.victims import log_odds

    assert np.array_equal(log_odds(loaded.model, texts), log_odds(model, texts))
    assert loaded.card == card
    assert loaded.classes == train.classes


def test_file_is_a_plain_skops_archive_with_a_json_card(tmp_path, fitted):
    save_model(fitted, tmp_path / "m.skops", CARD)
    with zipfile.ZipFile(tmp_path / "m.skops") as archive:
        assert {"schema.json", CARD_MEMBER} <= set(archive.namelist())
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
        assert json.loads(archive.read(CARD_MEMBER))["format"] == "poisonlab-model-card/1"
    plain = sio.load(tmp_path / "m.skops", trusted=[])  # skops itself opens it, no poisonlab needed
    assert plain.predict(["free prize call now"]).tolist() == fitted.predict(["free prize call now"]).tolist()
    assert read_model_card(tmp_path / "m.skops") == CARD


def test_card_carries_version_and_manifest_root(sms_split):
    train, _ = sms_split
    summary = data_summary(train, split="train", split_seed=2026)
    assert summary["fingerprint"] == merkle_root(train)
    assert summary["dataset_sha256"] == train.fingerprint()
    assert summary["counts"] == train.counts() and summary["rows"] == len(train)
    import poisonlab

    assert (
        ModelCard(victim="nb", features="count", classes=("a", "b")).poisonlab_version
        == poisonlab.__version__
    )


def test_numpy_int_vocabulary_is_stored_compactly_without_touching_the_model(tmp_path, fitted):
    model = copy.deepcopy(fitted)  # as older scikit-learn releases fitted it: NumPy ints
    model.steps[0][1].vocabulary_ = {k: np.int64(v) for k, v in fitted.steps[0][1].vocabulary_.items()}
    naive = tmp_path / "naive.skops"
    sio.dump(model, naive)  # what skops does by default
    save_model(model, tmp_path / "ours.skops", CARD)
    with zipfile.ZipFile(naive) as a, zipfile.ZipFile(tmp_path / "ours.skops") as b:
        naive_members, our_members = len(a.namelist()), len(b.namelist())
    vocabulary = model.steps[0][1].vocabulary_
    assert naive_members > len(vocabulary)  # one archive member per word
    assert our_members < 20
    assert (tmp_path / "ours.skops").stat().st_size * 10 < naive.stat().st_size
    assert all(isinstance(v, np.integer) for v in vocabulary.values())  # the caller's model is unchanged
    loaded = load_model(tmp_path / "ours.skops").model
    assert loaded.steps[0][1].vocabulary_ == {k: int(v) for k, v in vocabulary.items()}
    assert loaded.predict(["win a free prize"]).tolist() == model.predict(["win a free prize"]).tolist()


def test_untrusted_types_are_refused_and_named_until_trusted(tmp_path):
    model = make_pipeline(CountVectorizer(preprocessor=textwrap.dedent), MultinomialNB())
    model.fit(["cheap pills", "see you"], [1, 0])
    saved = save_model(model, tmp_path / "m.skops", CARD)
    assert saved.untrusted_types == ("textwrap.dedent",)
    assert untrusted_types(tmp_path / "m.skops") == ["textwrap.dedent"]
    with pytest.raises(DataError, match=r"does not trust \(textwrap\.dedent\).*--trust"):
        load_model(tmp_path / "m.skops")
    with pytest.raises(DataError, match=r"textwrap\.dedent"):
        load_model(tmp_path / "m.skops", trust=["os.system"])
    for trust in (True, ["textwrap.dedent"]):
        assert load_model(tmp_path / "m.skops", trust=trust).model.predict(["cheap"]).tolist() == [1]


def _pickles(tmp_path: Path, marker: Path) -> dict[str, bytes]:
    payload = Touch(marker)
    raw = pickle.dumps(payload, protocol=4)
    torch_like = io.BytesIO()
    with zipfile.ZipFile(torch_like, "w") as archive:
        archive.writestr("archive/data.pkl", raw)
    return {
        "protocol 2": pickle.dumps(payload, protocol=2),
        "protocol 5": pickle.dumps(payload, protocol=5),
        "protocol 0": pickle.dumps(payload, protocol=0),
        "joblib zlib": zlib.compress(raw),
        "pytorch zip": torch_like.getvalue(),
    }


@pytest.mark.parametrize("kind", ["protocol 2", "protocol 5", "protocol 0", "joblib zlib", "pytorch zip"])
def test_pickles_are_refused_by_their_bytes_and_never_run(tmp_path, kind):
    marker = tmp_path / "pwned"
    data = _pickles(tmp_path, marker)[kind]
    if kind.startswith("protocol"):
        assert any(True for _ in pickletools.genops(data))  # it really is a pickle
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    with pytest.raises(DataError) as caught:
        load_model(path)
    message = str(caught.value)
    assert "Refusing to load" in message and "poisoning vector" in message and "skops" in message
    assert ("pickle" in message) or ("joblib" in message)
    assert "\n" not in message
    assert not marker.exists()
    pickle.loads(_pickles(tmp_path, marker)["protocol 2"])  # the same bytes would have run
    assert marker.exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"id,text,label\n1,hi,ham\n", "not a skops model file"),
        (b"", "not a skops model file"),
        (b"PK\x03\x04 broken", "not a readable skops model file"),
    ],
)
def test_other_files_get_one_clear_sentence(tmp_path, content, match):
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        sniff_model_file(path)


def test_zip_without_schema_and_skops_file_without_card(tmp_path, fitted):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match=r"no schema\.json"):
        load_model(tmp_path / "a.zip")
    sio.dump(fitted, tmp_path / "bare.skops")
    with pytest.raises(DataError, match="without a poisonlab model card"):
        load_model(tmp_path / "bare.skops")
    with pytest.raises(DataError, match="does not exist"):
        load_model(tmp_path / "missing.skops")


def test_card_naming_the_wrong_number_of_classes_is_refused(tmp_path, fitted):
    save_model(
        fitted, tmp_path / "m.skops", ModelCard(victim="nb", features="count", classes=("a", "b", "c"))
    )
    with pytest.raises(DataError, match="predicts 2 classes but its card names 3"):
        load_model(tmp_path / "m.skops")


def test_save_is_atomic_and_checks_the_folder(tmp_path, fitted):
    with pytest.raises(DataError, match="does not exist"):
        save_model(fitted, tmp_path / "missing" / "m.skops", CARD)
    with pytest.raises(DataError, match="is a folder"):
        save_model(fitted, tmp_path, CARD)
    save_model(fitted, tmp_path / "m.skops", CARD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skops"]


def test_missing_skops_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(PoisonlabError, match=r"pip install 'poisonlab\[models\]'"):
        require_skops()


def test_card_from_foreign_json_is_refused():
    with pytest.raises(DataError, match="not a poisonlab-model-card/1"):
        ModelCard.from_dict({"format": "other"})
    with pytest.raises(DataError, match="incomplete"):
        ModelCard.from_dict({"format": "poisonlab-model-card/1", "victim": "nb"})
    card = ModelCard(
        victim="nb", features="count", classes=("ham", "spam"), parameters={"x": np.float64(0.5)}
    )
    assert json.loads(json.dumps(card.to_dict()))["parameters"] == {"x": 0.5}


def test_data_summary_of_a_small_dataset():
    data = Dataset(["a", "b", "c"], [0, 1, 1], ("ham", "spam"), name="toy")
    summary = data_summary(data)
    assert summary["counts"] == {"ham": 1, "spam": 2}
    assert summary["fingerprint"] != data_summary(data.with_labels([1, 1, 1]))["fingerprint"]
