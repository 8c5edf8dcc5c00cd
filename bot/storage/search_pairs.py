"""Word-pair keys in PostgreSQL's search documents: what lets its GIN index answer a phrase.

A tsvector's GIN index knows which documents hold a word, not where: for `"a b"` PostgreSQL
finds every document with both words and reads each one's positions from the table. For two
common words that rarely stand together that is tens of thousands of rows read for a page of ten
(150–350 ms at 1,000,000 items), whichever plan it picks. So every document also holds, without
positions, one key per pair of neighbouring words: the first four letters of each, joined by
`~` and led by one ("~погр~реку" for "пограничную реку"; three letters for a word in Arabic
script, whose stems may be that short). No word holds a `~`, so no word or prefix of a query
ever matches a key (a key that matched `'дрон':*` would also upset PostgreSQL's phrase check,
as keys have no positions). A phrase query asks for its
pairs' keys besides the phrase: the index then narrows to the few documents where such words
stand together, and only those are read. The key is a necessary condition, never a sufficient
one (the phrase itself is still checked), so nothing is lost:
- a query word is a prefix stem (`bot.review.searchwords`: at least four letters, three in
  Arabic script) or whole words, and a stored word it matches starts with the same letters, so
  it has the same key (a short whole word is its own key); a stem shorter than its key gives
  its phrase no keys;
- the pairs are computed by `search_pairs(tsvector)` in the database from the document's own
  positions, so they follow PostgreSQL's tokens exactly, article text included.

SQLite needs none of this: FTS5 keeps positions in its index.
"""

from __future__ import annotations

import itertools

from sqlalchemy import Connection, text

from bot.models import SearchPhrase, SearchWord

KEY_LETTERS = 4  # 3 for a word that starts in Arabic script; FUNCTION below spells these out
ARABIC_KEY_LETTERS = 3
SEPARATOR = "~"
_ARABIC = ("\u0600", "\u06ff"), ("\u0750", "\u077f")

# Neighbouring positions of the document (title, body and meta words alike: a pair that no
# phrase can ask for costs only its key), as keys without positions.
FUNCTION = """
CREATE OR REPLACE FUNCTION search_pairs(doc tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH words AS (
    SELECT left(lexeme, CASE WHEN left(lexeme, 1) ~ '[\u0600-\u06ff\u0750-\u077f]'
                               THEN 3 ELSE 4 END) AS key, pos
    FROM unnest(doc) AS u(lexeme, positions, weights), unnest(positions) AS pos
  )
  SELECT coalesce(array_to_tsvector(array_agg(DISTINCT '~' || a.key || '~' || b.key)), '')
  FROM words a JOIN words b ON b.pos = a.pos + 1
$$
"""


def add_pairs(conn: Connection) -> int:
    """Give every stored document its pair keys (a migration's job); how many documents."""
    conn.execute(text(FUNCTION))
    done = conn.execute(text("UPDATE search_docs SET doc = doc || search_pairs(doc)"))
    return int(done.rowcount or 0)


def key_letters(word: str) -> int:
    """How many letters of a word make its key (as FUNCTION counts them)."""
    first = word[:1]
    return ARABIC_KEY_LETTERS if any(lo <= first <= hi for lo, hi in _ARABIC) else KEY_LETTERS


def word_keys(word: SearchWord) -> list[str] | None:
    """The keys a stored word matching `word` has; None when a prefix is shorter than its key."""
    if word.prefix:
        stem = word.forms[0]
        return [stem[: key_letters(stem)]] if len(stem) >= key_letters(stem) else None
    return list(dict.fromkeys(form[: key_letters(form)] for form in word.forms))


def phrase_pairs(phrase: SearchPhrase) -> list[list[str]] | None:
    """For each pair of neighbouring words of the phrase, the pair keys one of which a matching
    document holds; None when some word has no keys."""
    keys = [word_keys(w) for w in phrase.words]
    if any(k is None for k in keys):
        return None
    return [
        [SEPARATOR + a + SEPARATOR + b for a, b in itertools.product(x or (), y or ())]
        for x, y in itertools.pairwise(keys)
    ]
