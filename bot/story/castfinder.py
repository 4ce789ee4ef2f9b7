"""Finding a story's cast when nobody wrote a cast file.

Speakers are named next to speech verbs ("Gaara said", "said Lee"), so capitalised words in
those places, seen more than once and also capitalised in the middle of sentences (so not just
"Then" or "Well" at a sentence start), are the candidates. Forms of one name are merged (a full
name and its parts, honorific forms like "Lee-san"), and a pronoun is guessed from the he/she
words that follow the name's mentions. The result is a draft for a human to review.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import replace

from bot.story.attribution import HONORIFICS
from bot.story.model import Character
from bot.story.quotes import _VERB_ALT, _VERB_RE, word_alternation

# titles and ranks written before a name ("Mr. Knightley", "M. Riviere", "Inspector Ratcliffe")
_TITLES = (r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Lady|Lord|Madame|Madam|Mme|Monsieur|M(?=\.)|Mademoiselle|Mlle|Captain|"
           r"Professor|Aunt|Uncle|Colonel|General|Admiral|Major|Inspector|Doctor|Count|Countess|Baron|Baroness|"
           r"Marquis|Reverend|Rev|Signor|Signora|Herr|Frau|Comrade|Sergeant|Lieutenant|Judge)")
_TITLE_WORD = re.compile(_TITLES.replace("M(?=\\.)", "M") + r"\.?")
_CAP = re.compile(r"(?<![\w'’-])((?:" + _TITLES + r"\.?\s)?[A-Z][a-z'’]+(?:[ ][A-Z][a-z'’]+)?)(?:-("
                  + "|".join(HONORIFICS) + r"))?(?![\w-])")
_CAPWORD = re.compile(r"(?<![\w'’-])[A-Z][a-z'’]+(?![\w-])")
_STOP = frozenset("""
the then but and he she it they i we you what why how when where who whom whose which yes no oh ah
well now so if this that there here his her their my your our its a an as at in on of for with mr mrs
miss ms sir lady lord god okay ok not just all even still after before finally suddenly instead maybe
perhaps please thank thanks hey hi hello sorry good come go let dont don’t can’t cant im i’m i'm
one two three some any every each both neither either none nothing something everything someone
everyone anyone nobody really very too also only again yet or nor because since while until though
although unless whether once soon later never always sometimes often quietly softly slowly quickly
said asked replied look listen wait stop right sure fine great what’s that’s it’s there’s he’s
she’s we’re they’re you’re i’ll we’ll let’s don’t didn’t won’t wasn’t isn’t aren’t couldn’t
wouldn’t shouldn’t hadn’t hasn’t haven’t man woman boy girl sensei kun san chan sama dear mom dad
mother father brother sister uncle aunt grandma grandpa chapter part end note author disclaimer
meanwhile somewhere somehow anyway besides behind beside above below across outside inside
later earlier tonight today tomorrow yesterday morning evening night suddenly slowly carefully
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december english french god lord heaven hell christmas
to indeed certainly nay pray such these those enough rubbish do hullo gracious i've i’ve i'd i’d mais
people comrades gentlemen ladies sirs diary poor you'll you’ll council esq esquire
""".split())
_CUT = re.compile(r"[“\"‘]|(?<![\w'’-])(?!(?:He|She|His|Her|Hers|Him|It|Its|They|Their|The|A|An|But|And|Then|"
                  r"When|As|So|If|In|On|At|With)\b)[A-Z][a-z]+(?![\w-])")
_PAIR = re.compile(r"(?<![\w'’-])([A-Z][a-z'’]+) ([A-Z][a-z'’]+)(?![\w'’-])")
_VOCATIVE = re.compile(r"(?:[“\"‘]|,\s|\bdear\s)((?:" + _TITLES + r"\.?\s)?[A-Z][a-z'’]+(?: [A-Z][a-z'’]+)?)(?:-(?:"
                       + "|".join(HONORIFICS) + r"))?(?=[,.!?…]\s*[”\"’]?)")
_TITLE_PRONOUN = {t: "she/her" for t in ("mrs", "miss", "ms", "lady", "madame", "madam", "mademoiselle", "aunt",
                                          "mme", "mlle", "countess", "baroness", "signora", "frau")}
_TITLE_PRONOUN.update({t: "he/him" for t in ("mr", "sir", "lord", "monsieur", "uncle", "m", "count", "baron",
                                             "marquis", "signor", "herr")})
_HE_SHE = re.compile(r"(?<![\w'’])(?:he|him|his|himself|she|her|hers|herself)(?![\w'’])", re.I)
_TITLE_BEFORE = re.compile(r"(?<![\w'’])(" + "|".join(_TITLE_PRONOUN) + r")\.?\s+$", re.I)
_TITLE_AT = re.compile(r"(" + "|".join(_TITLE_PRONOUN) + r")\.?\s", re.I)
# "her knee" (hers), not "told her the truth" / "at her." (someone else)
_POSSESSIVE_NEXT = re.compile(r" (?!(?:and|or|but|to|as|that|the|a|an|in|on|at|with|for|from|by|of|up|down|out|off|"
                              r"away|back|again|so|then|if|was|is|when|while|what|how|it|this|all|very|too|now|"
                              r"once|never|not|into|about|over|no|some|any|there|here|he|she|they|i|you|we)\b)[a-z]")
_NEXT_TAG = re.compile(r"([^\"“”\n]{0,60})[\"“][^\"“”\n]{1,400}[\"”][ \t]*,?[ \t]*(he|she|He|She)[ \t]+(?:"
                       + _VERB_ALT + r")(?![\w'’-])")
_SENTENCE_END = re.compile(r"[.!?;]+[\"”’']?\s+(?:(?:He|She|His|Her)(?![\w'’])|(?=\S))")
_HE_WORDS = frozenset(("he", "him", "his", "himself"))
_TAG_NEXT = re.compile(r"\s+(?:" + _VERB_ALT + r")(?![\w'’-])")


_MONTHS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august",
                     "september", "october", "november", "december"})


def _ok(word: str) -> bool:
    words = word.replace(".", "").split()
    if len(words) > 1 and _TITLE_WORD.fullmatch(words[0]):
        words = words[1:]
    if len(words) > 1 and words[-1].lower() in ("man", "woman", "boy", "girl", "lady", "gentleman"):
        words = words[:-1]  # "the Invisible Man", "the Old Lady"
    if len(words) > 1:  # "the March Hare", "May Welland": a month word inside a longer name
        words = [w for w in words if w.lower() not in _MONTHS] or words
    return all(w.lower().replace("'", "’") not in _STOP and w.lower() not in _STOP for w in words)


_META_LINE = re.compile(r"^[ \t]*(Characters?|Relationships?|Pairings?)[ \t]*:[ \t]*(.*)$", re.M | re.I)
_FFN_RATED = re.compile(r"^[ \t]*Rated:[ \t]*(.*)$", re.M)
_FFN_GENRES = frozenset("""romance humor drama poetry adventure mystery horror parody angst supernatural
suspense sci-fi fantasy spiritual tragedy western crime family hurt/comfort friendship general""".split())
_META_SKIP = re.compile(r"\b(?:characters?|reader|you|ofc|omc|oc|original|other|others|everyone)\b", re.I)
_ARTICLE = re.compile(r"(?<![\w'’])(?:the|a|an)\s*$", re.I)
_QUOTE_NEXT = re.compile(r"[ \t]*[,:]?[ \t]*[“\"‘]")
_QUOTE_END = re.compile(r"[,.!?…—–-]?[”\"’'][ \t]*$")
_ACTION_OPEN = re.compile(r"^[ \t]*(?:[A-Z][a-z]+[ \t]+)?([A-Z][a-z'’]+)[ \t]+[a-z]+[^\n“\"]{0,200}[“\"]", re.M)
_SHORT_TEXT = 20_000  # characters: in a short story one speech tag is enough evidence of a name


def metadata_names(text: str, notes: tuple[tuple[int, int], ...]) -> list[str]:
    """Character names an archive's preface lists: AO3 "Characters:" / "Relationships:"
    (A/B, A & B), FFN's "Rated: … - Genre - A, B - Words: …" line. Only inside `notes` spans
    (the preface the reader marked as metadata), so story text is never read as metadata."""
    out: list[str] = []
    for a, b in notes:
        chunk = text[a:b]
        values: list[str] = []
        for m in _META_LINE.finditer(chunk):
            v = m.group(2).strip()
            if not v:  # the value on the next non-empty line (AO3 <dt>/<dd> read as lines)
                rest = chunk[m.end() :].lstrip("\n \t")
                v = rest.split("\n", 1)[0].strip()
                if v.endswith(":"):
                    continue
            values.append(v)
        for m in _FFN_RATED.finditer(chunk):
            parts = [x.strip() for x in m.group(1).split(" - ")]
            for x in parts[2:]:
                if re.match(r"(?:Chapters|Words|Reviews|Favs|Follows|Updated|Published|Status|id)\s*:", x):
                    break
                if all(g.lower() in _FFN_GENRES for g in x.split("/")):
                    continue
                values.append(x.replace("[", ",").replace("]", ","))
        for v in values:
            for name in re.split(r"\s*(?:[,;/&|]|\band\b)\s*", v):
                name = re.sub(r"\s*\([^)]*\)", "", name).strip(" .")
                words = name.split()
                if len(words) >= 2 and re.fullmatch(r"[A-Z]\.?", words[-1]):  # FFN "Harry P."
                    words = words[:-1]
                if (1 <= len(words) <= 4 and all(w[:1].isupper() for w in words)
                        and not _META_SKIP.search(name) and _ok(" ".join(words))):
                    n = " ".join(words)
                    if n not in out:
                        out.append(n)
    return out


_THE_BEFORE = re.compile(r"(?<![\w'’])[Tt]he\s+$")
_LINE_BREAK = re.compile(r"(?<=\S)[ \t]*\n[ \t]*(?=\S)")
# words before a place name ("in Highbury", "at Bath", "from London"), rarely before a person's
_PLACE_BEFORE = re.compile(r"(?<![\w'’])(?:in|at|from|near|into|through|towards|toward|around)\s*$")


def find_cast(text: str, *, limit: int = 30, hints: list[str] | tuple[str, ...] = ()) -> list[Character]:
    """`hints`: names known from the file's metadata (see `metadata_names`): always candidates."""
    # hard-wrapped lines joined (paragraph breaks kept): a name broken across a line
    # ("Mr.\nKnightley", "John\nKnightley") is one name, and never holds a line break
    text = _LINE_BREAK.sub(" ", text)
    tagged: defaultdict[str, float] = defaultdict(float)  # a vocative weighs half a speech tag
    strong: Counter[str] = Counter()  # tags right after a closing quote mark
    for h in hints:
        tagged[h] += 2
    for v in _VERB_RE.finditer(text):
        before = text[max(0, v.start() - 40) : v.start()]
        m = None
        for m_ in _CAP.finditer(before):
            m = m_
        if m is not None and m.end() >= len(before) - 1 and _ok(m.group(1)):
            tagged[m.group(1)] += 1
            if _QUOTE_END.search(before, 0, m.start()) or _QUOTE_NEXT.match(text, v.end()):
                strong[m.group(1)] += 1  # ’?” Corra asked’ / Corra asked, “…”
        after = text[v.end() : v.end() + 40]
        after = after.lstrip(" ")
        if after.startswith("the ") and after[4:5].isupper():
            after = after[4:]  # "said the Hatter"
        m2 = _CAP.match(after)
        if m2 and _ok(m2.group(1)):
            tagged[m2.group(1)] += 1
            if _QUOTE_END.search(before):  # ’,” said Wyn’
                strong[m2.group(1)] += 1
    # people spoken to ("Watson, …", "…, my dear Watson."): the first-person narrator is often
    # named only like this
    voc: Counter[str] = Counter()
    voc_mid: Counter[str] = Counter()
    for m in _VOCATIVE.finditer(text):
        if _ok(m.group(1)):
            tagged[m.group(1)] += 0.5
            voc[m.group(1)] += 1
            if m.group(0)[:1] == ",":
                voc_mid[m.group(1)] += 1  # "…, Watson." (an interjection opens speech: "Oui, …")
    # a short story's action beats: "Jessop laughed. “Nobody's paid…”" -- a name opening a
    # paragraph that has a quote in it, followed by a lowercase verb
    if len(text) < _SHORT_TEXT:
        for m in _ACTION_OPEN.finditer(text):
            if _ok(m.group(1)) and not m.group(1).endswith(("'s", "’s")):
                tagged[m.group(1)] += 0.5
                strong[m.group(1)] += 1
    # "Mr. Rochester", "Mrs. Fairfax": a title marks a person even when no tag names them
    titled: Counter[str] = Counter()
    caps = list(_CAP.finditer(text))  # (one pass over the text serves both counts below)
    for m in caps:
        word = m.group(1)
        if " " in word and _TITLE_WORD.fullmatch(word.split()[0]) and _ok(word):
            titled[word] += 1
    for word, n in titled.items():
        if n >= 2 and word not in tagged:
            tagged[word] += 0.5
    if not tagged:
        return []
    hinted = set(hints)
    mid: Counter[str] = Counter()  # capitalised in the middle of a sentence
    lower: Counter[str] = Counter()  # right after a lowercase word: "to Emma", not "Oui, monsieur"
    alone: Counter[str] = Counter()  # the form written on its own, not as part of a longer one
    total: Counter[str] = Counter()
    thing: Counter[str] = Counter()
    place: Counter[str] = Counter()
    called_the: Counter[str] = Counter()  # "the Hatter", "The Hatter"
    honor: dict[str, set[str]] = defaultdict(set)
    wanted = set(tagged)
    wanted_parts = {p for w in wanted for p in w.split()}
    relevant = wanted | wanted_parts
    for m in caps:
        word = m.group(1)
        if " " in word:
            seen_forms = [f for f in (word, *word.split()) if f in relevant]
        elif word in relevant:
            seen_forms = [word]
        else:
            continue
        # what comes before the word is the same for every form of it: looked at once
        j = m.start() - 1
        while j >= 0 and text[j] == " ":
            j -= 1
        the_before = _THE_BEFORE.search(text, max(0, m.start() - 5), m.start()) is not None
        is_mid = j >= 0 and (text[j].isalpha() or text[j] == ",")
        is_lower = is_thing = is_place = False
        if is_mid:
            is_lower = text[j].islower()
            art = _ARTICLE.search(text, max(0, j - 4), j + 1)
            is_thing = art is not None  # "the Saltmarsh": a ship, an inn, a house, not a person
            # "in Highbury", "at the Jolly Cricketers"
            is_place = _PLACE_BEFORE.search(text, max(0, (art.start() if art else j + 1) - 11),
                                            art.start() if art else j + 1) is not None
        for f in seen_forms:
            total[f] += 1
            alone[f] += f == word
            if the_before or (f != word and word.startswith(("The ", "the ")) and word[4:] == f):
                called_the[f] += 1
            if is_mid:
                mid[f] += 1
                lower[f] += is_lower
                thing[f] += is_thing
                place[f] += is_place
            if m.group(2):
                honor[f].add(f"{f}-{m.group(2)}")
    short = len(text) < _SHORT_TEXT
    cands = [w for w, n in tagged.items()
             if n >= 2 or (short and strong[w] >= 1 and thing[w] * 2 < total[w] and (n >= 1 or total[w] >= 2)
                                and not w.endswith(("'s", "’s")))
             or (total[w] >= 3 and (mid[w] >= 1 or n >= 1)) or titled[w] >= 2]
    # a word met only at the head of speech ("Oui, monsieur", "Ay, ay") is no name: a name is
    # also met after a lowercase word somewhere, unless speech tags name it
    cands = [w for w in cands if tagged[w] - 0.5 * voc[w] >= 2 or lower[w] >= 1 or w in hinted or titled[w] >= 2
             or (short and strong[w] >= 1) or " " in w or voc_mid[w] >= 2]
    # a title alone that is an abbreviation ("Mr", "Mlle") is no one
    cands = [w for w in cands if not (" " not in w and _title(w) and _title(w) not in _RANK_WORDS)]
    # no possessives ("Harriet's" is Harriet), no places ("in Highbury", "at Bath")
    cands = [w for w in cands if not w.endswith(("'s", "’s", "'", "’"))
             and (place[w] * 4 < total[w] or strong[w] >= 2 or w in hinted)]
    # "the Musgroves", "the Crofts": a family, when the singular is a name part of another candidate
    parts = {p for w in cands for p in w.split()}
    cands = [w for w in cands if not (" " not in w and w.endswith("s") and w[:-1] in parts and w not in hinted)]
    # "the Miss Bertrams": the sisters together
    cands = [w for w in cands if not (_title(w) and len(w.split()) == 2 and w.endswith("s")
                                      and w.split()[1][:-1] in parts and w not in hinted)]
    # "Naruto Uzumaki" written out somewhere: the two single-word candidates are one person
    single = {w for w in cands if " " not in w}
    pairs = Counter(m.group(0) for m in _PAIR.finditer(text)
                    if m.group(1) in single and m.group(2) in single and m.group(1) != m.group(2))
    for full, n_pair in pairs.items():
        if full not in cands and (n_pair >= 2 or short):
            cands.append(full)
            tagged[full] += 0
    groups = _group_forms(text, cands, {w: tagged[w] + total[w] for w in cands})
    every = {p for forms in groups.values() for f in forms for p in (f, *f.split())
             if p[:1].isupper() and p.rstrip(".") not in ("Mr", "Mrs", "Ms", "Miss", "Dr")}
    if not short and sum(strong.values()) >= 10:
        # a person of the story is named in a speech tag next to a quote somewhere ("…,” said
        # Kemp / Kemp said, “…”), or in a tag with a title ("said Mr. Perry"), or called by name
        # in speech again and again (a first-person narrator), or holds a rank the narration
        # keeps using ("General Tilney", met as "the General" in tags); a place or a book
        # ("Udolpho"), or someone only talked about ("Mr. Dixon"), has none of these
        groups = {h: fs for h, fs in groups.items()
                  if any(strong[f] or (_title(f) and tagged[f] - 0.5 * voc[f] >= 1)
                         or (_title(f) in _OFFICE_TITLES | _RANK_WORDS and alone[f] >= 5) for f in fs)
                  or sum(voc[f] for f in fs) >= 4 or fs & hinted}

    every_rx = re.compile(r"[“\"‘]|(?<![\w'’-])(?:" + word_alternation(every, any_space=False)
                          + r")(?![\w-])") if every else re.compile(r"[“\"‘]")

    chars: list[Character] = []
    guess: list[set[str]] = []
    used: set[str] = set()
    ranked = sorted(groups.items(), key=lambda kv: -sum(tagged[f] + total[f] for f in kv[1]))
    for full, forms in ranked[:limit]:
        named = [f for f in forms if f in hinted]  # the archive's own spelling wins
        # else the full name the text writes ("Henry Crawford", not "Crawford" or "Henry"), else
        # the form it writes most ("Mr. Hilbery", "Kemp")
        full_forms = [f for f in forms if len(f.split()) >= 2 and not _title(f) and alone[f] >= 2]
        # a rank is part of the name: "Inspector Ratcliffe", "Colonel Brandon", not "Ratcliffe"
        ranked_forms = [f for f in forms if len(f.split()) >= 2 and _title(f) in _OFFICE_TITLES and alone[f] >= 2]
        pick = named or full_forms or ranked_forms or list(forms)
        name = max(pick, key=lambda f: (alone[f], tagged[f] + total[f], len(f)))
        aliases: list[str] = sorted({*forms, *(h for f in forms for h in honor.get(f, ()))} - {name})
        if " " in full and full not in aliases and full != name:
            aliases.append(full)
        if (total[name] >= 3 and called_the[name] * 2 >= total[name]
                and (not _title(name) or (" " not in name and _title(name) in _RANK_WORDS))):
            # "the Hatter", "the Secretary": called so all along, so named so
            aliases.append(name)
            name = "The " + name
        first = name.split()[0].rstrip(".")
        base_name = name if _TITLE_WORD.fullmatch(first) else first  # "Mrs. Bennet" -> mrs-bennet
        if first == "The":
            base_name = name[4:]  # "The Mock Turtle" -> mock-turtle
        key = re.sub(r"[^a-z0-9]+", "-", base_name.lower()).strip("-") or "character"
        base, i = key, 2
        while key in used:
            key = f"{base}-{i}"
            i += 1
        used.add(key)
        firsts = {f.split()[0] for f in forms if " " in f and _ok(f.split()[0])
                  and not _TITLE_WORD.fullmatch(f.split()[0])}
        chars.append(Character(key=key, name=name, aliases=tuple(aliases),
                               pronouns=_TITLE_PRONOUN.get(first.lower(), "")))
        guess.append(_plain(forms | firsts))
    known = {n.lower() for c in chars for n in c.names()}
    known_words = {w for n in known for w in n.split()}
    for phrase, _n in _descriptive(text, short)[:_MAX_DESCRIPTIVE]:
        name = "The " + " ".join(w.capitalize() for w in phrase.split())
        if name.lower() in known or name[4:].lower() in known or phrase.split()[-1] in known_words:
            continue  # "the general" is General Tilney
        key = re.sub(r"[^a-z0-9]+", "-", phrase).strip("-") or "character"
        base, i = key, 2
        while key in used:
            key = f"{base}-{i}"
            i += 1
        used.add(key)
        chars.append(Character(key=key, name=name))
        guess.append({"the " + phrase})
    found = _pronouns(text, guess, every_rx)
    out: list[Character] = []
    for c, p in zip(chars, found, strict=True):
        noun = next((_NOUN_GENDER[w.lower()] for w in reversed(c.name.split()) if w.lower() in _NOUN_GENDER), "")
        out.append(c if c.pronouns else replace(c, pronouns=noun or p))
    return out


_MAX_DESCRIPTIVE = 8
_DESC_WORDS = r"((?:[a-z][a-z-]+ ){0,2}[a-z][a-z-]+)"
_DESC_STOP = (r"(?=[,.;:!?—–]|\s+(?:with|in|as|who|and|to|at|from|after|before|again|then|but|for|of|on|"
              r"quickly|slowly|softly|quietly|suddenly|hastily|presently|gravely|sharply|coldly|calmly|angrily|"
              r"eagerly|loudly|gently|simply|abruptly|at|into|over|without|through|under|upon|once|"
              r"--|-)\b)")
# "…," said the mariner. / "…," the old gentleman replied. / The policeman said, "…"
_DESC_AFTER = re.compile(r"[,!?—–-][\"”’]\s*(?:" + _VERB_ALT + r")\s+the\s+" + _DESC_WORDS + _DESC_STOP)
_DESC_BEFORE = re.compile(r"(?:[\"”’]\s*|(?:^|[.!?]\s+)[\"“‘]?)[Tt]he\s+" + _DESC_WORDS + r"\s+(?:" + _VERB_ALT
                          + r")(?![\w'’-])", re.M)
# heads that are no one in particular ("the other", "the first"), or an adjective left alone
_DESC_NOT = frozenset("""other others first second third last latter former rest one two three same whole
young old elder younger eldest little new poor good great dear next former whole company party crowd
thing way door room house day night morning evening time voice voices rest words word reply answer
question matter moment point truth case idea sound noise
men women gentlemen ladies people figure
""".split())
# a person in general ("the man", "the young girl"): most often an epithet of someone named (a
# stranger, a visitor, a policeman are kept: the text does not name them)
_DESC_GENERIC = frozenset("""man woman girl boy lady gentleman child youth father mother person fellow
creature husband wife son daughter brother sister friend lover""".split())
# a person in general ("the young man", "the stranger"): most often an epithet of someone named


def _descriptive(text: str, short: bool) -> list[tuple[str, int]]:
    """Speakers named only by what they are ("said the mariner", "the old gentleman replied"):
    a lowercase noun phrase in a speech tag, met in tags often enough to be one person."""
    counts: Counter[str] = Counter()
    for rx in (_DESC_AFTER, _DESC_BEFORE):
        for m in rx.finditer(text):
            phrase = " ".join(m.group(1).split())
            words = phrase.split()
            if words[-1] in _DESC_NOT or words[-1].endswith(("ly", "ing", "ed")) or words[0] in _DESC_NOT - {
                    "young", "old", "little", "elder", "poor", "good", "dear"} or len(words[-1]) < 3:
                continue
            if words[-1] in _DESC_GENERIC:
                continue
            counts[phrase] += 1
    need = 2 if short else 3
    return [(p, n) for p, n in counts.most_common() if n >= need]


_HE_TITLES = frozenset({"mr", "sir", "lord", "monsieur", "uncle", "master", "captain", "dr", "professor", "m",
                        "count", "baron", "marquis", "signor", "herr", "colonel", "general", "admiral", "major",
                        "inspector", "sergeant", "lieutenant"})
_SHE_TITLES = frozenset({"mrs", "miss", "ms", "lady", "madame", "madam", "mademoiselle", "aunt", "mme", "mlle",
                         "countess", "baroness", "signora", "frau"})
_WIFE_TITLES = frozenset({"mrs", "madame", "mme", "lady", "frau", "signora", "countess", "baroness"})
_MAID_TITLES = frozenset({"miss", "mademoiselle", "mlle"})
# titles of address that stay with a person (a rank may be someone else's: "General Tilney")
_SOCIAL_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "madame", "madam", "mme", "monsieur", "m",
                            "mademoiselle", "mlle", "signor", "signora", "herr", "frau", "dr", "doctor",
                            "professor", "master", "comrade"})
# an office or a military rank, part of how the person is known ("Inspector Ratcliffe")
_OFFICE_TITLES = frozenset({"captain", "colonel", "general", "admiral", "major", "inspector", "sergeant",
                            "lieutenant", "judge", "doctor", "dr", "professor"})
_MAN_TITLES = frozenset({"mr", "dr", "doctor", "professor", "monsieur", "m", "signor", "herr"})
# ranks that name a person on their own: "the Colonel", "the Professor"
_RANK_WORDS = frozenset({"captain", "professor", "colonel", "general", "admiral", "major", "inspector", "doctor",
                         "count", "countess", "baron", "baroness", "marquis", "sergeant", "lieutenant", "judge"})


def _plain(forms: set[str]) -> set[str]:
    """Name forms that are not also common words ("May" is a month and a verb)."""
    return {f for f in forms if " " in f or f.lower() not in _MONTHS} or forms


def _title(form: str) -> str | None:
    first = form.split()[0].rstrip(".").lower() if form.split() else ""
    return first if _TITLE_WORD.fullmatch(form.split()[0]) else None


def _title_gender(title: str | None) -> str | None:
    return "he" if title in _HE_TITLES else "she" if title in _SHE_TITLES else None


def _group_forms(text: str, cands: list[str], weight: dict[str, float]) -> dict[str, set[str]]:
    """One group of name forms per person. Full names first ("Emma Woodhouse", "Mr. Frank
    Churchill" = "Frank Churchill"); a title with a surname joins the one full name of that
    surname whose gender fits ("Miss Woodhouse" = Emma Woodhouse, not her father), unless that
    full name is written with the same title already and far less often ("Mr. John Knightley"
    beside "Mr. Knightley": the short form is his brother), and a wife's title ("Mrs. Hilbery")
    never joins a woman known by her first name when the text also has "Miss Hilbery" (that is
    the daughter); a single word joins the one full name it begins ("Emma"), else, as a
    surname, the one man of that name ("Denham" is Ralph Denham, not Mrs. Denham; of several
    men, the "Mr."), else the one person of that name; a rank alone ("the Colonel") joins the
    one person holding it; anything else is a person of its own."""
    def bare(form: str) -> tuple[str, ...]:
        ws = form.split()
        return tuple(ws[1:] if _title(form) else ws)

    groups: dict[str, set[str]] = {}
    full_of: dict[tuple[str, ...], str] = {}
    # untitled full names first: they are the people; a titled full form joins one of them
    by_weight = sorted(cands, key=lambda w: (-len(bare(w)), bool(_title(w)), -weight.get(w, 0), w))
    heads0 = [w for w in by_weight if len(bare(w)) >= 2 and not _title(w)]
    parts = sorted({p for w in cands for p in w.split() if p[:1].isupper() and not _title(p)}, key=len, reverse=True)
    cut_rx = re.compile(r"[“\"‘]|(?<![\w'’-])(?:" + word_alternation(parts, any_space=False) + r")(?![\w-])") if parts \
        else re.compile(r"[“\"‘]")
    # the gender of each full name, from the pronouns after it and after its first name
    text_gender = dict(zip(heads0, _pronouns(text, [_plain({h, h.split()[0]}) for h in heads0], cut_rx, most=150),
                           strict=True))
    for w in by_weight:
        b = bare(w)
        if len(b) < 2:
            continue
        head = full_of.get(b)
        t = _title(w)
        if head is not None and t is not None:
            tg = _title_gender(t)
            hg = next((g for f in groups[head] if (g := _title_gender(_title(f)))), None) or {
                "he/him": "he", "she/her": "she"}.get(text_gender.get(head, ""))
            if t in _WIFE_TITLES or t not in _SOCIAL_TITLES or (tg and hg and tg != hg):
                # "Mrs. John Knightley" is his wife, "Captain Frederick Tilney" may be a rank
                # only the text can tie to Frederick Tilney
                head = None
                b = (w,)
        if head is None:
            full_of[b] = w
            groups[w] = {w}
        else:
            groups[head].add(w)
    heads = list(groups)

    def gender(head: str) -> str | None:
        for f in groups[head]:
            g = _title_gender(_title(f))
            if g:
                return g
        p = text_gender.get(head, "")
        return "he" if p.startswith("he") else "she" if p.startswith("she") else None

    men_firsts = {bare(h)[0] for h in heads if not _title(h) and gender(h) == "he"}
    maiden = {bare(w)[0] for w in cands if _title(w) in _MAID_TITLES and len(bare(w)) == 1}
    titled: dict[str, list[str]] = defaultdict(list)  # surname -> own groups of "T Surname"
    for w in by_weight:
        b = bare(w)
        if len(b) != 1 or not _title(w):
            continue
        t = _title(w)

        def written_apart(h: str, w: str = w, t: str | None = t) -> bool:
            full = [f for f in groups[h] if len(bare(f)) >= 2]
            same = sum(weight.get(f, 0) for f in full if _title(f) == t)
            return same >= 5 and weight.get(w, 0) >= 5 * sum(weight.get(f, 0) for f in full)

        tg = _title_gender(t)
        other_class = _WIFE_TITLES if t in _MAID_TITLES else _MAID_TITLES if t in _WIFE_TITLES else frozenset()
        # a gendered title joins a name whose gender the text shows ("Mr. Welland" is not May
        # Welland); a Miss never joins a Mrs. (mother and daughter)
        same_name = [h for h in heads if bare(h)[-1] == b[0] and (gender(h) in (tg, None) if tg else True)]
        fits = [h for h in same_name if not written_apart(h) and t in _SOCIAL_TITLES
                and not any(_title(f) in other_class for f in groups[h])
                # a knight or a colonel is not "Mr.": "Mr Elliot" is not Sir Walter Elliot
                and not any(_title(f) and _title(f) not in _SOCIAL_TITLES for f in groups[h])
                # "Miss Marianne" is the younger sister: "Miss Dashwood" is someone else
                and not (t in _MAID_TITLES and re.search(
                    r"\b(?:Miss|Mademoiselle|Mlle\.?)\s+" + re.escape(bare(h)[0]) + r"(?![\w'’-]|\s+[A-Z])", text))]
        if any(written_apart(h) for h in same_name) and len(same_name) > 1:
            fits = []  # "Mr. Ferrars" beside Mr. Edward and Mr. Robert Ferrars: either brother
        if tg and any(gender(h) is None for h in fits) and any(
                _title_gender(_title(o)) not in (tg, None) for o in cands if bare(o) == b and o != w):
            fits = []  # "Mr. Welland" beside "Mrs. Welland" and May Welland of unknown gender
        if t in _WIFE_TITLES:
            # "Mrs. Newland Archer" is Newland Archer's wife; "Mrs. Archer" is his mother
            fits = [h for h in fits if not (_title(h) in _WIFE_TITLES and bare(h)[0] in men_firsts)]
        if t in _WIFE_TITLES and b[0] in maiden:
            fits = [h for h in fits if any(_title(f) in _WIFE_TITLES for f in groups[h])]
        if t == "mr" and any(bare(h)[-1] == b[0] and any(_title(f) == t and len(bare(f)) >= 2 for f in groups[h])
                             for h in heads):
            # "Mr. Gradgrind" beside "Tom Gradgrind" and "Mr. Thomas Gradgrind": of a family,
            # not the son unless the text writes "Mr. Tom Gradgrind"
            fits = [h for h in fits if any(_title(f) == t for f in groups[h])
                    or re.search(r"\bMr\.?\s+" + re.escape(" ".join(bare(h))) + r"\b", text)]
        if not same_name:  # "Sir John", "Mlle. Polina", "Miss Marianne": a title before a first name
            firsts = [h for h in heads if bare(h)[0] == b[0] and (gender(h) in (tg, None) if tg else True)]
            if len(firsts) > 1:
                firsts = [h for h in firsts if any(_title(f) == t for f in groups[h])]
            fits = firsts
        if len(fits) == 1:
            groups[fits[0]].add(w)
        else:
            groups[w] = {w}
            titled[b[0]].append(w)
    for w in by_weight:
        if len(w.split()) != 1 or _title(w):
            continue
        starts = [h for h in heads if bare(h)[0] == w and _title(h) not in _WIFE_TITLES]
        if len(starts) == 1:
            groups[starts[0]].add(w)
            continue
        if starts:
            groups[w] = {w}
            continue
        named = [h for h in groups if h != w and bare(h) and bare(h)[-1] == w]
        men = [h for h in named if gender(h) == "he"]
        if len(men) > 1:  # of several men, the one the text names far most, else the "Mr. Crawford"
            size = sorted(((sum(weight.get(f, 0) for f in groups[h]), h) for h in men), reverse=True)
            if size[0][0] >= 3 * size[1][0]:
                men = [size[0][1]]
            else:
                men = [h for h in men if any(_title(f) == "mr" and bare(f) == (w,) for f in groups[h])]
        home = men[0] if len(men) == 1 else named[0] if len(named) == 1 else None
        if home is None:
            groups[w] = {w}
        else:
            groups[home].add(w)
    # "Mr. Kemp" and "Dr. Kemp" with no first name anywhere: one man
    for surname, ws in titled.items():
        men = [w for w in ws if w in groups and _title(w) in _MAN_TITLES]
        if len({_title(w) for w in men}) > 1 and not any(bare(h)[-1] == surname for h in heads):
            for w in men[1:]:
                groups[men[0]] |= groups.pop(w)
    # "Madame Olenska" and "Countess Olenska": a married woman's titles, one woman
    wives: dict[str, list[str]] = defaultdict(list)
    for surname, ws in titled.items():
        for w in ws:
            if _title(w) in _WIFE_TITLES and w in groups:
                wives[surname].append(w)
    for surname, ws in wives.items():
        if len(ws) > 1 and surname not in maiden:
            for w in ws[1:]:
                groups[ws[0]] |= groups.pop(w)
    for w in by_weight:  # a rank alone: "the Colonel" is Colonel Brandon while he is the only one
        if len(w.split()) != 1 or not _title(w):
            continue
        holders = [h for h in groups if any(_title(f) == _title(w) and len(bare(f)) >= 1 for f in groups[h])]
        if len(holders) == 1:
            groups[holders[0]].add(w)
        else:
            groups[w] = {w}
    return groups


# a name that says it: "the Queen", "the Duchess", "the Old Man"
_NOUN_GENDER = {w: "he/him" for w in ("king", "prince", "duke", "man", "boy", "gentleman", "father", "brother",
                                      "uncle", "lord", "emperor", "marquis", "count", "baron", "husband", "son")}
_NOUN_GENDER.update({w: "she/her" for w in ("queen", "princess", "duchess", "woman", "girl", "lady", "mother",
                                             "sister", "aunt", "empress", "marchioness", "countess", "baroness",
                                             "wife", "daughter", "maid", "widow")})


def _pronouns(text: str, groups: list[set[str]], names_rx: re.Pattern[str], most: int = 400) -> list[str]:
    """he/him or she/her per group of name forms, from the pronouns that follow the name in its
    own sentence, up to the next quote or the next mention of someone else, and from he/she
    tags after it (one pass over the text for all). Only subjects and possessives count: in
    "The Rabbit hurried past her" or "Ralph took her hand" the "her" is someone else's."""

    owner: dict[str, int] = {}
    for i, forms in enumerate(groups):
        for f in forms:
            owner.setdefault(f, i)
    he = [0] * len(groups)
    she = [0] * len(groups)
    seen = [0] * len(groups)
    weak = [0] * len(groups)
    titled_full = [any(len(f.split()) > 2 and _TITLE_AT.match(f) for f in forms) for forms in groups]
    if not owner:
        return [""] * len(groups)
    suffix = r"(?:-(?:" + "|".join(HONORIFICS) + r"))?"
    rx = re.compile(r"(?<![\w'’-])(" + word_alternation(sorted(owner)) + r")" + suffix + r"(?![\w-])")
    mine = [{p for f in forms for p in (f, *f.split())} for forms in groups]
    for m in rx.finditer(text):
        who = owner.get(" ".join(m.group(1).split()))
        if who is None:
            continue
        i = who
        seen[i] += 1
        if seen[i] > most:
            continue
        before = _TITLE_BEFORE.search(text, max(0, m.start() - 12), m.start())
        if before is not None and " " in m.group(1) and not titled_full[i]:
            continue  # "Mrs Charles Musgrove" is his wife, not Charles Musgrove
        t = before or _TITLE_AT.match(m.group(0))
        if t is not None:  # "Miss Carrow", "Mr. Lorry": the title says it
            if _TITLE_PRONOUN.get(t.group(1).lower()) == "he/him":
                he[i] += 3
            else:
                she[i] += 3
        nxt = _NEXT_TAG.match(text, m.end())
        if nxt is not None and not (names_rx.search(nxt.group(1)) and any(
                c.group(0) not in mine[i] and c.group(0) not in "“\"‘" for c in names_rx.finditer(nxt.group(1)))):
            # “…,” said Randolph. “…,” he added: the same speaker goes on
            if nxt.group(2).lower() == "he":
                he[i] += 3
            else:
                she[i] += 3
        window = text[m.end() : m.end() + 100]
        for cut in names_rx.finditer(window):
            if cut.group(0) not in mine[i]:  # a quote, or someone else's name
                window = window[: cut.start()]
                break
        end = _SENTENCE_END.search(window)
        if end is not None and window[end.end():].split(" ", 1)[0] in mine[i]:
            end = _SENTENCE_END.search(window, end.end())  # "… said Ralph Denham. Denham took his hat"
        stop = end.end() if end is not None else len(window)
        # the first pronoun after the name ("Corra … she", "said Wyn. He") is most likely
        # theirs: it weighs double, and one in a speech/thought tag ("he said") once more.
        # Past this sentence (and a pronoun opening the next: "… stopped. He …") only a
        # pronoun in a tag counts ("Pell held it up. *Gone,* he thought.")
        for k, pm in enumerate(_HE_SHE.finditer(window)):
            word = pm.group(0).lower()
            if word == "him" or word == "her":
                # an object is most often someone else ("Edmund looked at her"), and so is
                # "her" after a man's name ("Ralph took her hand"): only when nothing else is
                # known does a first "her knee" in the name's sentence count
                if word == "her" and k == 0 and pm.start() < stop and _POSSESSIVE_NEXT.match(window, pm.end()):
                    weak[i] += 1
                continue
            tag = bool(_TAG_NEXT.match(window, pm.end()))
            if pm.start() >= stop and not tag:
                continue
            w = 1 + (k == 0) + tag
            if word in _HE_WORDS:
                he[i] += w
            else:
                she[i] += w
    out = []
    for i, (h, sh) in enumerate(zip(he, she, strict=True)):
        if h == sh == 0 and weak[i]:
            sh = weak[i]
        out.append("he/him" if h > sh * 1.5 and h >= 1 else "she/her" if sh > h * 1.5 and sh >= 1 else "")
    return out
