"""Sentences to measure how closely a converted translation model agrees with its reference engine.

A source used for nothing else (not for training, validation or quality: those are Bible verses,
`keras_transformer.data.bible`): the user-interface messages of Weblate, the web translation platform,
as its pip package ships them (`pip install --no-deps weblate==5.14.3`, GPL-3; only its compiled message
catalogs are read, with the standard library's `gettext`, and its code is never imported or run).
Its English messages are written by its developers and its Portuguese ones by human translators
(Weblate's own community), both real sentences ("Your request was rejected because you have performed
too many operations recently.").

    en-pt  English: the message ids of `weblate/locale/{pt_BR,pt}/LC_MESSAGES/{django,djangojs}.mo`
           (1,013 sentences in 5.14.3)
    pt-en  Portuguese: the Brazilian translations (pt_BR, 1,011 sentences), then the European ones (pt,
           919 more, those not spelled as a Brazilian one) only when `count` asks for more than 1,011

A message counts as a sentence when, with its spaces collapsed, it has at least 3 words, starts with
an upper-case letter, ends with ".", "!" or "?", and holds none of `<>{}[]%$_/\\@|*#=~^` and no web
address (so no markup and no format placeholder such as `%(name)s` or `{count}`); a Portuguese
translation equal to its English id is left out. The order is fixed by the SHA-256 of each sentence
(its UTF-8 bytes), so `agreement_sentences(direction, count)` is the first `count` of one fixed list,
the same on every machine; the pinned version (`VERSION`) is checked, since another release has other
messages.

Example:
>>> from keras_transformer.data.agreement import agreement_sentences
>>> sentences = agreement_sentences("en-pt", count=1000)  # doctest: +SKIP
>>> len(sentences), len(set(sentences))  # doctest: +SKIP
(1000, 1000)
"""

import gettext
import hashlib
import importlib.metadata
import re

from keras_transformer.errors import InvalidArgumentError, MissingExtra

PACKAGE, VERSION = "weblate", "5.14.3"
DIRECTIONS = ("en-pt", "pt-en")
# Catalogs read, in order of preference for the Portuguese side.
LOCALES = ("pt_BR", "pt")
DOMAINS = ("django", "djangojs")

_FORBIDDEN = re.compile(r"[<>{}\[\]%$_/\\@|*#=~^]|https?:|www\.")
_SPACE = re.compile(r"\s+")


def is_sentence(text):
    """Whether a message (spaces already collapsed) counts as a sentence (see the module docstring).

    Example:
    >>> is_sentence("The file mask did not match any files.")
    True
    >>> is_sentence("%(count)s strings were updated."), is_sentence("Add new string")
    (False, False)
    """
    return (
        len(text.split(" ")) >= 3
        and text[:1].isalpha()
        and text[:1].isupper()
        and text[-1:] in (".", "!", "?")
        and not _FORBIDDEN.search(text)
    )


def _catalog_path(distribution, locale, domain):
    path = distribution.locate_file(f"{PACKAGE}/locale/{locale}/LC_MESSAGES/{domain}.mo")
    if not path.is_file():
        raise MissingExtra(
            f"The `{PACKAGE}` package has no {path}: pip install --no-deps --force-reinstall {PACKAGE}=={VERSION}"
        )
    return path


def _distribution():
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    if distribution is None or distribution.version != VERSION:
        found = "is not installed" if distribution is None else f"is version {distribution.version}"
        raise MissingExtra(
            f"agreement_sentences reads the message catalogs of the `{PACKAGE}` pip package, version {VERSION}, "
            f"which {found}: pip install --no-deps {PACKAGE}=={VERSION}"
        )
    return distribution


def _ordered(sentences):
    return sorted(set(sentences), key=lambda text: (hashlib.sha256(text.encode("utf-8")).hexdigest(), text))


def _messages():
    """{locale: [(English id, translation)]}, spaces collapsed, plural forms left out."""
    distribution = _distribution()
    messages = {}
    for locale in LOCALES:
        pairs = []
        for domain in DOMAINS:
            with open(_catalog_path(distribution, locale, domain), "rb") as file:
                catalog = gettext.GNUTranslations(file)._catalog
            for key, value in catalog.items():
                if not isinstance(key, str) or not key:  # plural forms: (id, n); "": the header
                    continue
                english = _SPACE.sub(" ", key.split("\x04")[-1]).strip()  # "context\x04id"
                pairs.append((english, _SPACE.sub(" ", value).strip()))
        messages[locale] = pairs
    return messages


def sentence_pool(direction):
    """Every agreement sentence of `direction` ("en-pt" or "pt-en"), in the fixed order.

    Raises:
        InvalidArgumentError: an unknown direction.
        MissingExtra: `weblate==5.14.3` is not installed.
    """
    if direction not in DIRECTIONS:
        raise InvalidArgumentError(
            f"`direction` must be one of {', '.join(map(repr, DIRECTIONS))}. Received: direction={direction!r}"
        )
    messages = _messages()
    if direction == "en-pt":
        return _ordered(english for pairs in messages.values() for english, _ in pairs if is_sentence(english))
    pool, seen = [], set()
    for locale in LOCALES:
        translations = (text for english, text in messages[locale] if text != english and is_sentence(text))
        for text in _ordered(translations):
            if text not in seen:
                seen.add(text)
                pool.append(text)
    return pool


def agreement_sentences(direction, count=1000):
    """The first `count` agreement sentences of `direction`, source side only (the engine's and the
    converted model's outputs are what get compared).

    Args:
        direction: "en-pt" (English sentences) or "pt-en" (Portuguese sentences).
        count: how many, at most `len(sentence_pool(direction))` (1,013 English, 1,930 Portuguese).

    Raises:
        InvalidArgumentError: an unknown direction, or a `count` that is not a positive int or is more
            than there are.
        MissingExtra: `weblate==5.14.3` is not installed.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidArgumentError(f"`count` must be a positive int. Received: count={count!r}")
    pool = sentence_pool(direction)
    if count > len(pool):
        raise InvalidArgumentError(
            f"`count` must be at most {len(pool)}, the {direction} agreement sentences there are. "
            f"Received: count={count}"
        )
    return pool[:count]


__all__ = ["DIRECTIONS", "PACKAGE", "VERSION", "agreement_sentences", "is_sentence", "sentence_pool"]
