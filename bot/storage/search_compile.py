"""A parsed query (`bot.models.SearchQuery`) in each backend's own full-text syntax.

No I/O. The index holds folded words (see `bot.storage.search_index`), and the query's words
arrive folded and stemmed, so both sides compare like for like:
- SQLite FTS5 MATCH: words are quoted strings (`"мост"`, a prefix stem `"мост"*`), a phrase
  joins them with `+`, a clause ORs its phrases, every clause is limited to the title and body
  columns (`{title body} : …`), the filters to the meta column, and exclusions follow a NOT;
- PostgreSQL tsquery: lexemes in quotes with weights (`'мост':*AB`: a prefix in title or body),
  `<->` inside a phrase, `|` inside a clause, `&` between clauses, `!` before an exclusion, and
  the filters as weight-D meta lexemes.
"""

from __future__ import annotations

import itertools

from bot.models import SearchPhrase, SearchQuery, SearchWord
from bot.storage.search_pairs import phrase_pairs


def source_token(source_id: str) -> str:
    """The meta word standing for a source (hex, so any id is one ASCII word)."""
    return "s" + source_id.encode().hex()


def lang_token(lang: str) -> str:
    """The meta word standing for a language code."""
    return "lang" + lang.encode().hex()


def _meta(query: SearchQuery) -> list[list[str]]:
    groups = []
    if query.sources:
        groups.append([source_token(s) for s in query.sources])
    if query.langs:
        groups.append([lang_token(code) for code in query.langs])
    return groups


# --- SQLite FTS5 -------------------------------------------------------------------------------


def _fts_string(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_word(word: SearchWord, *, alone: bool) -> str:
    if word.prefix:
        return _fts_string(word.forms[0]) + "*"
    if alone and len(word.forms) > 1:
        return "(" + " OR ".join(_fts_string(f) for f in word.forms) + ")"
    return _fts_string(word.forms[0])


def _fts_phrase(phrase: SearchPhrase) -> str:
    alone = len(phrase.words) == 1
    if alone or any(w.prefix for w in phrase.words):
        return " + ".join(_fts_word(w, alone=alone) for w in phrase.words)
    # Whole words with several forms (prefixes spelled out by `search_words.expand`): FTS5 has
    # no alternatives inside a phrase, so every spelling is a phrase of its own.
    spellings = itertools.product(*(w.forms for w in phrase.words))
    joined = [" + ".join(_fts_string(f) for f in spelling) for spelling in spellings]
    return joined[0] if len(joined) == 1 else "(" + " OR ".join(joined) + ")"


def _fts_clause(phrases: tuple[SearchPhrase, ...]) -> str:
    return "{title body} : (" + " OR ".join(_fts_phrase(p) for p in phrases) + ")"


def fts_match(query: SearchQuery) -> str:
    """The FTS5 MATCH expression of the query."""
    parts = [_fts_clause(c) for c in query.clauses]
    parts += [
        "meta : (" + " OR ".join(_fts_string(t) for t in group) + ")" for group in _meta(query)
    ]
    expr = "(" + " AND ".join(parts) + ")"
    if query.exclude:
        expr += " NOT (" + " OR ".join(_fts_clause((p,)) for p in query.exclude) + ")"
    return expr


# --- PostgreSQL tsquery ------------------------------------------------------------------------


def _ts_lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_word(word: SearchWord, *, alone: bool) -> str:
    if word.prefix:
        return _ts_lexeme(word.forms[0]) + ":*AB"
    forms = word.forms if alone else word.forms[:1]
    inner = " | ".join(_ts_lexeme(f) + ":AB" for f in forms)
    return f"( {inner} )" if len(forms) > 1 else inner


def _ts_phrase(phrase: SearchPhrase, *, pairs: bool = True) -> str:
    alone = len(phrase.words) == 1
    words = "( " + " <-> ".join(_ts_word(w, alone=alone) for w in phrase.words) + " )"
    keyed = phrase_pairs(phrase) if pairs and not alone else None
    if not keyed:
        return words
    # The pair keys let the GIN index find where the words stand together (search_pairs).
    keys = [" | ".join(_ts_lexeme(k) for k in options) for options in keyed]
    return "( " + words + " & " + " & ".join(f"( {k} )" for k in keys) + " )"


def tsquery(query: SearchQuery, *, keys: bool = True) -> str:
    """The tsquery text of the query (cast with `::tsquery`, never parsed by a dictionary);
    `keys=False` leaves the phrases' word-pair keys out (the same matches, found slower)."""
    parts = [
        "( " + " | ".join(_ts_phrase(p, pairs=keys) for p in clause) + " )"
        for clause in query.clauses
    ]
    parts += ["( " + " | ".join(_ts_lexeme(t) + ":D" for t in g) + " )" for g in _meta(query)]
    parts += ["!" + _ts_phrase(p, pairs=False) for p in query.exclude]  # keys cannot rule out
    return " & ".join(parts)


def pair_keys(query: SearchQuery) -> str | None:
    """A tsquery of the word-pair keys every match of the query holds (`search_pairs`); None
    when no clause can be narrowed (each has a phrase of one word, or one without keys)."""
    parts = []
    for clause in query.clauses:
        options = []
        for phrase in clause:
            keyed = phrase_pairs(phrase) if len(phrase.words) > 1 else None
            if not keyed:
                break
            groups = [" | ".join(_ts_lexeme(k) for k in keys) for keys in keyed]
            options.append(" & ".join(f"( {g} )" for g in groups))
        else:
            parts.append("( " + " | ".join(f"( {o} )" for o in options) + " )")
    return " & ".join(parts) or None
