"""Who a pronoun or a nickname stands for, from the story read so far.

Readers ask "what did he call you?" or "what do you think of puppet-boy?"; characters say "I was
worried about him". Four general mechanisms, none keyed to a story:

- **Salience**: the characters in view just before a point of the story (speakers of the last
  beats, names in them, the most recent counting most), filtered by the pronoun's gender (the
  cast's `pronouns`) and minus whoever the pronoun cannot be (the one asked — "you" —, the
  speaker and the one they talk to, for a "he" inside a line).
- **Pronouns in spoken words** (index time): a "he/him/his" or "she/her" inside a line is the most
  salient fitting character before it, so "I was worried about him" is a line about Naruto.
- **Nicknames** (index time): a short form of address in a line that is not a cast name ("Ne,
  puppet-boy," / "Yeah dog breath?" / "Hey little bro, …") names the character who reacts to it:
  one named in the narration right after the words, else the next one to speak. Each nickname
  keeps the beat it was learned from, so a question asked before that beat does not use it.
- **Epithets** (asked for): "the genin", "the lazy Chuunin" in a question, where only a person
  fits it, stand for whom the story means by it where it uses it (salience there, minus who the
  same clause names and the clause's "he"); never a place, a group, an abstract noun, a
  description ("the first person") or a thing the story also calls "a …" / "his …".

Everything here looks only backwards from the point it resolves (a beat's facts use beats <= it;
a question's pronouns use beats <= the reader's beat), except a nickname's reaction, which is why
nicknames carry the beat they were learned at.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.story.model import Beat, Character, Story

WINDOW = 6  # beats looked back for who is in view
_DECAY = 0.5  # per beat back
_OTHER_SCENE = 0.4  # a beat of an earlier scene counts this much
_SPEAKER = 1.2  # voicing a beat
_NAMED = 1.4  # named in the narration
_NAMED_SAID = 1.0  # named inside someone's words
MIN_SALIENCE = 0.2  # below this nobody is in view enough to be "him"
_EVIDENCE = 12  # occurrences of "the X" read to decide whom it stands for
_NEAR_CHARS = 300  # a name this close before the point counts up to twice

_MALE = frozenset({"he", "him", "his", "himself"})
_FEMALE = frozenset({"she", "her", "hers", "herself"})
PRONOUN = re.compile(r"(?<![^\W_])(he|him|his|himself|she|her|hers|herself)(?![^\W_])", re.IGNORECASE)
_QUOTE_SPAN = re.compile(r"“[^”]*”|\"[^\"]*\"|«[^»]*»")
# Words that open a line before a form of address ("Hey little bro", "Yeah dog breath?").
_OPENERS = frozenset("""hey hi oi ne yeah yes no oh ah well yo listen look come on so now right okay
    ok and but hello morning""".split())
# Words a nickname never holds (a sentence, not a name: "I see", "you idiot" stays out too).
_NOT_NICK = frozenset("""i me my you your he him his she her it its we us our they them their this
    that these those is are was were be been am do did does have has had will would can could
    shall should may might must not no yes here there what who why how where when which thank
    thanks please sorry fine okay ok sure right good great hai the a an and or but of to in on at
    for with eh huh hm hmm oh ah well wow yeah hey most likely just really very so too all only maybe
    perhaps never always again then now still even every each some any many few several one two three
    four five six seven eight nine ten twenty hundred thousand today tonight tomorrow yesterday
    morning evening night day days week weeks year years beg pardon excuse hullo hallo""".split())
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def gender(c: Character) -> str:
    """"m", "f", "n" (it) or "" (they / not given: fits any pronoun)."""
    p = c.pronouns.strip().casefold()
    if p.startswith("she"):
        return "f"
    if p.startswith("he"):
        return "m"
    if p.startswith("it"):
        return "n"
    return ""


def pronoun_gender(word: str) -> str:
    w = word.casefold()
    return "m" if w in _MALE else "f" if w in _FEMALE else ""


def spoken_spans(beat: Beat) -> list[tuple[int, int]]:
    """Where the spoken (or thought) words of a voiced beat are in its text; a thought written
    without quote marks is all words."""
    if beat.kind not in ("dialogue", "thought"):
        return []
    start = beat.source[0]
    spans = [(q0 - start, q1 - start) for q0, q1 in beat.quotes if 0 <= q0 - start <= q1 - start <= len(beat.text)]
    if not spans:
        spans = [(m.start(), m.end()) for m in _QUOTE_SPAN.finditer(beat.text)]
    if not spans:
        spans = [(0, len(beat.text))]
    return spans


@dataclass(frozen=True, slots=True)
class Occurrence:
    pos: int  # character offset in the beat's text
    key: str
    said: bool  # inside the spoken words
    weight: float = 1.0  # a sentence's subject counts more, a possessive ("Gaara's speech") less


def occurrences(story: Story, pats: Mapping[str, re.Pattern[str]]) -> list[tuple[Occurrence, ...]]:
    """Per beat: every name of a character in it, in text order; also names the cast does not
    know ("Sasuke-kun" when he is not in it) as `UNKNOWN` + the word, so a pronoun after them is
    not given to someone else. (One pass per beat: all the cast's names in one pattern.)"""
    keys: dict[str, str] = {}
    for c in story.characters:
        if c.key in pats:
            for n in (*c.names(), c.key):
                if n.strip():
                    keys.setdefault(n.casefold(), c.key)
    alts = "|".join(re.escape(n) for n in sorted(keys, key=len, reverse=True))
    every = re.compile(rf"(?<![^\W_])(?:{alts})(?![^\W_])", re.IGNORECASE) if alts else None
    out: list[tuple[Occurrence, ...]] = []
    for b in story.beats:
        text = b.text
        spans = spoken_spans(b)
        found: list[Occurrence] = []
        taken: list[tuple[int, int]] = []
        for m in every.finditer(text) if every is not None else ():
            key = keys.get(m.group(0).casefold())
            if key is not None:
                found.append(Occurrence(m.start(), key, any(a <= m.start() < z for a, z in spans),
                                        _role(text, m.start(), m.end())))
                taken.append((m.start(), m.end()))
        for m in _CAPITAL.finditer(text):
            before = text[max(0, m.start() - 12):m.start()].rstrip()
            if (not before and m.start() < 12) or (before and before[-1] in ".!?…\"“«'‘—(:") or _THE.search(before):
                continue  # a sentence's first word, or "the Sand"
            if any(a <= m.start() < z for a, z in taken):
                continue  # inside a cast name ("Rock Lee")
            found.append(Occurrence(m.start(), UNKNOWN + m.group(0).casefold(),
                                    any(a <= m.start() < z for a, z in spans)))
        out.append(tuple(sorted(found, key=lambda o: o.pos)))
    return out


def _role(text: str, start: int, end: int) -> float:
    if text[end:end + 2] in ("'s", "’s"):
        return 0.5
    before = text[max(0, start - 12):start].rstrip(" \"“'‘")
    return 1.3 if (not before and start < 12) or (before and before[-1] in ".!?…") else 1.0


UNKNOWN = "?"  # prefix of a name the cast does not hold
_CAPITAL = re.compile(r"(?<![^\W_])[A-Z][a-z]{2,}(?:-[a-z]+)?(?![^\W_])")
_THE = re.compile(r"(?<![^\W_])(?:the|a|an|of|in|to)$", re.IGNORECASE)


class Salience:
    """Who is in view at a point of the story (see the module doc)."""

    def __init__(self, story: Story, occ: Sequence[tuple[Occurrence, ...]],
                 speakers: Sequence[frozenset[str]], addressed: Sequence[frozenset[str]] = ()) -> None:
        self._story = story
        self._occ = occ
        self._speakers = speakers
        self._addressed = addressed
        self._gender = {c.key: gender(c) for c in story.characters}
        self.epithets = epithet_index(story)
        # words the story also uses after "a"/"an" ("a mission", "a balloon"): a kind of thing
        # someone has or meets, not one character's epithet ("the genin" is never "a genin")
        self.indefinite = frozenset(part for b in story.beats for m in _INDEFINITE.finditer(b.text)
                                    for w in m.groups() if w for part in (w.casefold(), w.casefold().split("-")[0]))
        # … and after "his"/"Gaara's" ("his sand", "my gourd"): something a character has
        self.possessed = frozenset(m.group(1).casefold() for b in story.beats for m in _POSSESSED.finditer(b.text))
        self._resolved: dict[str, list[str | None]] = {}  # phrase -> who each occurrence is

    def subject(self, beat: int, pos: int, want: str, exclude: frozenset[str]) -> str | None:
        """The last character named as a sentence's subject before offset `pos` of the beat ("Lee
        made a sound … It was the most he'd ever heard": he = Lee): a "he"/"she" opening a
        clause usually goes on with the subject before it."""
        for o in reversed(self._occ[beat]):
            if o.pos < pos and o.weight > 1.0 and not o.said and o.key not in exclude \
                    and not o.key.startswith(UNKNOWN) and (not want or self._gender.get(o.key, "") in (want, "")):
                return o.key
        return None

    def occurrences(self, beat: int) -> tuple[Occurrence, ...]:
        return self._occ[beat]

    def epithet(self, phrase: str, upto: int) -> tuple[str, int] | None:
        """Whom "the <phrase>" stands for in the story up to beat `upto` (and the first beat that
        shows it), or None: used before nobody, for a place or thing ("at the village"), or for
        different people."""
        found = self.epithets.get(phrase)
        head = phrase.rsplit(" ", 1)[-1]
        if not found or _group(phrase) or head in self.indefinite or head in self.possessed \
                or _ABSTRACT.search(head) or any(w in _DESCRIPTIVE for w in phrase.split()):
            # several people, a thing the story also calls "a …" or "his …", an abstract noun,
            # or a description
            return None
        n = bisect.bisect_right(found, (upto, 1 << 62, True))  # occurrences at beats <= upto
        if n == 0 or any(place for _, _, place in found[:n]):
            return None  # not shown yet, or a place ("at the village") somewhere already
        # Each occurrence is resolved once (it depends on the beats up to it only); a reader's
        # beat decides how many of them count. The first few suffice as evidence.
        if len(self._resolved) > 4096:
            self._resolved.clear()
        done = self._resolved.setdefault(phrase, [])
        n = min(n, _EVIDENCE)
        while len(done) < n:
            beat, pos, _ = found[len(done)]
            done.append(self._epithet_at(beat, pos))
        votes: dict[str, list[int]] = {}
        for (beat, _, _), key in zip(found[:n], done[:n], strict=True):
            if key is not None:
                votes.setdefault(key, []).append(beat)
        ranked = sorted(votes.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))
        if ranked and (len(ranked) == 1 or len(ranked[1][1]) < len(ranked[0][1])):
            return ranked[0][0], ranked[0][1][0]
        return None

    def _epithet_at(self, beat: int, pos: int) -> str | None:
        """Who "the X" at offset `pos` of beat `beat` is: the most salient character before it,
        but not one named in its own clause ("left the Hokage to look at the Chuunin": two
        people), nor the clause's "he"/"she" ("he'd ever heard the sand-nin"), nor — inside a
        line — the speaker or the one spoken to."""
        b = self._story.beat(beat)
        text = b.text
        exclude: set[str] = set()
        if any(a <= pos < z for a, z in spoken_spans(b)):
            exclude |= self._speakers[beat]
            if self._addressed:
                exclude |= self._addressed[beat]
            exclude |= addressee_before(self._story, self._speakers, b)
        start, end = clause(text, pos)
        exclude |= {o.key for o in self._occ[beat] if start <= o.pos < end}
        # the sentence's first "he"/"she" before it: its subject, someone else than "the X"
        s0 = max((m.end() for m in _SENTENCE_END.finditer(text, 0, pos)), default=0)
        for m in PRONOUN.finditer(text, s0, pos):
            if m.group(1).casefold() in ("he", "she"):
                a, z = clause(text, m.start())
                own = frozenset(o.key for o in self._occ[beat] if a <= o.pos < z)
                who = self.subject(beat, m.start(), pronoun_gender(m.group(1)), own) or \
                    self.best(beat, m.start(), pronoun_gender(m.group(1)), own)
                if who is not None:
                    exclude.add(who)
                break
        return self.best(beat, pos, "", frozenset(exclude))

    def ranked(self, beat: int, pos: int | None, want: str, exclude: frozenset[str]) -> list[tuple[float, str]]:
        """(score, key) best first, of the characters fitting gender `want` ("" = any) in view just
        before offset `pos` of beat `beat` (None: after the whole beat)."""
        story = self._story
        scene = story.beat(beat).scene
        scores: dict[str, float] = {}
        for d, j in enumerate(range(beat, max(-1, beat - WINDOW - 1), -1)):
            b = story.beat(j)
            if b.kind == "note":
                continue
            decay = _DECAY ** d * (1.0 if b.scene == scene else _OTHER_SCENE)
            size = max(1, len(b.text))
            for o in self._occ[j]:
                if j == beat and pos is not None and o.pos >= pos:
                    break
                # later in the beat = more recent
                s = (_NAMED_SAID if o.said else _NAMED) * o.weight * (0.7 + 0.3 * o.pos / size)
                if j == beat and pos is not None:
                    s *= 1.0 + max(0.0, 1.0 - (pos - o.pos) / _NEAR_CHARS)  # a name just before
                scores[o.key] = scores.get(o.key, 0.0) + s * decay
            if j != beat or pos is None:
                for k in self._speakers[j]:
                    scores[k] = scores.get(k, 0.0) + _SPEAKER * decay
        out = [(s, k) for k, s in scores.items()
               if k not in exclude and s >= MIN_SALIENCE and (not want or self._gender.get(k, "") in (want, ""))]
        out.sort(key=lambda t: (-t[0], t[1]))
        return out

    def best(self, beat: int, pos: int | None, want: str, exclude: frozenset[str]) -> str | None:
        ranked = self.ranked(beat, pos, want, exclude)
        if not ranked or ranked[0][1].startswith(UNKNOWN):
            return None
        if len(ranked) > 1 and ranked[1][0] > 0.85 * ranked[0][0]:
            return None  # two about as likely: better no one than the wrong one
        return ranked[0][1]


_CLAUSE_END = re.compile(r"[,;:.!?…—]|\s(?:and|but)\s")
_SENTENCE_END = re.compile(r"[.!?…]")


def clause(text: str, pos: int) -> tuple[int, int]:
    """The clause around offset `pos`: between punctuation or "and"/"but"."""
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, pos)), default=0)
    end_m = _CLAUSE_END.search(text, pos)
    return start, (end_m.start() if end_m else len(text))
_THE_NP = re.compile(r"(?<![^\W_])the\s+([^\W\d_][\w'’-]*)(?:\s+([^\W\d_][\w'’-]*))?", re.IGNORECASE)
# "at the village", "to the hospital" after a verb of going: a place, not a person
_PLACE_BEFORE = re.compile(r"(?<![^\W_])(at|in|into|inside|outside|around|near|across|through|toward|towards|"
                           r"onto|on|under|behind|over|beside|within|past|by|up|down|along)\s*$", re.IGNORECASE)
_GOING_TO = re.compile(r"(?<![^\W_])(go|goes|went|gone|going|come|came|coming|back|return|returned|take|took|"
                       r"taken|bring|brought|get|got|walk|walked|run|ran|head|headed|way|sent|send|arrived)"
                       r"(?:\s+\w+)?\s+to\s*$", re.IGNORECASE)
_LOOK_AT = re.compile(r"(?<![^\W_])(look|looks|looked|looking|glance|glanced|stare|stared|glare|glared|smile|"
                      r"smiled|grin|grinned|nod|nodded|shout|shouted|yell|yelled|laugh|laughed|point|pointed|"
                      r"wave|waved|frown|frowned)\s+at\s*$", re.IGNORECASE)


_WHO_IS = re.compile(r"(?<![^\W_])(?:who|what)(?:'s|’s|\s+(?:is|was|are|were))\s*$", re.IGNORECASE)


# Where only a person fits: after "grateful to", "ask of", "thank", "say to" …, or before "tell",
# "say", "think" … as the one doing it. ("think of the X", "worried about the X" fit a storm too.)
_TO_PERSON = re.compile(r"(?<![^\W_])(?:(?:grateful|thankful|kind|polite|rude|loyal|engaged|say|said|says|talk|"
                        r"talked|speak|spoke|lie|lied|write|wrote|listen|listened|apologi[sz]e|apologi[sz]ed|"
                        r"reply|replied|answer|answered)\s+to|ask|asked|thank|thanked|tell|told|call|called|"
                        r"meet|met|trust|trusted|forgive|forgave|marry|married|visit|visited|friends\s+with|"
                        r"asks?\s+of|asked\s+of)\s*$", re.IGNORECASE)
_PERSON_VERB = re.compile(r"\s+(?:(?:really|ever|still|not|never|also)\s+)?(?:tell|told|say|said|says|think|"
                          r"thinks|thought|know|knows|knew|speak|spoke|talk|talked|ask|asked|answer|answered|"
                          r"call|called|want|wanted|like|liked|hate|hated|feel|felt|forgive|remember|agree|"
                          r"believe|believed|promise|promised|mean|meant|reply|replied|laugh|laughed|cry|cried|thank|thanked)"
                          r"(?![^\W_])", re.IGNORECASE)


def person_slot(text: str, start: int, end: int) -> bool:
    """True when "the X" at text[start:end] of a question stands where only someone fits."""
    return bool(_TO_PERSON.search(text[max(0, start - 40):start]) or _PERSON_VERB.match(text, end))


def place_slot(before: str) -> bool:
    """True when the words before "the X" make it a place ("at the", "went to the")."""
    tail = before[-40:]
    if _LOOK_AT.search(tail):
        return False
    return bool(_PLACE_BEFORE.search(tail) or _GOING_TO.search(tail))


_INDEFINITE = re.compile(r"(?<![^\W_])(?:a|an|another|one|some|any|every|each|no)\s+([^\W\d_][\w'’-]*)"
                         r"(?:\s+([^\W\d_][\w'’-]*))?", re.IGNORECASE)
# "the first person", "the only ninja", "the best Kazekage": a description, not a name for someone
_DESCRIPTIVE = frozenset("first second third last next only most best worst least other same whole".split())
_GROUP = frozenset("pair couple trio group team family crowd duo party both others everyone".split())


def _group(phrase: str) -> bool:
    """A phrase for several people ("the pair", "the two boys") stands for no one character."""
    head = phrase.rsplit(" ", 1)[-1]
    return head in _GROUP or (head.endswith("s") and not head.endswith(("ss", "us", "is")))


def epithet_index(story: Story) -> dict[str, tuple[tuple[int, int, bool], ...]]:
    """"the X" and "the X Y" phrases of the story (lower case) -> (beat, offset, not a person
    there: a place slot, "at the village", or a complement, "the flashback of …")."""
    out: dict[str, list[tuple[int, int, bool]]] = {}
    for b in story.beats:
        if b.kind == "note":
            continue
        for m in _THE_NP.finditer(b.text):
            place = place_slot(b.text[max(0, m.start() - 40):m.start()])
            one = m.group(1).casefold().rstrip("'’")
            two = (m.group(2) or "").casefold().rstrip("'’")
            out.setdefault(one, []).append((b.index, m.start(), place or two in _COMPLEMENT))
            if two:
                after = _NEXT_WORD.match(b.text, m.end())
                thing = place or (after is not None and after.group(1).casefold() in _COMPLEMENT)
                out.setdefault(one + " " + two, []).append((b.index, m.start(), thing))
    return {k: tuple(v) for k, v in out.items()}


_COMPLEMENT = frozenset({"of", "with"})
_NEXT_WORD = re.compile(r"\s+(\w+)")
# heads of abstract nouns: "the excitement", "the decision" are never someone
_ABSTRACT = re.compile(r"(?:ment|ness|tion|sion|ity|ance|ence|ship|hood|ism|ing)$")
_POSSESSED = re.compile(r"(?<![^\W_])(?:my|your|his|her|its|our|their|\w+['’]s)\s+([^\W\d_][\w'’-]*)", re.IGNORECASE)


def addressee_before(story: Story, speakers: Sequence[frozenset[str]], beat: Beat) -> frozenset[str]:
    """Whom a line is said to when it calls nobody by name: the one who spoke just before it in
    the scene (never a later beat)."""
    if beat.kind != "dialogue":
        return frozenset()
    own = speakers[beat.index]
    for j in range(beat.index - 1, max(-1, beat.index - 4), -1):
        prev = story.beat(j)
        if prev.scene != beat.scene:
            break
        if prev.kind == "dialogue" and speakers[j] and not speakers[j] & own:
            return speakers[j]
    return frozenset()


def spoken_references(story: Story, sal: Salience, speakers: Sequence[frozenset[str]],
                      addressed: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """Per beat: the characters its spoken words refer to by pronoun ("I was worried about him")."""
    out: list[frozenset[str]] = []
    for b in story.beats:
        if not speakers[b.index]:
            out.append(frozenset())
            continue
        exclude = speakers[b.index] | addressed[b.index] | addressee_before(story, speakers, b)
        found: set[str] = set()
        for a, z in spoken_spans(b):
            for m in PRONOUN.finditer(b.text, a, z):
                c0, c1 = clause(b.text, m.start())
                own = frozenset(o.key for o in sal.occurrences(b.index) if c0 <= o.pos < c1)
                key = sal.best(b.index, m.start(), pronoun_gender(m.group(1)), exclude | own)
                if key is not None:
                    found.add(key)
        out.append(frozenset(found))
    return out


def learn_nicknames(story: Story, pats: Mapping[str, re.Pattern[str]], speakers: Sequence[frozenset[str]]
                    ) -> tuple[dict[str, tuple[str, int]], dict[int, tuple[str, int]]]:
    """Forms of address lines use that are not cast names -> (key, beat it is known from), and
    the lines that use them: beat -> (key called, beat that is known from)."""
    votes: dict[str, dict[str, tuple[int, int]]] = {}  # phrase -> key -> (count, first beat known)
    uses: list[tuple[int, str, str, int]] = []  # beat, phrase, key, known
    for b in story.beats:
        if b.kind != "dialogue" or not speakers[b.index]:
            continue
        for a, z in spoken_spans(b):
            phrase = _form_of_address(b.text[a:z].strip(" \"“”«»"), pats)
            if phrase is None:
                continue
            who, known = _reacting(story, pats, speakers, b, z)
            if who is None or who in speakers[b.index]:
                continue
            n, first = votes.setdefault(phrase, {}).get(who, (0, known))
            votes[phrase][who] = (n + 1, min(first, known))
            uses.append((b.index, phrase, who, known))
    out: dict[str, tuple[str, int]] = {}
    for phrase, by_key in votes.items():
        ranked = sorted(by_key.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        if len(ranked) > 1 and ranked[1][1][0] == ranked[0][1][0]:
            continue  # the same form used for two people: not a nickname
        out[phrase] = (ranked[0][0], ranked[0][1][1])
    calls = {beat: (who, known) for beat, phrase, who, known in uses if out.get(phrase, ("",))[0] == who}
    return out, calls


def _form_of_address(words: str, pats: Mapping[str, re.Pattern[str]]) -> str | None:
    """'Ne, puppet-boy,' -> 'puppet-boy'; 'Yeah dog breath?' -> 'dog breath'; 'Hey little bro, you
    had us worried there' -> 'little bro'; 'Onee-chan,' -> 'onee-chan'. A sentence ("Explain."),
    an exclamation ("Impossible!") or a cast name -> None."""
    m = re.match(r"\s*([^,.!?…;:—]+)([,?])?", words)
    if m is None:
        return None
    toks = _WORD.findall(m.group(1))
    opened = False
    while toks and toks[0].casefold() in _OPENERS:
        toks = toks[1:]
        opened = True
    rest = words[m.end():]
    if opened and not toks and m.group(2) == ",":  # "Ne, puppet-boy," : the opener stands alone
        m2 = re.match(r"\s*([^,.!?…;:—]+)([,?!])?", rest)
        if m2 is None:
            return None
        toks = _WORD.findall(m2.group(1))
        rest = rest[m2.end():]
        ending = m2.group(2)
    else:
        ending = m.group(2)
    # A form of address is set off by a comma, or is the whole line asked of someone ("Yeah dog
    # breath?"); an opener before it makes a lone "!" fine too ("Hey you!" has no name anyway).
    if ending is None or (ending == "?" and _WORD.search(rest)) or (ending == "!" and not opened):
        return None
    if not 1 <= len(toks) <= 3 or len(_WORD.findall(rest)) > 15:
        return None
    low = [t.casefold() for t in toks]
    if any(t in _NOT_NICK for t in low):
        return None
    phrase = " ".join(low)
    if len(low) == 1 and "-" not in low[0] and _group(phrase):
        return None  # "girls,": several people ("Bushy Brows", "stick-legs" are one)
    if any(len(t) > 5 and t.endswith(("ing", "ly")) for t in low) or \
            _WORD.findall(rest)[:1] == [toks[-1]] or [w.casefold() for w in _WORD.findall(rest)[:1]] == low[-1:]:
        return None  # "Slowly, …", "Coming, coming": not someone addressed
    if any(p.search(" ".join(toks)) for p in pats.values()):
        return None  # a name the cast already knows
    return phrase


def _reacting(story: Story, pats: Mapping[str, re.Pattern[str]], speakers: Sequence[frozenset[str]],
              beat: Beat, end: int) -> tuple[str | None, int]:
    """Who answers to a form of address ending at `end` in `beat`: a character named (not as
    "X's") in the narration right after the words, else the next one to speak in the scene."""
    after = beat.text[end:].lstrip("\"”»’'")  # past the closing quote mark
    after = re.split(r"[\"“«]", after, maxsplit=1)[0]  # up to the next words spoken
    best: tuple[int, str] | None = None
    for k, p in pats.items():
        if k in speakers[beat.index]:
            continue
        for m in p.finditer(after):
            if after[m.end():m.end() + 2] in ("'s", "’s"):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), k)
            break
    if best is not None:
        return best[1], beat.index
    for j in range(beat.index + 1, min(len(story), beat.index + 3)):
        nxt = story.beat(j)
        if nxt.scene != beat.scene:
            break
        if nxt.kind == "dialogue" and speakers[j]:
            if speakers[j] & speakers[beat.index]:
                break
            return (sorted(speakers[j])[0] if len(speakers[j]) == 1 else None), j
    return None, beat.index


def rewrite_question(question: str, story: Story, asked: Character, upto: int,
                     pats: Mapping[str, re.Pattern[str]], sal: Salience,
                     nicknames: Mapping[str, tuple[str, int]]) -> str:
    """The question with its nicknames and third-person pronouns replaced by the names they stand
    for at beat `upto` ("what did he call you" -> "what did Kiba call you"); unchanged when nobody
    fits. 'You' is the one asked, so a pronoun is never them."""
    by_key = {c.key: c for c in story.characters}
    text = question
    low = text.casefold()
    said: list[str] = []
    for phrase, (key, known) in sorted(nicknames.items(), key=lambda kv: -len(kv[0])):
        if known > upto or key == asked.key or key not in by_key:
            continue
        m = re.search(rf"(?<![^\W_])(?:(?:the|that|this|your|my|our)\s+)?{re.escape(phrase)}(?![^\W_])", low)
        if m is not None:
            text = text[:m.start()] + by_key[key].name + text[m.end():]
            low = text.casefold()
            # (not searched for: a nickname is a name, its words say nothing of the topic)
    # "the lazy Chuunin", "the genin": a phrase the story uses for someone (Salience.epithet),
    # when the question puts it where a person goes (not "at the village")
    for m in list(_THE_NP.finditer(text))[::-1]:
        if place_slot(text[:m.start()]) or any(p.search(m.group(0)) for p in pats.values()) or \
                _WHO_IS.search(text[:m.start()]) or not (person_slot(text, m.start(), m.end(1)) or
                                                         person_slot(text, m.start(), m.end())):
            continue  # a place, a name, "who is the X?" (asking who it is), or a slot a thing fits
        phrases = [m.group(1).casefold()]
        if m.group(2):
            phrases.insert(0, phrases[0] + " " + m.group(2).casefold())
        for n, phrase in enumerate(phrases):
            got = sal.epithet(phrase, upto)
            if got is None or got[0] == asked.key or got[0] not in by_key:
                continue
            stop = m.end() if n == 0 else m.start(1) + len(m.group(1))
            text = text[:m.start()] + by_key[got[0]].name + text[stop:]
            said.append(phrase)
            break
    named = frozenset(k for k, p in pats.items() if p.search(text))
    used: set[str] = set()
    out = []
    last = 0
    for m in PRONOUN.finditer(text):
        # the most salient fitting character; a second pronoun of the same gender is someone else
        ranked = sal.ranked(upto, None, pronoun_gender(m.group(1)), frozenset({asked.key}) | named | used)
        if not ranked or ranked[0][1].startswith(UNKNOWN):
            continue  # nobody in view, or someone the cast does not hold
        key = ranked[0][1]
        used.add(key)
        name = by_key[key].name
        word = m.group(1).casefold()
        rep = name + "'s" if word in ("his", "hers") or (word == "her" and _possessive_her(text, m.end())) else name
        out.append(text[last:m.start()] + rep)
        last = m.end()
    out.append(text[last:])
    return "".join(out) + "".join(f" ({p})" for p in said)


def _possessive_her(text: str, end: int) -> bool:
    """'her' before a noun ("her brother") rather than as an object ("think of her?")."""
    nxt = _WORD.match(text[end:].lstrip())
    return nxt is not None and nxt.group(0).casefold() not in _NOT_NICK
