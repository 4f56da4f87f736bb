"""The prepared runtimes of translation models (`zoo.prepared`): a folder prepared in an older format
(before generators gave scores) is never found, so it is prepared again, not run."""

import types

from keras_transformer.zoo import prepared


def test_a_runtime_prepared_in_an_older_format_is_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv(prepared.CACHE_VARIABLE, str(tmp_path))
    info = types.SimpleNamespace(weights_sha256="0123456789abcdef" * 4)
    folder = prepared.prepared_dir("saved_models/pt_en", info)
    assert folder == tmp_path / "zoo" / f"pt_en-0123456789abcdef-v{prepared.FORMAT}"
    older = folder.with_name("pt_en-0123456789abcdef")  # format 1: the generator gave no scores
    older.mkdir(parents=True)
    (older / prepared.MANIFEST).write_text("", encoding="utf-8")
    assert prepared.find("saved_models/pt_en", info) is None
