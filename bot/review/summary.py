"""The extractive summary of a flagged item. Pure: strings and terms in, one string out.

Steps, in order:
1. body — the article text when there is one, else the feed text; markup is removed and
   entities decoded, paragraphs kept (`bot.text.clean.plain_text`: feed text is usually clean
   already, but `summarize` input need not be);
2. split — into sentences (`bot.review.sentences`), paragraph breaks included;
3. drop — boilerplate sentences (the furniture list of `bot.text.clean`: "The post … appeared
   first on …", "Read more", "[…]", and their Russian, Azerbaijani and Persian twins) and leading
   sentences that only repeat the title;
4. pick — the lead sentence, then every sentence that carries one of the matched terms (folded
   and matched as the topic matcher does: whole words, `*` stems, phrases), in reading order,
   skipping any that would not fit in `limit` characters with the ones already taken;
5. cut — a lead sentence longer than `limit` is cut at a word end and ends with "…"
   (`bot.text.cut.cut_at_word`: text without spaces, such as Chinese, is cut between graphemes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.models import TopicMatch
from bot.review.sentences import split_sentences
from bot.text.clean import CUT_EXCERPT, FOOTERS, READ_MORE, plain_text
from bot.text.cut import cut_at_word
from bot.topics.folding import normalize, tokenize
from bot.topics.index import Word
from bot.topics.matcher import parse_term

DEFAULT_LIMIT = 300
# A sentence that is feed furniture, from the one list in `bot.text.clean`.
_FURNITURE = re.compile(
    "^(?:"
    + "|".join(rf"{re.escape(start)}\b.*\b{re.escape(words)}\b" for start, words in FOOTERS)
    + "".join(rf"|{re.escape(phrase)}(?!\w)" for phrase in READ_MORE)
    + rf"|\[?{CUT_EXCERPT}\]?$"
    + ")",
    re.IGNORECASE,
)


def summarize(
    *,
    title: str,
    summary: str,
    text: str | None = None,
    terms: Iterable[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> str:
    """The lead sentence plus the sentences carrying `terms`, in order, within `limit` characters.

    `summary` is the feed's text and `text` the article's (preferred when not empty); `terms` are
    configured topic terms ("Iran*", "Azerbaijan", "South Caucasus"). Empty when there is no text.
    """
    if limit <= 0:
        return ""
    body = strip_markup(text) if text and text.strip() else ""
    if not body:
        body = strip_markup(summary)
    sentences = _sentences(body, title)
    if not sentences:
        return ""
    lead = sentences[0]
    if len(lead) > limit:
        return cut_at_word(lead, limit)
    patterns = _patterns(terms)
    chosen, used = [lead], len(lead)
    for sentence in sentences[1:]:
        if used + 1 + len(sentence) <= limit and _carries(sentence, patterns):
            chosen.append(sentence)
            used += 1 + len(sentence)
    return " ".join(chosen)


def matched_terms(matches: Sequence[TopicMatch]) -> list[str]:
    """The distinct configured terms behind `matches`' hits, in first-seen order."""
    return list(dict.fromkeys(hit.term for match in matches for hit in match.hits))


def strip_markup(text: str) -> str:
    """Plain text of possibly marked-up text, paragraphs kept (`bot.text.clean.plain_text`)."""
    return plain_text(text, paragraphs=True)


def _sentences(body: str, title: str) -> list[str]:
    sentences = [" ".join(s.split()) for s in split_sentences(body)]
    sentences = [s for s in sentences if s and not _FURNITURE.search(s)]
    folded_title = normalize(title)
    # Article text often opens with the headline; it says nothing the message does not.
    while sentences and folded_title and normalize(sentences[0]) == folded_title:
        sentences.pop(0)
    return sentences


def _patterns(terms: Iterable[str]) -> list[tuple[Word, ...]]:
    patterns = []
    for term in dict.fromkeys(terms):
        try:
            patterns.append(parse_term(term))
        except ValueError:
            continue  # a term the matcher could not use either
    return patterns


def _carries(sentence: str, patterns: Sequence[tuple[Word, ...]]) -> bool:
    """True when a pattern's words stand in `sentence` one after another."""
    if not patterns:
        return False
    words = [t.norm for t in tokenize(sentence)]
    for pattern in patterns:
        size = len(pattern)
        for i in range(len(words) - size + 1):
            if all(_word_matches(words[i + k], pattern[k]) for k in range(size)):
                return True
    return False


def _word_matches(word: str, expected: Word) -> bool:
    norm, stem = expected
    return word.startswith(norm) if stem else word == norm
