"""From a question to ranked beats: word extraction, synonyms, the FTS5 query, and re-ranking that
favours the asked character's own lines. The question is data: only word tokens reach SQL, each
as a quoted FTS string, so no operator a reader types (NEAR, AND, *, quotes) means anything."""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.answers.coref import Salience, addressee_before, learn_nicknames, occurrences, spoken_references
from bot.store import Store
from bot.store import answers as store
from bot.story.model import Beat, Character, Story

QuestionKind = Literal["why", "opinion", "feel", "what", "how", "who", "where", "when", "yesno", "other"]

# Bumped whenever the index rows change shape, so stored indexes are rebuilt.
INDEX_VERSION = "4"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERMS = 24  # bounds the MATCH expression whatever the question
NEARBY_BEATS = 4  # who is "around" a beat: characters named or speaking in the beats just before

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before being
    below between both but by can cannot could couldn d did didn do does doesn doing don during
    each few for from further had hadn has hasn have haven having he her here hers herself him
    himself his how i if in into is isn it its itself just ll m me might more most mustn my myself
    no nor not now o of on once only or other ought our ours ourselves over own re s same
    shan she should shouldn so some such t than that the their theirs them themselves then there
    these they this those through to too under until ve very was wasn we were weren what when
    where which while who whom why will with won would wouldn y you your yours yourself yourselves
    tell told say said ask asked know knew really ever also get got going much many thing
    things something anything everything one ones like please okay ok hey hi hello yes yeah oh
    way kind sort lot bit gonna wanna let us happen happens happened happening
    """.split()
)

# Words that decide what sort of answer fits rather than what it is about.
_OPINION_WORDS = frozenset({"think", "thinks", "thought", "opinion", "feel", "feels", "felt", "feeling",
                            "feelings", "believe", "view", "consider", "regard"})

# Small synonym groups: a question word brings its group along (the porter stemmer does the rest).
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("scared", "afraid", "fear", "feared", "frightened", "terrified", "scare", "fright", "panic",
     "nervous", "worried", "worry", "terror"),
    ("angry", "anger", "mad", "furious", "rage", "annoyed", "irritated", "cross", "snapped"),
    ("crazy", "insane", "mad", "madness", "nuts", "mental", "lunatic"),
    ("sad", "sorrow", "cry", "cried", "tears", "grief", "upset", "weep", "crying"),
    ("happy", "glad", "smile", "smiled", "joy", "laugh", "laughed", "relieved", "relief"),
    ("friend", "friends", "friendship", "bond", "comrade"),
    ("precious", "important", "treasure", "cherish", "dear", "care"),
    ("love", "loved", "care", "cared", "caring", "affection", "precious"),
    ("like", "likes", "liked", "fond", "admire", "admired"),
    ("kill", "killed", "murder", "death", "die", "died", "dead", "dying"),
    ("hurt", "injured", "injury", "wound", "wounded", "pain", "bleed", "bleeding", "bandage",
     "bandages", "broken", "cracked", "ribs", "dislocated", "bruised"),
    ("hospital", "ward", "infirmary", "medic", "medical", "nurse", "doctor"),
    ("fight", "fought", "battle", "combat", "match", "duel"),
    ("protect", "protected", "save", "saved", "guard", "defend", "shield"),
    ("strong", "strength", "power", "powerful", "stronger"),
    ("tired", "exhausted", "sleep", "weary", "asleep", "rest"),
    ("brother", "brothers", "sister", "sibling", "siblings", "family"),
    ("mother", "mom", "mum", "mama"),
    ("father", "dad", "papa"),
    ("sorry", "apologize", "apologise", "apology", "forgive", "regret"),
    ("lonely", "alone", "loneliness", "isolated"),
    ("monster", "demon", "beast", "creature"),
    ("home", "village", "house"),
    ("eat", "food", "hungry", "meal", "eaten"),  # not "ate": the porter stem is "at"
    ("win", "won", "victory", "beat", "defeat", "defeated", "lose", "lost"),
    ("help", "helped", "aid", "assist"),
    ("steal", "stole", "stolen", "theft", "thief", "thieves", "rob", "robbed", "robbery", "burglary",
     "burglar", "taken", "broken"),
    ("note", "letter", "message", "paper", "writing", "written", "wrote", "riddle"),
    ("wear", "wore", "worn", "dress", "dressed", "clothes", "cloak", "coat", "outfit"),
    ("plan", "plans", "idea", "strategy", "scheme", "orders"),
    ("downstairs", "below", "beneath", "underneath"),
    ("upstairs", "above", "overhead"),
    ("escape", "escaped", "free", "freed", "loose", "release", "released"),
    ("suspect", "suspected", "suspicion", "guilty", "culprit", "blame", "fear"),  # "I fear it was"
    ("worried", "worry", "wreck", "anxious", "concerned", "scared"),
    ("idea", "inspiration", "suggest", "suggested"),
    ("hospital", "bed"),
    ("arrive", "arrived", "came", "come", "reach", "reached"),
    ("jail", "gaol", "prison", "cell", "locked", "arrest", "arrested", "sentence", "sentenced"),
    ("fly", "flew", "flying", "float", "floating", "soar", "balloon", "air"),
    ("want", "wanted", "wish", "desire", "hope"),
    ("blood", "bloody", "bleed"),
    ("heal", "heals", "healed", "healing", "recover", "recovers", "recovered", "recovery"),
    ("stay", "stays", "stayed", "staying", "remain", "remained"),
)
# Irregular verbs the porter stemmer cannot join: other forms of the reader's own word, so they
# count as the reader's words (not as synonyms, which weigh less).
_INFLECTION_GROUPS: tuple[tuple[str, ...], ...] = (
    ("come", "came", "coming"), ("go", "went", "gone"), ("find", "found"), ("run", "ran"),
    ("sleep", "slept"), ("give", "gave", "given"), ("take", "took", "taken"), ("leave", "left"),
    ("hold", "held"), ("break", "broke", "broken"), ("wake", "woke", "awake", "woken"),
    ("speak", "spoke", "spoken"), ("stand", "stood"), ("sit", "sat"), ("make", "made"),
    ("bring", "brought"), ("catch", "caught"), ("teach", "taught"), ("fall", "fell", "fallen"),
    ("hide", "hid", "hidden"), ("keep", "kept"), ("meet", "met"), ("lie", "lay"), ("fly", "flew"),
    ("throw", "threw", "thrown"), ("begin", "began", "begun"), ("choose", "chose", "chosen"),
    ("see", "saw", "seen"), ("understand", "understood"), ("think", "thought"), ("feel", "felt"),
    ("tell", "told"), ("say", "said"), ("hear", "heard"), ("buy", "bought"), ("fight", "fought"),
    ("know", "knew", "known"), ("forget", "forgot", "forgotten"), ("lose", "lost"), ("win", "won"),
    ("send", "sent"), ("spend", "spent"), ("swear", "swore", "sworn"), ("wear", "wore", "worn"),
    # The same kinship words in the Japanese of anime and manga fan fiction, as the tokenizer
    # splits them ("Onee-chan" is "onee" + "chan"): asked about "your sister", the story's
    # "Onee-chan" is the reader's own word, not a looser synonym.
    ("sister", "onee", "nee", "oneesan", "neesan", "aneki", "imouto"),
    ("brother", "onii", "nii", "oniisan", "niisan", "aniki", "otouto"),
    ("mother", "kaa", "okaa", "kaasan", "okaasan"),
    ("father", "tou", "otou", "tousan", "otousan"),
)
_INFLECTIONS: dict[str, tuple[str, ...]] = {w: g for g in _INFLECTION_GROUPS for w in g}
_SYNONYMS: dict[str, tuple[str, ...]] = {}
for _group in (*_SYNONYM_GROUPS, *_INFLECTION_GROUPS,
               ("look", "looked", "see", "saw", "watch", "watched", "stare", "stared", "glance")):
    for _w in _group:
        # A word in several groups brings all of them ("care" -> love and precious).
        _SYNONYMS[_w] = tuple(dict.fromkeys((*_SYNONYMS.get(_w, ()), *_group)))

# A question about what the character said wants their own spoken lines.
_SPEECH_WORDS = frozenset({"say", "said", "tell", "told", "shout", "shouted", "ask", "asked", "call",
                           "called", "answer", "answered", "reply", "replied", "yell", "yelled", "words"})

# Cues that make a line a good fit for a question kind (checked on lowercase text).
_CAUSAL = re.compile(r"\b(because|cause|reason|why|so that|that's why|that is why)\b")
_CAUSAL_WEAK = re.compile(r"\b(since|afraid|scared|fear\w*|had to|must|so)\b")
_EMOTION = re.compile(r"\b(tears?|cr(y|ied|ying)|laugh\w*|smil\w*|grin\w*|wonderful|happy|glad|sad|"
                      r"angry|scared|afraid|fear\w*|sorry|love\w*|hate\w*|proud|ashamed|lonely|"
                      r"relie\w*|pleased|wail\w*|sob\w*|trembl\w*|shook|shaking)\b")
_QUESTION_WORDS = frozenset({"why", "what", "how", "who", "where", "when", "which"})
_PLACE = re.compile(r"\b(in|at|inside|outside|near|room|village|hospital|forest|home|bed|window)\b")
_TIME = re.compile(r"\b(when|after|before|then|once|yesterday|today|tomorrow|night|morning|while)\b")
# "How long / how many / how much / how far / how old": an amount answers it.
_MEASURE_WORDS = frozenset({"long", "many", "much", "far", "old", "often"})
_AMOUNT = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
                     r"hundred|thousand|half|dozen|several|all|every|whole|hours?|days?|weeks?|months?|"
                     r"years?|minutes?|miles?|nights?|times?)\b")
_FIRST_PERSON = re.compile(r"(?<![^\W_])(I|me|my|myself|we|us|our)(?![^\W_])")
_SAID_I = re.compile(r"\b(said|cried|exclaimed|asked|answered|replied|remarked|observed|added|returned)\s+I\b|"
                     r"\bI\s+(said|cried|exclaimed|asked|answered|replied|remarked|observed|added|returned)\b")
_QUOTE_SPAN = re.compile(r"“([^”]*)”|\"([^\"]*)\"|«([^»]*)»")


@dataclass(frozen=True, slots=True)
class Query:
    kind: QuestionKind
    terms: tuple[str, ...]  # content words (lower case), synonyms not included
    about_speech: bool  # "what did you say/tell/shout ..."
    forms: tuple[str, ...]  # every word sent to FTS: the terms and their synonyms
    named: tuple[str, ...]  # keys of other characters the question names
    signature: frozenset[str] = frozenset()  # content words + question word, to spot the same question
    exact: re.Pattern[str] | None = None  # finds the reader's own words (by light stem) in a text
    speaker_named: bool = False  # "what did <named> say": the named characters' own lines are wanted
    measure: bool = False  # "how long / how many ...": lines with an amount in them fit
    event: bool = False  # "what happened ...": what the narration shows, more than what was said
    any_form: re.Pattern[str] | None = None  # finds any search word (reader's or synonym) by light stem
    shape: frozenset[str] = frozenset()  # the question's words, names as keys, to spot it asked in the story
    about_asking: bool = False  # "what did you ask …": their own questions answer it
    past: re.Pattern[str] | None = None  # "where did you find …": the past forms of its verbs ("found")
    pairs: frozenset[tuple[str, str]] = frozenset()  # the question's word pairs ("know how", "a friend")

    def match(self) -> str | None:
        """The FTS5 MATCH expression: quoted words joined by OR; None when there is nothing to find."""
        if not self.forms:
            return None
        return " OR ".join(f'"{w}"' for w in self.forms)


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(unicodedata.normalize("NFKC", text))]


def question_kind(tokens: Sequence[str]) -> QuestionKind:
    toks = list(tokens)
    head = toks[:3]
    if "why" in toks or ("what" in head and "for" in toks[-2:]) or "reason" in toks:
        return "why"
    if any(t in _OPINION_WORDS for t in toks):
        if "how" in head and any(t in ("feel", "felt", "feeling") for t in toks) and \
                not any(t in ("about", "of", "towards", "toward") for t in toks):
            return "feel"
        return "opinion"
    kinds: tuple[QuestionKind, ...] = ("who", "where", "when", "how", "what")
    for kind in kinds:
        if kind in head or (kind == "what" and "which" in head):
            return kind
    if toks and toks[0] in ("do", "did", "does", "are", "were", "is", "was", "have", "had", "can",
                            "could", "will", "would", "should"):
        return "yesno"
    return "other"


def name_patterns(story: Story) -> dict[str, re.Pattern[str]]:
    """One regex per character matching any of its names as whole words (case-insensitive)."""
    out: dict[str, re.Pattern[str]] = {}
    for c in story.characters:
        names = sorted({n for n in (*c.names(), c.key) if n.strip()}, key=len, reverse=True)
        alts = "|".join(re.escape(n) for n in names)
        out[c.key] = re.compile(rf"(?<![^\W_])(?:{alts})(?![^\W_])", re.IGNORECASE)
    return out


def analyse(question: str, story: Story, asked: Character,
            patterns: dict[str, re.Pattern[str]] | None = None) -> Query:
    tokens = words(question)
    kind = question_kind(tokens)
    measure = any(t == "how" and tokens[i + 1] in _MEASURE_WORDS for i, t in enumerate(tokens[:-1]))
    pats = patterns if patterns is not None else name_patterns(story)
    named = [k for k, p in pats.items() if p.search(question)]
    asked_words = {w for n in (*asked.names(), asked.key) for w in words(n)}
    name_words = {w for c in story.characters if c.key in named for n in (*c.names(), c.key) for w in words(n)}
    terms: list[str] = []
    for t in tokens:
        if t in STOP_WORDS or t in _OPINION_WORDS or t in asked_words or t in name_words:
            continue
        if measure and t in _MEASURE_WORDS:
            continue
        if len(t) < 2 and not t.isdigit():
            continue
        if t not in terms:
            terms.append(t)
    forms: list[str] = []

    def add(w: str) -> None:
        if w and w not in forms and len(forms) < MAX_TERMS:
            forms.append(w)

    # Names are not search words: a main character is named in half the beats, and BM25 over
    # half a story is slow and says nothing. Named characters are matched from StoryFacts instead.
    for t in terms:
        add(t)
    for t in terms:
        for s in _SYNONYMS.get(t, ()):
            add(s)
    signature = {t for t in tokens if t in _QUESTION_WORDS or t in terms or (t in name_words and t not in asked_words)}
    # "How did you feel when Gaara called you…" is about feelings, not about Gaara's words.
    speaker_named = kind in ("what", "how", "yesno", "other") and _speech_subject(tokens, name_words - asked_words)
    # "What did Tsunade give you?": someone named does something to the one asked: their lines.
    speaker_named = speaker_named or (
        len(tokens) > 4 and tokens[0] in _QUESTION_WORDS and tokens[1] in _AUX
        and tokens[2] in name_words - asked_words and "you" in tokens[4:])
    # "Does Rat think Toad gave it up?": what that one thinks or says is in their lines.
    others = name_words - asked_words
    speaker_named = speaker_named or any(
        tokens[0] in _AUX and t in _MIND_WORDS and tokens[1] in others and all(w in others for w in tokens[1:i])
        for i, t in enumerate(tokens[:6]) if i >= 2)
    stems = sorted({re.escape(light_stem(f)) for t in terms for f in (t, *_INFLECTIONS.get(t, ()))})
    exact = re.compile(rf"(?<![^\W_])({'|'.join(stems)})", re.IGNORECASE) if stems else None
    all_stems = sorted({re.escape(light_stem(t)) for t in forms})
    any_form = re.compile(rf"(?<![^\W_])({'|'.join(all_stems)})", re.IGNORECASE) if all_stems else None
    # "What happened to you" asks for events shown; "what will happen" asks for plans (their words).
    event = "happened" in tokens
    shape = question_shape(question, pats, asked.key)
    # "did" + a verb asks about the past: a line with the verb's past form tells what was done
    # ("we found him"), more than one with the plain form ("went ahead to find").
    pasts = sorted({re.escape(f) for t in terms if "did" in tokens
                    for f in (_INFLECTIONS[t][1:2] if t in _INFLECTIONS and _INFLECTIONS[t][0] == t else
                              (() if t in _INFLECTIONS else (t + "d" if t.endswith("e") else t + "ed",)))})
    past = re.compile(rf"(?<![^\W_])({'|'.join(pasts)})(?![^\W_])", re.IGNORECASE) if pasts else None
    # Word pairs as the reader wrote them, stop words included ("do you know how to be a friend"
    # -> "know how", "a friend"), not those with a person's word: a line saying them together is
    # closer than one with the words apart.
    pairs = frozenset((a, b) for a, b in itertools.pairwise(tokens)
                      if not ({a, b} & _PERSON_WORDS or {a, b} <= _PAIR_FILLER or a in asked_words or b in asked_words))
    return Query(kind, tuple(terms), any(t in _SPEECH_WORDS for t in tokens), tuple(forms),
                 tuple(k for k in named if k != asked.key), frozenset(signature), exact, speaker_named,
                 measure, event, any_form, shape,
                 any(t in ("ask", "asked", "asking") for t in tokens), past, pairs)


# Words that do not tell two questions apart ("Who did this?" = "Who did this to Naruto?" for a
# reply): auxiliaries, articles, prepositions, third-person pronouns (who they stand for is unknown).
_SHAPE_FILLER = frozenset("""do did does the a an to of about at in on for is are was were
    be been am anyway him her them it he she they his its their hers theirs then so just still oh
    well um hm""".split())
_SHAPE_FIRST = frozenset({"i", "me", "my", "mine", "myself"})
_SHAPE_GENERIC = frozenset({"what", "who", "why", "how", "where", "when", "which", "you", "your", "yours"})


def question_shape(text: str, pats: dict[str, re.Pattern[str]], addressee: str | None,
                   speaker: str | None = None) -> frozenset[str]:
    """The words of a question that identify it: names become keys ("Naruto-kun" = "Naruto"), the
    one asked is dropped (a vocative), the asker's "I/me/my" becomes the asker's key (Gaara's
    "You…think of me?" = a reader's "Do you think about Gaara?"), filler words go."""
    for k, p in pats.items():
        text = p.sub(" " if k == addressee else f" {mention_token(k)} ", text)
    out = set()
    for w in words(text):
        if w in _SHAPE_FILLER or (len(w) < 2 and w != "i"):
            continue
        if w in _SHAPE_FIRST and speaker is not None:
            w = mention_token(speaker)
        out.add(w)
    return frozenset(out)


def same_question(story_q: frozenset[str], reader_q: frozenset[str]) -> float:
    """How surely the reader asks the question asked in the story (0: not the same)."""
    if len(story_q) < 2 or not reader_q:
        return 0.0
    if not (story_q & reader_q) - _SHAPE_GENERIC:
        return 0.0  # "What are you doing?" is not "What are you reading?"
    common = len(story_q & reader_q)
    jaccard = common / len(story_q | reader_q)
    if story_q <= reader_q and len(reader_q - story_q) <= 2 and story_q - _SHAPE_GENERIC:
        jaccard = max(jaccard, 0.6)  # "Who did this?" asked as "Who did this to Naruto?"
    return jaccard if jaccard >= 0.6 else 0.0


_PERSON_WORDS = frozenset("i me my mine you your yours he him his she her they them their we us our".split())
_PAIR_FILLER = frozenset("""a an the to of do did does is are was were be been at in on what why how who
    where when which and or it that this""".split())
_MIND_WORDS = frozenset({"think", "believe", "say", "expect", "suppose", "reckon"})
_AUX = frozenset({"did", "does", "do", "will", "would", "has", "have", "had", "can", "could"})


def _speech_subject(tokens: Sequence[str], others: set[str]) -> bool:
    """True for "what did Tsunade say/tell you": the question is about another character's words."""
    for i, t in enumerate(tokens):
        if t in _SPEECH_WORDS:
            before = tokens[max(0, i - 3):i]
            return "you" not in before and any(w in others for w in before)
    return False


@functools.lru_cache(maxsize=4096)
def mention_token(key: str) -> str:
    """A word standing for 'this character is mentioned' in the mentions column."""
    return "xk" + "".join(ch for ch in key.casefold() if ch.isalnum())


@functools.lru_cache(maxsize=65536)
def light_stem(word: str) -> str:
    """A crude stemmer for picking sentences in Python (FTS5 does real porter stemming)."""
    w = word.casefold()
    for suf in ("ingly", "edly", "ness", "ing", "ied", "ies", "ed", "es", "ly", "s"):
        if len(w) - len(suf) >= 3 and w.endswith(suf):
            w = w[: -len(suf)]
            break
    # carry / carried / carrying -> carr
    return w[:-1] if len(w) > 3 and w.endswith(("y", "i")) else w


# ---------------------------------------------------------------- in-memory view of an indexed story


@dataclass(frozen=True, slots=True)
class StoryFacts:
    """What the engine keeps in memory per indexed story (derived, rebuilt with the index)."""

    index_hash: str
    patterns: dict[str, re.Pattern[str]]
    mentions: tuple[frozenset[str], ...]  # per beat: keys of characters named in it
    speakers: tuple[frozenset[str], ...]  # per beat: keys of everyone voicing it
    first_seen: dict[str, int]  # key -> first beat that voices or names the character
    own_beats: dict[str, tuple[int, ...]]  # key -> beats the character voices, in order
    around: tuple[frozenset[str], ...]  # per beat: keys named or voiced in the few beats before it
    addressed: tuple[frozenset[str], ...] = ()  # per voiced beat: keys the line calls by name ("…, Beth.")
    spoken: tuple[str, ...] = ()  # per beat: the words inside quote marks ("" for narration)
    said_names: tuple[frozenset[str], ...] = ()  # per beat: keys named in its spoken words
    narrator: str | None = None  # the cast member telling the story in the first person ("said I")
    first_person: frozenset[int] = frozenset()  # narration beats told as "I" / "we"
    # key -> the character's replies to a question someone else asked them, in beat order, and
    # word -> positions in that tuple of the replies whose question has the word (generic words left
    # out): /ask looks up only the replies sharing a word with the reader's question.
    asked_lines: dict[str, tuple[AskedLine, ...]] = field(default_factory=dict)
    asked_words: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    # Who is in view at a point of the story (pronouns in questions), the forms of address the
    # story uses for a character ("puppet-boy" -> (key, beat known from)), and the lines calling
    # someone by one (beat -> (key, beat known from)); see bot.answers.coref.
    salience: Salience | None = None
    nicknames: dict[str, tuple[str, int]] = field(default_factory=dict)
    calls: dict[int, tuple[str, int]] = field(default_factory=dict)
    named: tuple[frozenset[str], ...] = ()  # per beat: keys named in it by name (mentions adds pronouns)
    answers: tuple[frozenset[str], ...] = ()  # per dialogue beat: who spoke just before it (whom it answers)

    def called(self, beat: int, upto: int | None) -> frozenset[str]:
        """Who the line calls by name, or by a nickname known by beat `upto`."""
        out = self.addressed[beat] if self.addressed else frozenset()
        c = self.calls.get(beat)
        if c is not None and (upto is None or c[1] <= upto):
            out = out | {c[0]}
        return out


@dataclass(frozen=True, slots=True)
class AskedLine:
    """A character's reply to a line that asks something, prepared at index time."""

    beat: int  # the reply
    scene_keys: frozenset[str]  # mention tokens of who is named in the question or around it
    shapes: tuple[frozenset[str], ...]  # question_shape of each question sentence in it


def beat_speakers(beat: Beat) -> frozenset[str]:
    keys = set(beat.speakers)
    if beat.speaker:
        keys.add(beat.speaker)
    return frozenset(keys) if beat.kind in ("dialogue", "thought") else frozenset()


def index_hash(story: Story) -> str:
    h = hashlib.sha256(INDEX_VERSION.encode())
    h.update(story.content_hash().encode())
    for c in story.characters:
        h.update(repr((c.key, c.name, c.aliases)).encode())
    return h.hexdigest()[:24]


def spoken_text(beat: Beat) -> str:
    """The words inside the quote marks of a voiced beat ("" for narration and notes)."""
    if beat.kind not in ("dialogue", "thought"):
        return ""
    pieces = [p for p in beat.quoted_text() if p.strip()]
    if not pieces:
        pieces = ["".join(g for g in m.groups() if g) for m in _QUOTE_SPAN.finditer(beat.text)]
    return " … ".join(pieces) if any(p.strip() for p in pieces) else beat.text


# "Oh, and Gaara?", "Hey Kiba!": a word that can open a call before the name
_VOCATIVE_OPENER = re.compile(r"(?:^|[,.!?…—]\s*)(?:oh,?\s+)?(?:and|oh|hey|hi|well|so|now|ne|yo|listen)$", re.IGNORECASE)


def vocatives(spoken: str, pats: dict[str, re.Pattern[str]],
              named: frozenset[str] | None = None) -> frozenset[str]:
    """Keys of the characters a line calls by name: "Come with us, Beth", "Gaara! You're okay"
    (`named`: the keys whose pattern is in `spoken`, when already known)."""
    out = set()
    for k, p in pats.items():
        if named is not None and k not in named:
            continue
        for m in p.finditer(spoken):
            before = spoken[: m.start()].rstrip()
            after = spoken[m.end():].lstrip()
            if (not before or before.endswith((",", ".", "!", "?", "…", "—")) or
                    _VOCATIVE_OPENER.search(before)) and \
                    (not after or after[0] in ",.!?…—"):
                out.add(k)
                break
    return frozenset(out)


def story_facts(story: Story) -> StoryFacts:
    pats = name_patterns(story)
    mentions: list[frozenset[str]] = []
    speakers: list[frozenset[str]] = []
    addressed: list[frozenset[str]] = []
    spoken_all: list[str] = []
    said_names: list[frozenset[str]] = []
    first_seen: dict[str, int] = {}
    own: dict[str, list[int]] = {c.key: [] for c in story.characters}
    narrator, first_person = first_person_narrator(story)
    if narrator is not None and first_person:
        first_seen[narrator] = min(first_person)
    for b in story.beats:
        named = frozenset(k for k, p in pats.items() if p.search(b.text))
        voiced = beat_speakers(b)
        spoken = spoken_text(b) if voiced else ""
        said = frozenset(k for k, p in pats.items() if p.search(spoken)) if spoken else frozenset()
        called = vocatives(spoken, pats, said) - voiced if spoken else frozenset()
        said_names.append(said)
        mentions.append(named)
        speakers.append(voiced)
        addressed.append(called)
        spoken_all.append(spoken)
        if b.kind == "note":
            continue
        # On stage: voicing a line, named by the narration, or spoken to. Being talked about in
        # someone else's line ("I shall tell Marmee") does not put a character in the scene.
        rest = b.text
        if voiced:
            pieces = [q for q in b.quoted_text() if q.strip()] or \
                ["".join(g for g in m.groups() if g) for m in _QUOTE_SPAN.finditer(b.text)]
            for piece in pieces:
                rest = rest.replace(piece, " ") if piece else rest
            if spoken == b.text:
                rest = ""
        present = {k for k in named if pats[k].search(rest)} if rest else set()
        for k in present | voiced | called:
            first_seen.setdefault(k, b.index)
        for k in voiced:
            own.setdefault(k, []).append(b.index)
    # Pronouns in spoken words ("I was worried about him") count as naming who they stand for,
    # in what a line says and whom it is about (not for who is on stage: that needs a name).
    named_only = tuple(mentions)
    sal = Salience(story, occurrences(story, pats), speakers, addressed)
    nicknames, calls = learn_nicknames(story, pats, speakers)
    refs = spoken_references(story, sal, speakers, addressed)
    for i, r in enumerate(refs):
        if r - said_names[i]:
            said_names[i] = said_names[i] | r
            mentions[i] = mentions[i] | r
    around: list[frozenset[str]] = []
    for b in story.beats:
        near: set[str] = set()
        for j in range(max(0, b.index - NEARBY_BEATS), b.index):
            if story.beat(j).scene == b.scene:
                near |= mentions[j] | speakers[j]
        around.append(frozenset(near))
    asked_lines, asked_words = _asked_lines(story, pats, mentions, speakers, around, spoken_all)
    return StoryFacts(index_hash(story), pats, tuple(mentions), tuple(speakers), first_seen,
                      {k: tuple(v) for k, v in own.items()}, tuple(around), tuple(addressed),
                      tuple(spoken_all), tuple(said_names), narrator, first_person, asked_lines, asked_words,
                      sal, nicknames, calls, named_only,
                      tuple(addressee_before(story, speakers, b) for b in story.beats))


def _asked_lines(story: Story, pats: dict[str, re.Pattern[str]], mentions: Sequence[frozenset[str]],
                 speakers: Sequence[frozenset[str]], around: Sequence[frozenset[str]],
                 spoken: Sequence[str]) -> tuple[dict[str, tuple[AskedLine, ...]],
                                                 dict[str, dict[str, tuple[int, ...]]]]:
    """Every voiced reply to a line asking something, per character who voices it (see
    _asked_in_story). A question's shape depends on the story only, so it is found once here
    rather than for every /ask."""
    lines: dict[str, list[AskedLine]] = {}
    by_word: dict[str, dict[str, list[int]]] = {}
    sentences: dict[int, list[str]] = {}  # asking beat -> its question sentences
    for b in story.beats:
        if b.kind != "dialogue" or not speakers[b.index]:
            continue
        prompt = _asking_line(story, b)
        if prompt is None:
            continue
        questions = sentences.get(prompt.index)
        if questions is None:
            questions = [s for s in _SENTENCE.findall(spoken[prompt.index])
                         if s.rstrip(" ”\"'’").endswith("?")]
            sentences[prompt.index] = questions
        if not questions:
            continue
        scene_keys = frozenset(mention_token(k) for k in mentions[prompt.index] | around[prompt.index])
        for key in sorted(speakers[b.index]):
            shapes = tuple(question_shape(q, pats, key, prompt.speaker) for q in questions)
            mine = lines.setdefault(key, [])
            for w in frozenset().union(*shapes) - _SHAPE_GENERIC:
                by_word.setdefault(key, {}).setdefault(w, []).append(len(mine))
            mine.append(AskedLine(b.index, scene_keys, shapes))
    return ({k: tuple(v) for k, v in lines.items()},
            {k: {w: tuple(n) for w, n in ws.items()} for k, ws in by_word.items()})


def first_person_narrator(story: Story) -> tuple[str | None, frozenset[int]]:
    """The character who tells the story as "I" (tagged "said I" / "I exclaimed" at least twice,
    with a good share of the narration in the first person), and the narration beats they tell."""
    tagged: dict[str, int] = {}
    for b in story.beats:
        if b.kind == "dialogue" and b.speaker:
            rest = b.text
            for piece in b.quoted_text() or ["".join(g for g in m.groups() if g)
                                              for m in _QUOTE_SPAN.finditer(b.text)]:
                rest = rest.replace(piece, " ") if piece else rest
            if _SAID_I.search(rest):
                tagged[b.speaker] = tagged.get(b.speaker, 0) + 1
    if not tagged:
        return None, frozenset()
    key, n = max(tagged.items(), key=lambda kv: kv[1])
    narration = [b for b in story.beats if b.kind == "narration"]
    told = frozenset(b.index for b in narration if _FIRST_PERSON.search(_QUOTE_SPAN.sub(" ", b.text)))
    if n < 2 or len(told) * 10 < len(narration):
        return None, frozenset()
    return key, told


def index_rows(story: Story, facts: StoryFacts) -> list[store.IndexRow]:
    by_key = {c.key: c for c in story.characters}

    def name_words(keys: frozenset[str]) -> str:
        out: list[str] = []
        for k in sorted(keys):
            c = by_key.get(k)
            out.append(mention_token(k))
            if c is not None:
                out.extend(c.names())
        return " ".join(out)

    rows = []
    for b in story.beats:
        # The beat before, when it is in the same scene: a reply is found by the question it answers
        # ("Your arm… broken?" -> "In two places."). Never a later beat: that would leak spoilers.
        # Only a line someone else said to the speaker counts (a reply is found by what it answers);
        # narration before a line, or a line before a thought, is not what the line is about.
        prev = story.beat(b.index - 1) if b.index > 0 else None
        prompt = prev.text if prev is not None and prev.scene == b.scene and prev.kind == "dialogue" \
            and b.kind == "dialogue" and prev.speaker != b.speaker else ""
        rows.append(store.IndexRow(
            beat_index=b.index, scene_index=b.scene, kind=b.kind, speakers=tuple(sorted(facts.speakers[b.index])),
            body=b.text, mentions=name_words((facts.named or facts.mentions)[b.index] | facts.speakers[b.index]),
            nearby=prompt,
        ))
    return rows


# ---------------------------------------------------------------- ranking


Relation = Literal["own", "lived", "to", "about", "other", "recent"]  # "recent": the last line, for a question with no words


@dataclass(frozen=True, slots=True)
class Candidate:
    beat: Beat
    relation: Relation  # "own": the asked character voices it; "lived": they narrate it as "I";
    # "to": said to them by name;
    # "about": it names them; else "other"
    score: float


class TermStats:
    """Document counts of search words, cached until an index changes. Words in a large share of
    all beats ("back", "sand") barely move BM25 but make every search read thousands of rows, so
    they are left out of the MATCH unless nothing rarer is left."""

    MAX_SHARE = 0.1  # of all indexed beats: the most rows one search may have to rank
    MIN_BUDGET = 400
    MAX_CACHED = 50_000

    def __init__(self) -> None:
        self._df: dict[str, int] = {}
        self._total: int | None = None

    def clear(self) -> None:
        self._df.clear()
        self._total = None

    async def prune(self, db: Store, query: Query) -> str | None:
        if not query.forms:
            return None
        if self._total is None:
            self._total = await store.indexed_beats(db)
        missing = [w for w in query.forms if w not in self._df]
        if missing:
            if len(self._df) > self.MAX_CACHED:
                self._df.clear()
            self._df.update(await store.document_counts(db, missing))
        # The reader's words first, then synonyms, rarest first, within a budget of matching rows.
        budget = max(self.MIN_BUDGET, self.MAX_SHARE * self._total)
        ordered = sorted((w for w in query.forms if self._df[w] > 0),
                         key=lambda w: (w not in query.terms, self._df[w]))
        kept: list[str] = []
        spent = 0
        for w in ordered:
            if spent + self._df[w] <= budget:
                kept.append(w)
                spent += self._df[w]
        if not any(w in query.terms for w in kept):
            # Only common words asked about: search by the rarest of the reader's own words.
            present = [t for t in ordered if t in query.terms]
            kept = present[:1] + kept
        return Query(query.kind, query.terms, query.about_speech, tuple(kept), query.named).match()


async def retrieve(db: Store, story: Story, facts: StoryFacts, asked: Character, query: Query,
                   upto: int, *, limit: int = 5, stats: TermStats | None = None) -> list[Candidate]:
    """Ranked candidates among beats 0..upto only (checked again here after the SQL filter)."""
    found: dict[int, float] = {}  # beat -> BM25
    match = await stats.prune(db, query) if stats is not None else query.match()
    if match is not None:
        for hit in await store.search(db, story.slug, match, upto, favour=asked.key, limit=60):
            found.setdefault(hit.beat_index, hit.score)
    for i in _named_candidates(story, facts, asked, query, upto):
        found.setdefault(i, 0.0)
    # The character's own lines just after a matching line of the same scene: the topic is set
    # by what was said or shown, the answer is what they said about it.
    own = set(facts.own_beats.get(asked.key, ()))
    for i, bm25 in [(i, b) for i, b in found.items() if i not in own]:
        for j in range(i + 1, min(i + 1 + _CONTEXT_BEATS, upto + 1)):
            if story.beat(j).scene != story.beat(i).scene:
                break
            if j in own:  # found through the line before it: a part of that line's match,
                # more when it is the line they answer
                asking = _asking_line(story, story.beat(j))
                share = _REPLY_SHARE if asking is not None and asking.index == i else _CONTEXT_SHARE
                found[j] = max(found.get(j, 0.0), share * bm25)
    asked_here = _asked_in_story(story, facts, asked, query, upto)
    for i in asked_here:
        found.setdefault(i, 0.0)
    exact_words: dict[int, frozenset[str]] = {}  # shared by the candidates: a beat is read once
    scored = [_score(story, story.beat(i), bm25, facts, asked, query, upto, exact_words)
              for i, bm25 in found.items() if 0 <= i <= upto]  # spoiler guard, again after the SQL
    if asked_here:
        # The story asked the character this very question and they answered: that reply wins.
        best = max((c.score for c in scored if c.beat.index not in asked_here), default=0.0)
        scored = [Candidate(c.beat, c.relation, max(c.score, (best + 1.0) * (0.9 + asked_here[c.beat.index])))
                  if c.beat.index in asked_here else c for c in scored]
    scored.sort(key=lambda c: (-c.score, -c.beat.index))
    return scored[:limit]


_REPORTED = re.compile(r"\b(?:said|says|told|tells|taught|teaches|asked|promised)\b", re.IGNORECASE)
_CONTEXT_BEATS = 3  # how far back the scene around a line is read for its topic
_CONTEXT_SHARE = 0.35  # of a matching line's BM25 given to the asked one's own lines just after it
_REPLY_SHARE = 0.6  # … and to their reply to it
_SENTENCE = re.compile(r"[^.!?…]*[.!?…]+|[^.!?…]+$")


def _asked_in_story(story: Story, facts: StoryFacts, asked: Character, query: Query,
                    upto: int) -> dict[int, float]:
    """The asked character's replies (beats <= upto) to a question someone in the story asked them
    that is the reader's question: beat -> how surely it is the same question."""
    if not query.shape:
        return {}
    out: dict[int, float] = {}
    lines = facts.asked_lines.get(asked.key, ())
    by_word = facts.asked_words.get(asked.key, {})
    # Only a question sharing a word other than the generic ones can be the same (same_question).
    for n in sorted({n for w in query.shape - _SHAPE_GENERIC for n in by_word.get(w, ())}):
        line = lines[n]
        if line.beat > upto:
            break
        for shape in line.shapes:
            # a character the reader names must be in that question or in the scene it was asked in
            if any(w.startswith("xk") and w not in shape and w not in line.scene_keys for w in query.shape):
                continue
            sim = same_question(shape, query.shape)
            if sim > out.get(line.beat, 0.0):
                out[line.beat] = sim
    return out


def _asking_line(story: Story, beat: Beat) -> Beat | None:
    """The line `beat` answers: someone else's line just before it in the scene (narration between
    them allowed)."""
    for j in range(beat.index - 1, max(-1, beat.index - 3), -1):
        prev = story.beat(j)
        if prev.scene != beat.scene:
            return None
        if prev.kind == "dialogue":
            return prev if prev.speaker != beat.speaker and prev.speaker is not None else None
        if prev.kind != "narration":
            return None
    return None


_RECENT = 300  # how far back (in the character's own lines) a name-only question looks


def _named_candidates(story: Story, facts: StoryFacts, asked: Character, query: Query,
                      upto: int) -> list[int]:
    """Beats about the characters the question names: the asked one's lines with them in or just
    before the line, and the named ones' lines with the asked one around."""
    if not query.named:
        return []
    named = set(query.named)
    out: list[int] = []
    own = facts.own_beats.get(asked.key, ())
    for i in own[: bisect.bisect_right(own, upto)][-_RECENT:]:
        if named & (facts.mentions[i] | facts.around[i] | facts.called(i, upto)):
            out.append(i)
    for key in named:
        theirs = facts.own_beats.get(key, ())
        for i in theirs[: bisect.bisect_right(theirs, upto)][-_RECENT:]:
            if query.speaker_named or asked.key in facts.mentions[i] or asked.key in facts.around[i]:
                out.append(i)
    return out


def _talked_with(story: Story, facts: StoryFacts, beat: Beat,
                 upto: int) -> tuple[frozenset[str], frozenset[str]]:
    """Who a voiced line is about or said to in words (named in its spoken words or called by
    name), and who is beside it in the conversation (speaks the line just before or after it in
    the scene, up to `upto`)."""
    i = beat.index
    out = set(facts.called(i, upto))
    if facts.said_names:
        out |= facts.said_names[i]  # named in its spoken words
    beside: set[str] = set()
    for j in (i - 1, i + 1):
        if 0 <= j <= upto and story.beat(j).scene == beat.scene and story.beat(j).kind == "dialogue":
            beside |= facts.speakers[j]
    return frozenset(out - facts.speakers[i]), frozenset(beside - facts.speakers[i])


def _exact_words(story: Story, query: Query, cache: dict[int, frozenset[str]], i: int) -> frozenset[str]:
    """The reader's own words (query.exact, lower case) in beat i's text, read once per query."""
    got = cache.get(i)
    if got is None and query.exact is not None:
        got = cache[i] = frozenset(map(str.casefold, query.exact.findall(story.beat(i).text)))
    return got or frozenset()


def _score(story: Story, beat: Beat, bm25: float, facts: StoryFacts, asked: Character,
           query: Query, upto: int | None = None,
           exact_words: dict[int, frozenset[str]] | None = None) -> Candidate:
    key = asked.key
    speakers = facts.speakers[beat.index]
    mentioned = key in facts.mentions[beat.index]
    relation: Relation
    if key in speakers:
        relation = "own"
        weight = 3.0 if beat.kind == "dialogue" else 2.7
        if query.kind in ("opinion", "feel") and beat.kind == "thought":
            weight = 3.4
        if len(speakers) > 1:
            weight *= 0.8  # a group line says less about this one character
    elif key == facts.narrator and beat.index in facts.first_person:
        relation = "lived"  # "I had come in wet…": the narrator's own account of what they did
        weight = 2.4
    elif key in facts.called(beat.index, upto) or (
            query.speaker_named and facts.answers and key in facts.answers[beat.index]
            and speakers & set(query.named)):
        relation = "to"  # "Come with us, Beth": what was said to them, they heard and answer from
        # (called by name, or — asked what that speaker did — answering their line: "what did
        # she give you?" -> "all I can give you is a week")
        weight = 1.6 if key in facts.called(beat.index, upto) else 1.4
        if query.kind in ("opinion", "feel"):
            weight *= 0.5
    elif mentioned:
        relation = "about"
        weight = 1.4 if beat.kind == "narration" else 1.2
        if query.kind in ("opinion", "feel") and beat.kind != "narration":
            weight *= 0.5  # what someone else says about you is not how you feel
    else:
        relation = "other"
        weight = 0.45
        if key not in facts.around[beat.index]:
            weight *= 0.5  # they were not even nearby: hearsay at best
    low = beat.text.casefold()
    spoken = facts.spoken[beat.index] if facts.spoken else ""
    reply_to = _prompt(story, beat) if relation == "own" else ""
    if relation == "own" and beat.kind == "dialogue" and bm25 > 0 and query.any_form is not None \
            and spoken and not query.any_form.search(spoken):
        # the words matched the narration around the line, not what they said (less so when they
        # are in the line it answers: the reply is on that topic)
        weight *= 0.8 if query.any_form.search(reply_to) else 0.6
    if relation == "own" and spoken and not query.about_speech and _only_asks(spoken):
        weight *= 0.75  # a line that only asks something seldom answers the reader's question
    if relation == "own" and query.pairs and spoken:
        weight *= 1.0 + 0.05 * min(3, len(query.pairs & _word_pairs(spoken)))
    if relation == "own" and query.about_asking and "?" in spoken:
        weight *= 1.5  # "what did you ask him?": the questions they asked
    if relation == "own" and query.about_speech and query.exact is not None and spoken and \
            _REPORTED.search(spoken) and any(
                _REPORTED.search(spoken[m.end():m.end() + 40]) for m in query.exact.finditer(spoken)):
        weight *= 1.4  # "what has your sensei told you?": "my sensei has often said to me, …"
    if query.past is not None and relation == "own" and spoken and query.past.search(spoken):
        weight *= 1.15
    if query.measure and _AMOUNT.search(spoken.casefold() if spoken else low):
        weight *= 1.5
    if query.event:
        if beat.kind == "narration" and relation == "about":
            weight *= 1.5  # "what happened to you": the narration shows it
        elif relation == "own" and beat.kind == "dialogue":
            weight *= 0.85
    if query.kind == "why" and _CAUSAL.search(low):
        weight *= 1.6
    elif query.kind == "why" and _CAUSAL_WEAK.search(low):
        weight *= 1.2
    elif query.kind == "feel" and _EMOTION.search(low):
        weight *= 1.3
    elif query.kind in ("opinion", "feel") and beat.kind == "thought":
        weight *= 1.2
    elif query.kind == "where" and _PLACE.search(spoken.casefold() if relation == "own" and spoken else low):
        weight *= 1.3
    elif query.kind == "when" and _TIME.search(low):
        weight *= 1.15
    if query.speaker_named:
        if speakers & set(query.named):
            called = facts.called(beat.index, upto)
            weight = 2.4 * (1.2 if key in facts.mentions[beat.index] | facts.around[beat.index] | called else 1.0)
            if key in called:
                weight *= 1.25  # "what did Kiba call you?": the line that calls them something
            if query.about_asking and "?" in spoken:
                weight *= 1.5  # "what did Badger ask you?": his questions
        elif relation == "own":
            weight *= 0.5
    elif query.about_speech:
        if relation == "own" and beat.kind == "dialogue":
            weight *= 1.3
        elif beat.kind == "narration":
            weight *= 0.6  # "what did you say" is not answered by the narrator's words
    if reply_to and "?" in reply_to and query.signature:
        # Someone in the story asked (nearly) this question and the character answered it. A name
        # alone ("…, said Holmes") does not make it the same question: a content word must match.
        said = {light_stem(w) for w in words(reply_to)}
        hit = sum(1 for t in query.terms if light_stem(t) in said)
        if hit:
            weight *= 1.0 + 2.5 * hit / len(query.terms)
    if query.named:
        if relation == "to" and speakers & set(query.named):
            weight *= 2.1  # "will Bob carry it for you?": what Bob said to you, by name
        elif relation == "own" and query.speaker_named:
            pass  # "what did Badger tell you?": their own line naming Badger is not what he said
        elif relation == "own" and beat.kind != "narration":
            # Their own line to or about the one asked about, in words (named in what they say,
            # called by name, or the one they answer or who answers them) is what they think of
            # them; a name only in the narration of the line is weaker.
            words_to, beside = _talked_with(story, facts, beat, beat.index if upto is None else upto)
            share = sum(1.0 if k in words_to else 0.5 if k in beside else 0.0
                        for k in query.named) / len(query.named)
            share = share if any(k in words_to for k in query.named) else 0.0
            if share:
                weight *= 1.6 + 0.4 * share
                if query.about_speech and set(query.named) & facts.called(beat.index, upto):
                    weight *= 1.2  # "what did you say to Gaara?": the line that calls him, more
            elif any(k in facts.mentions[beat.index] for k in query.named):
                weight *= 1.6
            elif any(k in beside for k in query.named):
                weight *= 1.25
            elif any(k in facts.around[beat.index] for k in query.named):
                weight *= 1.2
        elif any(k in facts.mentions[beat.index] for k in query.named):
            weight *= 2.0 if relation == "own" else 1.5
        elif any(k in facts.around[beat.index] for k in query.named):
            weight *= 1.2
        elif relation != "own":
            weight *= 0.7  # a line with nobody the question names around it
    if query.exact is not None:
        # BM25 sees synonyms as equals; the reader's own words count a little more.
        # (a stem is one word, so the words of texts joined by spaces are the words of each text)
        cache = {} if exact_words is None else exact_words
        in_line = _exact_words(story, query, cache, beat.index)
        in_prompt = _exact_words(story, query, cache, beat.index - 1) if reply_to else frozenset()
        exact = len(in_line)
        prompted = len(in_prompt)
        weight *= 1.0 + 0.2 * min(3, exact) + 0.1 * min(3, max(0, prompted - exact))
        exact = max(exact, prompted)
        if bm25 > 0 and not exact:
            weight *= 0.75  # found by a synonym only
        if relation == "own":
            # The scene just before their line (what was shown or said to them) holds the
            # reader's words: the line is their part in it ("Why did you go to his room?").
            context = set().union(*(_exact_words(story, query, cache, j)
                                    for j in range(max(0, beat.index - _CONTEXT_BEATS), beat.index)
                                    if story.beat(j).scene == beat.scene))
            seen = len(context - in_line - in_prompt)
            if seen:
                weight *= (1.0 if exact else 0.75) + 0.15 * min(2, seen)
    # A sliver of recency: what happened most recently is what the character has in mind.
    weight *= 1.0 + 0.05 * (beat.index / max(1, len(facts.mentions)))
    # bm25 is ~0 for words in most beats (a main character's name); the floor lets weights decide.
    floor = 0.3
    if query.named and relation == "own" and not query.speaker_named and \
            any(k in facts.mentions[beat.index] for k in query.named):
        floor = 1.0  # their own line naming the one asked about is on topic even without the words
    return Candidate(beat, relation, (max(bm25, 0.0) + floor) * weight)


@functools.lru_cache(maxsize=16384)
def _word_pairs(spoken: str) -> frozenset[tuple[str, str]]:
    return frozenset(itertools.pairwise(words(spoken)))


@functools.lru_cache(maxsize=16384)
def _only_asks(spoken: str) -> bool:
    """True when every sentence of the spoken words is a question ("Then what is it?")."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+", spoken.strip(" “”\"'‘’")) if p.strip()]
    return bool(parts) and all(p.rstrip(" ”\"'’").endswith("?") for p in parts)


def _prompt(story: Story, beat: Beat) -> str:
    """The words of the line just before `beat` when someone else said it in the same scene."""
    if beat.index == 0:
        return ""
    prev = story.beat(beat.index - 1)
    if prev.scene != beat.scene or prev.kind != "dialogue" or prev.speaker == beat.speaker:
        return ""
    return prev.text


def latest_own(story: Story, facts: StoryFacts, asked: Character, upto: int) -> Beat | None:
    """The character's most recent line up to `upto` (used for questions with no content words)."""
    for i in reversed(facts.own_beats.get(asked.key, ())):
        if i <= upto and story.beat(i).kind != "note":
            return story.beat(i)
    return None
