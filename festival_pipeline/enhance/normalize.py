"""Text normalisation shared by the enhancers.

Three kinds of text are compared across oscars.org and IMDb:

* film titles  - case, accents, punctuation, "&" vs "and", a leading article
  ("The", "A", "An") or a trailing ", The", optionally roman numerals ("Part II" = "Part 2");
* person names - case, accents, punctuation ("Melvin Metcalfe, Sr." = "Melvin Metcalfe Sr.");
* category names - the same category is spelled differently by era and by site
  ("Actor" / "Actor in a Leading Role" / "Best Performance by an Actor in a Leading Role").
  `canonical_category` maps every known spelling to one display name; unknown texts
  (festival categories) come back cleaned but otherwise unchanged.

Fuzzy scores come from rapidfuzz (0..100), never from hand-written similarity code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

# The helpers below are pure and take strings: they are memoised (lru_cache) because category
# pairing compares the same few thousand strings millions of times per backfill.

__all__ = [
    "best_title_score",
    "canonical_category",
    "category_key",
    "category_similarity",
    "fold",
    "name_in_text",
    "normalize_category",
    "normalize_name",
    "normalize_title",
    "title_similarity",
]

# Letters NFKD does not decompose into a base letter plus a combining mark.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o",
        "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
        "\u0131": "i",  # dotless i
    }
)
_APOSTROPHES = re.compile("['\u2019\u2018`\u00b4\u02bc]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an)\s*$", re.IGNORECASE)
_LEADING_ARTICLES = ("the ", "a ", "an ")
_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}


@functools.lru_cache(maxsize=200_000)
def fold(text: str | None) -> str:
    """Lower-case ASCII form: accents removed, "&" -> "and", punctuation -> spaces.

    Apostrophes vanish without a space ("Doesn't" -> "doesnt", "d'Or" -> "dor").
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _roman_to_int(token: str) -> int | None:
    """Value of a roman numeral token of at least two letters up to 39, else None."""
    if len(token) < 2 or not _ROMAN.match(token):
        return None
    total = 0
    previous = 0
    for ch in reversed(token):
        value = _ROMAN_VALUES[ch]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


@functools.lru_cache(maxsize=200_000)
def normalize_title(title: str | None, *, roman: bool = True) -> str:
    """Comparable form of a film title: folded, without a leading/trailing article.

    ``roman=True`` also turns roman numerals of two or more letters into digits
    ("The Godfather Part II" and "The Godfather: Part 2" both give "godfather part 2").
    """
    if not title:
        return ""
    text = title.strip()
    match = _TRAILING_ARTICLE.search(text)
    if match:
        text = f"{match.group(1)} {text[: match.start()]}"
    text = fold(text)
    for article in _LEADING_ARTICLES:
        if text.startswith(article) and len(text) > len(article):
            text = text[len(article):]
            break
    if roman:
        tokens = []
        for token in text.split():
            value = _roman_to_int(token)
            tokens.append(str(value) if value is not None else token)
        text = " ".join(tokens)
    return text


@functools.lru_cache(maxsize=200_000)
def normalize_name(name: str | None) -> str:
    """Comparable form of a person or company name (folded)."""
    return fold(name)


@functools.lru_cache(maxsize=200_000)
def title_similarity(a: str | None, b: str | None) -> float:
    """0..100: how alike two film titles are after normalisation."""
    na, nb = normalize_title(a), normalize_title(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 100.0
    return max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb))


def best_title_score(titles: Iterable[str], others: Iterable[str]) -> float:
    """Highest `title_similarity` between any title of one list and any of the other."""
    others = list(others)
    return max((title_similarity(a, b) for a in titles for b in others), default=0.0)


@functools.lru_cache(maxsize=200_000)
def name_in_text(name: str | None, text: str | None) -> float:
    """0..100: how well a person name occurs inside a credit text.

    Credit texts on oscars.org carry several names and roles ("Art Direction: Richard
    Sylbert, W. Stewart Campbell; Set Decoration: Ruby Levitt"), so the name is searched
    as a substring (rapidfuzz partial ratio on whole tokens); very short names must occur
    as whole tokens.
    """
    nn, nt = normalize_name(name), normalize_name(text)
    if not nn or not nt:
        return 0.0
    if f" {nn} " in f" {nt} ":
        return 100.0
    if len(nn) < 5:
        return 0.0
    return fuzz.partial_ratio(nn, nt)


# ---------------------------------------------------------------------------
# categories
# ---------------------------------------------------------------------------

_CATEGORY_BOILERPLATE = re.compile(
    r"^(best |outstanding )?(achievement in |performance by an? |performance in an? )?"
)


@functools.lru_cache(maxsize=200_000)
def normalize_category(text: str | None) -> str:
    """Folded category text without the "Best" / "Best Achievement in" /
    "Best Performance by an" prefixes IMDb adds."""
    folded = fold(text)
    stripped = _CATEGORY_BOILERPLATE.sub("", folded, count=1)
    return stripped or folded


def _has(text: str, *words: str) -> bool:
    return any(re.search(rf"\b{w}\b", text) for w in words)


def _colour(text: str) -> str:
    """" (Black-and-White)" / " (Color)" qualifier of crafts split by film stock."""
    if _has(text, "black and white or color", "color or black and white"):
        return ""
    if _has(text, "black and white"):
        return " (Black-and-White)"
    if _has(text, "color", "colour"):
        return " (Color)"
    return ""


_SPECIAL_RULES: tuple[tuple[str, str], ...] = (
    (r"\bthalberg\b", "Irving G. Thalberg Memorial Award"),
    (r"\bhersholt\b", "Jean Hersholt Humanitarian Award"),
    (r"\bsawyer\b", "Gordon E. Sawyer Award"),
    (r"\bbonner\b", "John A. Bonner Medal of Commendation"),
    (r"\bmedal of commendation\b", "Medal of Commendation"),
    (r"\baward of commendation\b", "Award of Commendation"),
    (r"\bspecial foreign language film award\b", "Special Foreign Language Film Award"),
    (r"\bhonorary foreign language film\b", "International Feature Film"),
    (r"\b(academy award of merit|class i)\b", "Academy Award of Merit"),
    (r"\b(scientific and engineering award|class ii)\b", "Scientific and Engineering Award"),
    (r"\b(technical achievement award|class iii)\b", "Technical Achievement Award"),
    (r"^scientific (and|or) technical award( special award)?$", "Scientific and Technical Award"),
    (r"^honorary award$", "Honorary Award"),
    (r"^special award$", "Special Award"),
)


def _acting(text: str) -> str | None:
    female = _has(text, "actress", "actresses", "female")
    male = _has(text, "actor", "actors", "male")
    if not (female or male):
        return None
    who = "Actress" if female else "Actor"
    role = "Supporting" if _has(text, "supporting") else "Leading"
    return f"{who} in a {role} Role"


def _writing(text: str) -> str | None:
    if not _has(text, "writing", "screenplay", "story", "adaptation", "written"):
        return None
    if _has(text, "title writing", "titles"):
        return "Writing (Title Writing)"
    if _has(text, "original story", "motion picture story", "original motion picture story"):
        return "Writing (Original Story)"
    if _has(text, "story and screenplay", "directly for the screen", "original screenplay",
            "screenplay original", "not previously"):
        return "Writing (Original Screenplay)"
    if _has(text, "writing", "screenplay", "adaptation"):
        return "Writing (Adapted Screenplay)"
    return None


def _music(text: str) -> str | None:
    if not _has(text, "music", "score", "scoring", "song"):
        return None
    if _has(text, "song") and not _has(text, "song score"):
        return "Music (Original Song)"
    if _has(text, "dramatic", "not a musical"):
        return "Music (Original Score)"
    if _has(text, "adaptation", "song score", "musical", "treatment") or text in ("music scoring", "music score"):
        return "Music (Original Song Score or Adaptation Score)"
    if _has(text, "score", "scoring"):
        return "Music (Original Score)"
    return None


def _shorts_and_features(text: str) -> str | None:
    short = _has(text, "short", "shorts")
    if _has(text, "documentary", "documentaries"):
        return "Documentary Short Film" if short else "Documentary Feature Film"
    if _has(text, "foreign language film", "international feature", "international feature film"):
        return "International Feature Film"
    if short and _has(text, "animated", "cartoon", "cartoons", "animation"):
        return "Animated Short Film"
    if short and _has(text, "live action"):
        return "Live Action Short Film"
    if _has(text, "animated feature"):
        return "Animated Feature Film"
    kinds = {"one reel": "One-reel", "two reel": "Two-reel", "comedy": "Comedy", "novelty": "Novelty",
             "color": "Color"}
    if _has(text, "short subject", "short subjects"):
        for key, label in kinds.items():
            if _has(text, key):
                return f"Short Subject ({label})"
    return None


def _crafts(text: str) -> str | None:
    if _has(text, "sound effects editing", "sound editing", "sound effects"):
        return "Sound Editing"
    if _has(text, "sound", "sound mixing", "sound recording"):
        return "Sound"
    if _has(text, "effects"):
        return "Visual Effects"
    if _has(text, "cinematography"):
        return "Cinematography" + _colour(text)
    if _has(text, "art direction", "production design", "interior decoration", "set decoration"):
        return "Production Design" + _colour(text)
    if _has(text, "costume", "costume design"):
        return "Costume Design" + _colour(text)
    if _has(text, "makeup", "make up"):
        return "Makeup and Hairstyling"
    if _has(text, "film editing", "editing"):
        return "Film Editing"
    if _has(text, "casting"):
        return "Casting"
    if _has(text, "dance direction"):
        return "Dance Direction"
    if _has(text, "assistant director"):
        return "Assistant Director"
    return None


def _picture(text: str) -> str | None:
    if _has(text, "unique and artistic"):
        return "Unique and Artistic Picture"
    if re.fullmatch(r"(picture|motion picture|production|picture production|motion picture of the year|"
                    r"outstanding (picture|production|motion picture))", text):
        return "Best Picture"
    return None


def _directing(text: str) -> str | None:
    if not _has(text, "directing", "director", "direction") or _has(text, "assistant director", "dance direction",
                                                                     "art direction"):
        return None
    if _has(text, "comedy"):
        return "Directing (Comedy Picture)"
    if _has(text, "dramatic", "drama"):
        return "Directing (Dramatic Picture)"
    return "Directing"


@functools.lru_cache(maxsize=200_000)
def canonical_category(text: str | None) -> str | None:
    """Canonical display name of an Academy Awards category in any era or site
    spelling, or None when the text is not a known Academy category.

    >>> canonical_category("Best Performance by an Actor in a Leading Role")
    'Actor in a Leading Role'
    >>> canonical_category("Writing (Screenplay—Adapted)")
    'Writing (Adapted Screenplay)'
    """
    folded = fold(text)
    if not folded:
        return None
    if folded.startswith("special achievement award"):
        craft = _crafts(folded[len("special achievement award"):].strip())
        return f"Special Achievement Award ({craft})" if craft else "Special Achievement Award"
    for pattern, name in _SPECIAL_RULES:
        if re.search(pattern, folded):
            return name
    stripped = normalize_category(text)
    for rule in (_picture, _acting, _directing, _crafts, _shorts_and_features, _music, _writing):
        found = rule(stripped)
        if found:
            return found
    return None


def category_key(text: str | None) -> str:
    """Key for comparing category names: the folded canonical name when known,
    else the folded text without IMDb's prefixes."""
    canonical = canonical_category(text)
    return fold(canonical) if canonical else normalize_category(text)


@functools.lru_cache(maxsize=200_000)
def category_similarity(a: str | None, b: str | None) -> float:
    """0..100: 100 when both names have the same canonical category, else a fuzzy
    token score of the names without IMDb's "Best ..." prefixes (a canonical
    mismatch between two known categories caps the score at 40)."""
    ca, cb = canonical_category(a), canonical_category(b)
    if ca and cb:
        if ca == cb:
            return 100.0
        return min(40.0, fuzz.token_set_ratio(normalize_category(a), normalize_category(b)))
    na, nb = normalize_category(a), normalize_category(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 100.0
    return max(fuzz.token_set_ratio(na, nb) * 0.9, fuzz.ratio(na, nb))
