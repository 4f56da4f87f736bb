"""`pronounce`: English text -> one `Pronunciation` a token (word, number or punctuation mark).

Each word is looked up, in this order:

1. the user's lexicon (`lexicon=`, CMUdict's format), whose `source` is "user lexicon";
2. CMUdict, its first pronunciation ("lexicon");
3. a hyphenated compound not listed whole: each part by these same steps ("well-kept" -> well + kept);
   the source is the parts' sources, joined with "+" when they differ ("lexicon+model");
4. a word in capitals of 2-5 letters that no lexicon lists is spelled letter by letter ("letters":
   GPU -> JH IY1 P IY1 Y UW1);
5. any other word of the letters a-z and apostrophes goes to the zoo model ("model"): each distinct word
   of a call once, in batches of `MODEL_BATCH` that a worker thread decodes while the rest of the texts
   are looked up (and remembered by the `Pronouncer` for later calls);
6. a word in another script (Cyrillic, CJK, ...) that no lexicon lists gets no phonemes ("unsupported").

A title or abbreviation followed by a period is read out ("Dr." -> doctor, "St." -> saint, "vs." ->
versus: `TITLES`; source "abbreviation"). Case is ignored and accents are folded (café -> cafe) before
every lookup. Numbers and symbols are read aloud in English (`keras_transformer.g2p.numbers.spell`:
"$3.50" -> three dollars fifty cents), and each word of the reading is looked up as above; the source
names the reading ("cardinal", "ordinal", "year", "decimal", "percent", "currency", "time", "letters
and digits", "symbol"). Punctuation keeps its token with empty phonemes ("punctuation").
"""

import concurrent.futures
import dataclasses
import os
import threading
import typing

from keras_transformer import _validation
from keras_transformer.errors import InvalidArgumentError, InvalidTypeError
from keras_transformer.g2p.lexicon import Lexicon
from keras_transformer.g2p.numbers import spell
from keras_transformer.g2p.text import fold, tokenize
from keras_transformer.zoo import registry

DEFAULT_MODEL = "g2p_en"
# The model's words sent to it at once (CTranslate2 decodes two batches of 64 side by side).
MODEL_BATCH = 128
# Words the model pronounced, remembered by a Pronouncer (the oldest half is dropped when it is full).
MODEL_CACHE_SIZE = 100_000
# Titles and abbreviations read out when a period follows them ("Dr." -> doctor; "St." is read "saint").
TITLES = {
    "mr": "mister", "mrs": "missus", "dr": "doctor", "prof": "professor", "jr": "junior",
    "sr": "senior", "st": "saint", "mt": "mount", "vs": "versus", "etc": "etcetera", "gen": "general",
    "gov": "governor", "capt": "captain", "sgt": "sergeant", "lt": "lieutenant", "col": "colonel", "rev": "reverend",
}  # fmt: skip
_MODEL_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz'")
_CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class Pronunciation(typing.NamedTuple):
    """One token of the text and how it is said (a named tuple: made by the tens of thousands a second).

    Attributes:
        token: the token as the text has it (case and accents kept).
        phonemes: space-separated ARPAbet with stress digits; "" for punctuation.
        source: where the phonemes come from (see the module docstring).
    """

    token: str
    phonemes: str
    source: str

    def to_dict(self):
        return {"token": self.token, "phonemes": self.phonemes, "source": self.source}


class Pronouncer:
    """Pronounces texts with one set of lexicons and one model, loaded once (the model on first need).

    Args:
        lexicon: the user's lexicon, consulted before CMUdict: a file path (CMUdict format), a
            `Lexicon`, a dict `{word: phonemes}`, or None.
        model: the zoo model for words no lexicon lists: a zoo name or folder path (default "g2p_en"),
            or an already loaded `zoo.ZooModel`.
        runtime: the zoo runtime that runs the model (`zoo.load`'s `runtime`). None (the default):
            CTranslate2 when it can decode with the model's settings (greedy search: g2p_en), else
            "auto" (the folder's TFLite generator). Neither imports TensorFlow, and both give what the
            Keras pipeline gives (their parity tests).
        use_cmudict: whether CMUdict is consulted (True); False leaves the user lexicon and the model.

    Raises:
        LexiconError: the user lexicon cannot be read (the message names the file and line).
    """

    def __init__(self, lexicon=None, model=DEFAULT_MODEL, runtime=None, use_cmudict=True):
        self.user_lexicon = _as_lexicon(lexicon)
        self.cmudict = Lexicon.cmudict() if use_cmudict else None
        self._model_spec, self._runtime = model, runtime
        self._model = None if isinstance(model, (str, os.PathLike)) else model
        if self._model is None:  # checked now, though it loads only when a word needs it
            kind = registry.model_kind(model)  # a ZooError for an unknown name or folder
            if kind != registry.SEQ2SEQ:
                raise InvalidArgumentError(
                    f"`model` must be a text-to-text zoo model that takes one word, like {DEFAULT_MODEL!r}. "
                    f"Received: model={model!r} (a {kind.replace('_', ' ')} model)"
                )
        self._model_cache = {}
        self._punctuation = {}  # punctuation token -> its reading (`spell`), or None
        self._lock = threading.Lock()
        self._worker = None  # the thread that runs the model, started on first need

    @property
    def model(self):
        """The zoo model that pronounces unlisted words, loaded on first use."""
        if self._model is None:
            from keras_transformer import zoo

            if self._runtime is not None:
                self._model = zoo.load(self._model_spec, runtime=self._runtime)
            else:
                try:
                    self._model = zoo.load(self._model_spec, runtime="ctranslate2")
                except zoo.RuntimeUnavailable:
                    self._model = zoo.load(self._model_spec, runtime="auto")
        return self._model

    def __call__(self, text):
        """The `Pronunciation`s of one text (a str), in order."""
        if not isinstance(text, str):
            raise InvalidTypeError(f"`text` must be a str. Received: type {type(text).__name__}")
        return self.pronounce([text])[0]

    def pronounce(self, texts):
        """One list of `Pronunciation`s for each text of `texts` (a list of str); the words no lexicon
        lists are pronounced by the model, each distinct one once, in batches."""
        texts = _validation.texts("texts", texts, method="pronounce")
        # The model's words go to a worker thread in batches as the texts are planned, so that the model
        # (which releases the GIL) decodes while Python goes on splitting and looking up.
        plans, found, pending, batches = [], {}, [], []  # found: the model's words of this call
        for text in texts:
            wanted = set()
            plans.append(self._plans(tokenize(text), wanted))
            for key in wanted.difference(found):
                found[key] = self._model_cache.get(key)
                if found[key] is None:
                    pending.append(key)
            if len(pending) >= MODEL_BATCH:
                batches.append(self._submit(pending))
                pending = []
        if pending:
            batches.append(self._submit(pending))
        for keys, outputs in batches:
            outputs = outputs.result()
            found.update(zip(keys, outputs))
            self._remember(keys, outputs)
        return [[_finished(token, pieces, source, found) for token, pieces, source in plan] for plan in plans]

    # A token's plan: (token text, pieces, source); a piece is phonemes (str) or a _ModelWord to fill in.
    def _plans(self, tokens, wanted):
        plans = []
        last = len(tokens) - 1
        for index, (text, kind) in enumerate(tokens):
            if kind == "word":
                title = TITLES.get(fold(text)) if index < last and tokens[index + 1].text == "." else None
                if title is not None:
                    plans.append((text, self._word(title, wanted)[0], "abbreviation"))
                    continue
                pieces, sources = self._word(text, wanted)
                plans.append((text, pieces, sources[0] if len(sources) == 1 else _joined(sources)))
                continue
            reading = self._punctuation.get(text, False) if kind == "punctuation" else False
            if reading is False:
                reading = spell(text)
                if kind == "punctuation" and len(self._punctuation) < MODEL_CACHE_SIZE:
                    self._punctuation[text] = reading
            if reading is None:
                plans.append((text, [], "punctuation" if kind == "punctuation" else "unsupported"))
                continue
            words, expansion = reading
            pieces = []
            for word in words:
                pieces.extend(self._word(word, wanted)[0])
            plans.append((text, pieces, expansion))
        return plans

    def _word(self, word, wanted):
        """(pieces, sources) of one word, by the steps of the module docstring; adds the model's words
        to `wanted`."""
        key = fold(word)
        if self.user_lexicon is not None:
            found = self.user_lexicon.first_of_folded(key)
            if found is not None:
                return [found], ["user lexicon"]
        if self.cmudict is not None:
            found = self.cmudict.first_of_folded(key)
            if found is not None:
                return [found], ["lexicon"]
        parts = [part for part in word.split("-") if part]
        if len(parts) > 1:
            pieces, sources = [], []
            for part in parts:
                part_pieces, part_sources = self._word(part, wanted)
                pieces.extend(part_pieces)
                sources.extend(part_sources)
            return pieces, sources
        if 2 <= len(word) <= 5 and set(word) <= _CAPITALS:
            letters = [self._word(letter, wanted)[0] for letter in key]
            return [piece for pieces in letters for piece in pieces], ["letters"]
        if key and set(key) <= _MODEL_LETTERS and key.strip("'"):
            wanted.add(key)
            return [_ModelWord(key)], ["model"]
        return [], ["unsupported"]

    def _submit(self, keys):
        """`(keys, future of the model's outputs for them)`; the keys shortest first (less padding)."""
        keys = sorted(keys, key=lambda key: (len(key), key))
        with self._lock:
            if self._worker is None:
                self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="g2p-model")
        return keys, self._worker.submit(lambda: self.model.predict(keys))

    def _remember(self, keys, outputs):
        with self._lock:
            if len(self._model_cache) + len(keys) > MODEL_CACHE_SIZE:
                for key in list(self._model_cache)[: len(self._model_cache) // 2]:
                    del self._model_cache[key]
            self._model_cache.update(zip(keys, outputs))



@dataclasses.dataclass(frozen=True)
class _ModelWord:
    key: str


def _finished(token, pieces, source, found):
    """The `Pronunciation` of a planned token; `found` holds the phonemes of its model words."""
    if len(pieces) == 1:  # most tokens: one word
        piece = pieces[0]
        return Pronunciation(token, piece if type(piece) is str else found[piece.key], source)
    phonemes = [piece if type(piece) is str else found[piece.key] for piece in pieces]
    return Pronunciation(token, " ".join(phoneme for phoneme in phonemes if phoneme), source)


_default = None
_default_lock = threading.Lock()


def pronounce(texts, lexicon=None, model=DEFAULT_MODEL, runtime=None):
    """Pronunciations of `texts`: for one str, its list of `Pronunciation`s; for a list of str, one
    such list a text. See `Pronouncer` for the arguments; with the defaults, one `Pronouncer` is made
    on the first call and reused.

    Example:
    >>> [p.to_dict() for p in pronounce("Hello, world!")]  # doctest: +SKIP
    [{'token': 'Hello', 'phonemes': 'HH AH0 L OW1', 'source': 'lexicon'}, {'token': ',', ...}, ...]
    """
    global _default
    if lexicon is None and model == DEFAULT_MODEL and runtime is None:
        with _default_lock:
            if _default is None:
                _default = Pronouncer()
        pronouncer = _default
    else:
        pronouncer = Pronouncer(lexicon=lexicon, model=model, runtime=runtime)
    if isinstance(texts, str):
        return pronouncer(texts)
    return pronouncer.pronounce(texts)


def _joined(sources):
    if len(sources) == 1:
        return sources[0]
    return "+".join(dict.fromkeys(sources))


def _as_lexicon(lexicon):
    if lexicon is None or isinstance(lexicon, Lexicon):
        return lexicon
    if isinstance(lexicon, dict):
        return Lexicon.from_dict(lexicon)
    if isinstance(lexicon, (str, os.PathLike)):
        return Lexicon.read(lexicon)
    raise InvalidTypeError(
        f"`lexicon` must be a file path, a Lexicon or a dict. Received: type {type(lexicon).__name__}"
    )
