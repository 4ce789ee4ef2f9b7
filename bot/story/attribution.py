"""Who says (or thinks) each quoted line.

Rule-based and linear: every paragraph is looked at once, with a small memory of the scene
(recent mentions, the last speakers of the conversation, a speech that runs on). The rules, in
order of trust:

1. a speech tag next to the quote: "X said", "said X", "she whispered", "X and Y said together",
   before the quote ("Lee said, “…”"), after it, or between two halves of one line;
2. an action beat in the same paragraph ("Gaara nodded. “…”", "“…” Lee grinned.");
3. other quotes of the same paragraph (one paragraph, one speaker, unless a tag says otherwise);
4. a speech running on from the previous paragraph (opening quote, no closing one);
5. the subject of the narration paragraph just before;
6. turn-taking in a two-person exchange.

A name addressed inside the quote ("Gaara-kun, wait!") is a vocative: that character is
probably not the speaker, so rules 2-6 skip them. Pronouns resolve against the cast's pronouns
and the most recent compatible mention.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.story.model import Character
from bot.story.quotes import _SPEECH_BASES, _VERB_ALT, SPEECH_VERBS, THOUGHT_VERBS, Quote, word_alternation
from bot.story.ranker_weights import REVIEW_BELOW as _REVIEW_BELOW
from bot.story.sentences import sentence_ends

HONORIFICS = ("kun", "chan", "san", "sama", "sensei", "senpai", "sempai", "dono", "hime", "nii",
              "nee", "niisan", "neesan", "nii-san", "nee-san", "nii-chan", "nee-chan", "tan", "chi",
              "jii", "baa-chan", "jiji", "baachan", "shishou", "shisho", "taichou", "teme")
_TITLE_WORDS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "lady", "lord", "madam", "madame",
                          "captain", "capt", "the", "of", "de", "von", "van", "la", "le", "du", "st",
                          "saint", "king", "queen", "prince", "princess", "uncle", "aunt", "old", "young",
                          "little", "big", "master", "mistress", "professor", "prof", "colonel", "general",
                          "doctor", "father", "mother", "brother", "sister", "no"})

_MIND = re.compile(r"\b(?:in|inside|within|at) (?:the (?:back|depths|recesses|corner) of )?"
                   r"(?:his|her|their|my|your|its|[A-Z]\w+['’]s) (?:mind|head|skull|thoughts)\b")
_PRONOUN = re.compile(r"(?<![\w'’])(?<!\w-)(?:[Hh]e|[Ss]he|[Tt]hey|[Ii]t|[Hh]is|[Hh]er|[Tt]heir|[Hh]im|[Tt]hem|I|[Ww]e)(?![\w'’])(?!-\w)")
_PRON_CLASS = {"he": "he", "his": "he", "him": "he", "she": "she", "her": "she", "they": "they",
               "their": "they", "them": "they", "it": "it", "i": "i", "we": "we"}
_GROUP = re.compile(r"(?<![\w'’])(?<!\w-)(?:[Tt]he (?:pair|two(?: of them)?|three(?: of them)?|duo|trio|twins|"
                    r"boys|girls|brothers|sisters|siblings|others|group)|[Bb]oth(?: of them)?|"
                    r"[Tt]hey (?:both|all)|[Aa]ll of them|[Ee]veryone|[Tt]ogether)(?![\w'’])(?!-\w)")
_PREPOSITIONS = frozenset({"to", "at", "with", "from", "of", "for", "toward", "towards", "on", "by",
                           "behind", "beside", "as", "than", "like", "about", "into", "onto", "upon",
                           "under", "over", "past", "around", "near", "against", "before", "after",
                           "between", "among", "through", "without", "within", "unlike", "watched",
                           "saw", "told", "asked", "and", "let", "made", "help", "helped",
                           # "…," addressing Clara: the one spoken to, seen or met is no subject
                           "addressing", "addressed", "seeing", "watching", "interrupting", "answering",
                           "joining", "meeting", "greeting", "thanking", "kissing", "embracing"})
_GENDER = {w: "he" for w in ("man", "boy", "brother", "father", "husband", "son", "uncle", "king",
                              "prince", "gentleman", "lord", "sir", "nephew", "grandfather", "fellow",
                              "lad", "monk", "priest", "duke", "emperor", "papa")}
_GENDER.update({w: "she" for w in ("woman", "girl", "sister", "mother", "wife", "daughter", "aunt", "queen",
                                   "princess", "lady", "niece", "grandmother", "lass", "nun", "duchess",
                                   "empress", "maid", "mistress", "widow", "mamma", "mama")})
_BODY = frozenset("""eyes eye voice voices hand hands face mouth lips jaw head gaze expression smile brow brows
heart fingers finger shoulders shoulder arms arm legs leg breath tone throat cheeks cheek chin fists fist
hair body knees feet foot words reply answer laugh grin frown look gaze glance stomach chest countenance features
complexion colour color""".split())
# a possessive "'s"; a text whose apostrophes were lost in its conversion keeps a space ("Clara s
# mother", "I don t"): a lone "s" after a name is nothing else
_APOS_S = r"(?:['’]| (?=s\s))s"
_POSSESSIVE = re.compile(_APOS_S + r"\s+(?:(?:own|old|young|little|elder|younger|older|big|best)\s+)?([a-z]+)")
_STRANGER = re.compile(r"(?<![\w'’])(?<!\w-)([A-Z][a-z'’]+)(?:\s[A-Z][a-z'’]+)?(?![\w'’])(?!-\w)")
_NOT_NAMES = frozenset("""The Then But And He She It They I We You His Her Their Its A An Mr Mrs Ms Miss Dr Sir
Lady Lord Someone Somebody Everyone Everybody Nobody No Yes Oh Ah Well Now So If This That There Here What Why
How When Where Who Which One Two Both All Another Each Still Just Even After Before Finally Suddenly Instead
Maybe Perhaps Again Once Later Soon Meanwhile Outside Inside Behind Beside Across Around Together Slowly
Quietly Softly God As At On In To Upon For From With By Of Next Said Thus Whereupon Presently""".split())
# a beat whose actor hears the line: "Clara could only catch the words,", "in time to hear her
# cousin exclaim to Hugh,", "she could distinguish,"
_SAY_FORMS = r"(?:say|said|exclaim|cry|call|whisper|murmur|mutter|add|answer|reply|repeat|begin|go\s+on)\w*"
_PERCEIVED = re.compile(r"\b(?:hear|catch|distinguish|make\s+out)\s+(?:the\s+(?:words|question|answer)\b|"
                        r"(?:[\w'’]+\s+){1,3}?" + _SAY_FORMS + r"\b)[^.!?;“”\"]{0,40}$|"
                        r"\b(?:could|can)\s+(?:just\s+|only\s+|now\s+)?(?:hear|catch|distinguish)\s*[,:]\s*$")
_DESCRIBED = frozenset({"a", "an", "the", "his", "her", "their", "another", "one", "some"})
_ELDERS = frozenset({"mother", "father", "wife", "husband", "mama", "papa", "mamma"})
_SIBLINGS = frozenset({"sister", "brother", "daughter", "son"})
_KIN = _ELDERS | _SIBLINGS | {"aunt", "uncle", "cousin", "niece", "nephew"}
_INTRO = re.compile(r"(?:[Mm]y name is|[Mm]y name’s|[Mm]y name's|\bI am|\bI'm|\bI’m|[Cc]all me)\s+$")
_LAST_WORD = re.compile(r"([\w'’-]+)\W*$")
_WORDS = re.compile(r"[\w'’-]+")
_GENERIC_SUBJECT = re.compile(r"(?<![\w'’])(?<!\w-)(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Oo]ne|[Ss]omeone|"
                              r"[Aa]nother|[Tt]his|[Tt]hat)\s+(?:[a-z][\w-]*\s+){0,2}[a-z][\w-]*")

_BARE_TITLES = frozenset({"sensei", "sama", "senpai", "sempai", "shishou", "shisho", "taichou", "dono"})
_GREETING_BEFORE = re.compile(r"(?<![\w'’])(?<!\w-)(?:[Tt]hank you|[Tt]hanks|[Hh]ey|[Hh]i|[Hh]ello|[Yy]es|[Nn]o|[Hh]ai|[Nn]e|"
                              r"[Oo]h|[Aa]h|[Ss]orry|[Pp]lease|[Bb]ye|[Gg]oodbye|[Oo]kay|[Yy]eah|[Yy]ou)$")
_HONORIFIC_END = re.compile(r"-(?:" + "|".join(sorted(map(re.escape, HONORIFICS), key=len, reverse=True)) + r")$")
_NOD = re.compile(r"\s*((?:[A-Z][\w'’-]*\s+){1,2})(?:\w+ly\s+)?(?:nodded|nods|shook\s+(?:his|her|their)\s+head)\b")
_PAST_PERFECT = re.compile(r"\b(?:had|has|have)\s+$")
_SILENCE = re.compile(r"\b(?:did\s+not|didn['’]t|does\s+not|doesn['’]t|would\s+not|wouldn['’]t|never)\s+"
                      r"(?:interrupt|answer|respond|reply|speak|say\s+(?:a\s+word|anything))|"
                      r"\bsaid\s+nothing\b|\b(?:stayed|remained|kept)\s+(?:silent|quiet)\b|"
                      r"\bheld\s+(?:his|her|their)\s+tongue\b|"
                      # "Tobias said no more." / "Agnes bowed." / "…, but he made no reply."
                      r"\bsaid\s+no\s+more\b|\bmade\s+no\s+(?:reply|answer|rejoinder|response)\b|"
                      r"\b(?:was|were)\s+(?:silent|speechless)\b|\b(?:bowed|nodded)\b|\bassent(?:ed)?\b|"
                      r"\bwithout\s+(?:a\s+word|answering|replying)\b|\bno\s+(?:answer|reply)\b|"
                      r"\bcould\s+(?:not|only)\s+(?:answer|reply|speak|bow|smile)\b")


# a speech verb: "said", "went on"; a dash is no part of the word ("said he--", "--said she")
_VERB_RE = re.compile(r"(?<![\w'’])(?<!\w-)(?:" + _VERB_ALT + r")(?![\w'’])(?!-\w)")


def _ing(base: str) -> str:
    """"exclaim" -> "exclaiming", "observe" -> "observing", "cry" -> "crying", "sob" -> "sobbing"."""
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        return base[:-1] + "ing"
    if base in ("sob", "snap", "beg", "yap", "rap", "begin", "stop", "chat", "quip", "submit", "admit", "commit",
                "permit", "regret", "rebut"):
        return base + base[-1] + "ing"
    return base + "ing"


# a speech verb in any form a narration sentence hands the word over with: "Clara exclaimed,",
# "…, and saying to her cousin--", "…Mr. Pell at once accosted her with,"
_LEAD_BASES = (_SPEECH_BASES.split() + [w for w in SPEECH_VERBS if " " not in w and not w.endswith(("ed", "s", "ing"))])
_LEAD_VERBS = ({*SPEECH_VERBS, *(_ing(b) for b in _LEAD_BASES), "going on", "breaking in", "calling out",
                "crying out", "speaking", "telling", "beginning", "took up", "broke out", "burst out",
                "spoke up", "opened", "accosted", "concluding", "interrupting"}
               - {"told", "tell", "tells", "telling", "bid", "bids", "bade", "order", "ordered", "direct",
                  "directed", "return", "returned", "returns", "finish", "finished", "question", "questioned",
                  "address", "addressed", "call", "called", "calls", "laugh", "laughed", "smile", "smiled",
                  "grin", "grinned", "sigh", "sighed"})
# a tag before its line: "Agnes interrupted him by exclaiming--"
_TAG_VERB_RE = re.compile(r"(?<![\w'’])(?<!\w-)(?:" + word_alternation(
    {*SPEECH_VERBS, *THOUGHT_VERBS, *(_ing(b) for b in _LEAD_BASES)}) + r")(?![\w'’])(?!-\w)")
_PROGRESSIVE = re.compile(r"(?<![\w'’])(?:was|were)\s+(?:\w+ly\s+)?(" + word_alternation(
    {*(_ing(b) for b in _LEAD_BASES), "beginning", "going on", "calling out", "crying out"}) + r")(?![\w'’])(?!-\w)")
_ANY_WORDS = re.compile(r"[\w'’]+(?:\s+[\w'’]+)*")
_LEAD_VERB_RE = re.compile(r"(?<![\w'’])(?<!\w-)(?:" + word_alternation(_LEAD_VERBS) + r")(?![\w'’])(?!-\w)")
# a sentence that ends by handing over the word: a colon, a dash, a comma
_LEAD_END = re.compile(r"(?:[,:;]\s*(?:--+|[—–])?|--+|[—–])\s*$")
_NEGATED = re.compile(r"\b(?:not|never|n['’]t|without|nothing|cannot)\s+(?:\w+\s+)?$")
_HELP = re.compile(r"\bhelp\s+$")
# narration after a line that opens a clause of its own ("…;" and Hugh muttered: / "…" To which
# Clara returned, / "…," when Agnes suggested-- / "…" Which Hugh confirmed.): a tag for the next
# line or someone's answer, not this line's tag (a speaker going on: "…," and he added)
_NEW_CLAUSE = re.compile(r"\W*(?:(?:and|but)(?:\s+(?:then|so|thus))?(?:\s+(?:when|while|whilst))?|to\s+which|"
                         r"which|whereupon|when|while|whilst)\b", re.IGNORECASE)
_NEW_CLAUSE_IN = re.compile(r"[,;]\s*(?:and\s+)?(?:when|while|whilst|whereupon)\b")
_GOING_ON = frozenset({"added", "adds", "continued", "continues", "went on", "goes on", "resumed", "resumes",
                       "pursued", "concluded", "repeated", "repeats"})
# "…" Hugh said nothing. / Clara said no more / Tobias then said something about the weather /
# Agnes agreed to it: the one who answers (or does not), not the tag of the line (but "…" She said
# nothing of the kind: the words she kept back are hers)
_NO_TAG_OBJECT = re.compile(r"\s+(?:no\s+more|nothing(?!\s+of\s+th)|something|not\s+a\s+word|a\s+few\s+words|to\s+(?:it|this|that))\b")
_AS_SAID = re.compile(r"\s+(?:\w+ly\s+)?(?:" + _VERB_ALT + r")\b")
# words a tag before its line may carry after the verb ("said, in a somewhat hurt voice,")
_TAG_TAIL = 8
# "receiving no other answer than a sigh--", "could get no more reply than", "evoked the answer:":
# the line that follows is the other person's answer, not the sentence subject's
_ANSWER_GOT = re.compile(
    r"\b(?:receiv(?:e|es|ed|ing)|g[eo]t(?:s|ting|ten)?|obtain(?:s|ed|ing)?|dr(?:ew|aw|aws|awn|awing)|"
    r"evok(?:e|es|ed|ing)|elicit(?:s|ed|ing)?|extract(?:s|ed|ing)?)\s+"
    r"(?:(?:from\s+)?(?:him|her|them)\s+)?"
    r"(?:(?:no|other|more|further|better|nothing|only|the|this|a|an)\s+){0,3}"
    r"(?:answer|reply|response|rejoinder)s?\b"
    r"(?:\s+(?:than|but|save|except)\b[^.!?;]{0,40}|(?:\s+from\s+\w+(?:\s+\w+)?)?\s*[:,—–-]*\s*)\Z",
    re.IGNORECASE)
_OWNED_BODY = re.compile(_APOS_S + r"\s+(?:\w+\s+)?(?:eyes|eye|hand|hands|face|head|gaze|looks|heart|arm|arms|mind|thoughts)\b")
# "the new policeman", "the second gentleman": not the one the cast calls "the policeman"
_OTHER_ONE = frozenset({"new", "other", "first", "second", "third", "fourth", "last", "former", "latter", "next",
                        "another", "younger", "elder", "older", "same", "real", "false", "strange"})
_SPACED_END = re.compile(r"\w[ \t]{3,}\Z")
# a verb of a clause about what was said, not its tag: "what she said"
_REPORTED = re.compile(r"(?<![\w'’])(?:what|whatever)\s+(?:[\w'’.]+\s+){1,2}(?:\w+ly\s+)?$")
_TURNED = re.compile(r"\b(?:turning|turned|looking|looked|glancing|glanced|nodding|bowing|addressing|"
                     r"said|says|added|whispered|replied|answered|cried|observed|remarked|continued|"
                     r"went\s+on|called|murmured|explained|repeated|exclaimed)"
                     r"(?:\s+(?:round|back|again|aside|quickly|suddenly|eagerly|gravely|softly))?"
                     r"\s+(?:to|at|towards|toward|upon)\s+$")
_STAGE = re.compile(r"\s*\([^()\n]{1,120}\)\s*[,;]?\s*(?:--+|[—–])?\s*")
# "…" was said at the same moment by Agnes / were the first words that came from him /
# "…" from Mr. Pell
_AGENT = re.compile(r"\s*,?\s*(?:(?:at\s+last|at\s+once|then|now|[a-z]+ly)\s+)?"
                    r"(?:(?:was|were|had\s+been|came|burst|broke|escaped)\b[^.;!?\"“”]{0,60}?\b"
                    r"(?:by|from|(?:view|opinion|answer|reply|cry|exclamation|remark|comment|verdict|response|"
                    r"rejoinder|retort|advice|declaration|words)\s+of)|from)\s+")
_HEARD = re.compile(r"\b(?:heard|hear|hears|hearing|overheard|let|made|bade|bid)\s+$")
# the sentence's subject is spoken to, not speaking: "Clara came in and was greeted with, “…”"
# (the one who greets may follow: "was met by Mrs. Pell with")
_RECEIVED = re.compile(r"\b(?:was|were|being|is|are)\s+(?:(?:at\s+once|then|now|soon|\w+ly)\s+)?(?:greeted|accosted|addressed|met|saluted|"
                       r"welcomed|received|hailed|interrupted|assailed|stopped)\b(?P<rest>(?:[^.;!?\"“”]|\.(?=\s[A-Z])){0,60}?)"
                       r"\b(?:with|by)\s*[,:]?\s*(?:--+|[—–])?\s*\Z")
# a title or determiner that may stand right before a name, then the end of the window
_TITLE_THEN_END = r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Lady|Lord|Sir|Captain|the|his|her|their|my)\.?\s+)?$"
# what is repeated or heard is someone else's: "she echoed Agnes's last words, “…”"
_ECHOED = re.compile(r"\b(?:echo(?:ed|es|ing)?|repeat(?:ed|s|ing)?|quot(?:ed|es|ing)|recall(?:ed|s|ing)?|"
                     r"remember(?:ed|s|ing)?|heard|hear|caught|mimick(?:ed|ing)|imitat(?:ed|es|ing))\s+"
                     + _TITLE_THEN_END)
# "on Hugh's reply, “…” she said": a time, not the owner of the line that follows
_TIME_BEFORE = re.compile(r"(?<![\w'’])(?:[Oo]n|[Uu]pon|[Aa]fter|[Aa]t|[Bb]efore|[Tt]o|[Ii]n|[Ww]ith|[Aa]gainst)\s+"
                          + _TITLE_THEN_END)
# a speech verb's participle that only describes a noun: "Agnes's concluding words"
_VERB_AS_ADJECTIVE = re.compile(r"\s+(?:words?|remarks?|speech|answers?|repl(?:y|ies)|questions?|observations?|"
                                r"sentences?|phrases?|lines?|tones?|voice)\b")
# a speech verb that reports what was said instead of tagging a line: "…?" Hugh shrugged,
# declared that he had never heard of it / declared he had never …
_REPORTS = re.compile(r"\s+(?:that\b|(?:he|she|they|it|I|we|you)\s+(?!(?:to|in|with|at|as|of|for|from|on|and|"
                      r"but|again|once|then|now|aloud|gravely|coldly|softly|quietly|shortly|simply|slowly|"
                      r"presently|calmly|sharply|quickly|kindly|warmly|earnestly)\b)(?![a-z]*ly\b)[a-z]+\b)")
# "Clara often heard him say": the one heard speaks, not the one hearing
_HEARD_PRONOUN = re.compile(r"\b(?:heard|hear|hears|hearing|overheard|let|made|bade|bid)\s+(him|her|it|them)\s+"
                            r"(?:\w+ly\s+)?$")
_LOST_DASH = re.compile(r"[ \t]{3,}(?:\r?\n|\Z)")
_WHO = re.compile(r",\s+who\b")
_ADJACENT = re.compile(r"(?:" + _APOS_S + r")?,?\s+(?:\w+ly\s+)?")
# a tag's verb whose subject is not the one doing it: "Clara felt persuaded", "was answered"
_COPULA = re.compile(r"(?<![\w'’])(?:was|were|be|been|being|is|are|am|felt|feel|feels|seemed|seems|looked|"
                     r"appeared|became|become|got|grew)\s+(?:\w+ly\s+)?$", re.I)
# "Tobias began to think…": the verb starts something else, not the line's words
_ASPECT = frozenset({"began", "begins", "begin", "begun", "continued", "continues", "proceeded", "proceeds",
                     "resumed", "went on", "ventured", "hazarded", "pursued", "returned"})
_INFINITIVE_AFTER = re.compile(r"\s+to\s+([a-z]+)\b")
_NOT_VERBS = frozenset({"his", "her", "their", "my", "your", "our", "its", "the", "a", "an", "him", "them", "me",
                        "us", "you", "himself", "herself", "themselves", "myself", "yourself", "one", "each",
                        "every", "this", "that", "these", "those", "all", "both", "some", "any", "no", "whom",
                        "which", "what", "whoever", "it", "everybody", "everyone", "anybody", "anyone",
                        "nobody", "somebody", "someone", "mama", "mamma", "papa"})
_OBJECT_BEFORE = re.compile(r"(?<![\w'’])(him|her|them)\s+(?:\w+ly\s+)?$")
_INFINITIVE = re.compile(r"\s+to\s+(?:[\w'’]+,?\s+){0,5}")

def _pron_class(pronouns: str) -> str | None:
    p = pronouns.strip().lower().split("/")[0].strip()
    return {"he": "he", "she": "she", "they": "they", "it": "it"}.get(p)


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    key: str


def _scan(rx: re.Pattern[str], names: re.Pattern[str], text: str, start: int, end: int) -> list[re.Match[str]]:
    """The matches of `rx.finditer(text, start, end)`, found fast: `names` is `rx` without what
    comes before a name (the look-behinds and a stammer's "G-"), which is what made the scan slow
    (a regex starting with look-behinds is tried at every character; one starting with its
    names' letters is not). Every match of `rx` has a name where `names` matches, at most a
    stammer after its start; so `rx` is only tried at the names `names` finds and the stammer
    letters right before them, leftmost first, as `finditer` would."""
    out: list[re.Match[str]] = []
    pos = start
    while True:
        f = names.search(text, pos, end)
        if f is None:
            return out
        c = f.start()
        while c - 2 >= pos and text[c - 1] == "-" and "A" <= text[c - 2] <= "Z":
            c -= 2  # "G-G…": a stammer may start the match
        for at in range(c, f.start() + 1, 2):
            m = rx.match(text, at, end)
            if m is not None:
                out.append(m)
                pos = m.end()
                break
        else:
            pos = f.start() + 1


class NameIndex:
    """Finds mentions of cast members: names, aliases, parts of full names, honorific forms."""

    def __init__(self, cast: Sequence[Character], text: str = "") -> None:
        self.cast = list(cast)
        # a cast entry that is only another character's short form ("Charles" beside "Charles
        # Musgrove", "Mr. Crawford" beside "Henry Crawford"): its mentions are that character's
        self.same_as = _short_forms(cast, text)
        self.pron: dict[str, str | None] = {c.key: _pron_class(c.pronouns) for c in cast
                                            if c.key not in self.same_as}
        self.keys = [c.key for c in cast if c.key not in self.same_as]
        self.names_of: dict[str, tuple[str, ...]] = {c.key: tuple(c.names()) for c in cast}
        # family names and titles, for "said her mother" (Mrs. Bennet, mother of Elizabeth Bennet)
        self.surname: dict[str, str] = {}
        self.titled: set[str] = set()
        for c in cast:
            words = [w.strip(".,") for w in c.name.split()]
            if len(words) >= 2:
                self.surname[c.key] = words[-1]
            elif words:
                # "Emma" known also as "Emma Woodhouse" / "Miss Woodhouse": her family name
                longer = [[w.strip(".,") for w in a.split()] for a in c.aliases]
                longer = [a for a in longer if len(a) >= 2 and a[-1][:1].isupper()
                          and a[-1].lower() not in _TITLE_WORDS]
                longer.sort(key=lambda a: a[0] != words[0])
                if longer:
                    self.surname[c.key] = longer[0][-1]
            if words and words[0].lower() in ("mr", "mrs", "madame", "monsieur", "lord", "lady", "sir"):
                self.titled.add(c.key)
        exact: dict[str, set[str]] = {}
        lower: dict[str, set[str]] = {}
        derived: dict[str, set[str]] = {}
        surname_of: dict[str, set[str]] = {}
        for c in cast:
            owner = self.same_as.get(c.key, c.key)
            for n in c.names():
                n = n.strip()
                if not n or n.lower() in ("i", "me", "narrator", "the narrator"):
                    continue
                base = _strip_honorific(n)
                words = base.split()
                if len(words) >= 2 and words[0].lower() in ("the", "his", "her", "their"):
                    # "The Policeman", "The King": met as "the policeman", "the King"; "His
                    # Valet" as "the valet"; "The Voice" first heard as "a Voice"
                    rest = " ".join(words[1:]).lower()
                    lower.setdefault("the " + rest, set()).add(owner)
                    if words[0].lower() == "the" and rest not in _GENDER:
                        lower.setdefault(("an " if rest[:1] in "aeiou" else "a ") + rest, set()).add(owner)
                elif len(words) >= 3 and words[0].lower() in ("a", "an"):
                    # "A Lady In The Group": met as "a lady in the group"
                    lower.setdefault(" ".join(words).lower(), set()).add(owner)
                elif len(words) >= 2 and words[0].lower().rstrip(".") in _RANKS:
                    # "Colonel Ducroix" is "the Colonel" (while he is the only one)
                    lower.setdefault("the " + words[0].lower().rstrip("."), set()).add(owner)
                for form in {n, base, _particles_lower(n), _particles_lower(base)}:
                    if form[:1].isupper():
                        exact.setdefault(form, set()).add(owner)
                        exact.setdefault(form.upper(), set()).add(owner)
                    elif form:
                        lower.setdefault(form.lower(), set()).add(owner)
                        if form.lower().startswith("the ") and len(form) > 6:
                            # "the young man" is first met as "a young man"
                            rest = form[4:].lower()
                            art = "an " if rest[:1] in "aeiou" else "a "
                            lower.setdefault(art + rest, set()).add(owner)
            parts = [p for p in re.split(r"[\s]+", c.name.strip()) if p]
            # first names of the aliases too ("May" of "May Welland")
            for a in c.aliases:
                ap = a.split()
                if len(ap) == 2 and ap[0][:1].isupper() and ap[0].lower().rstrip(".") not in _TITLE_WORDS \
                        and ap[0] not in _NOT_NAMES:  # (not the "A" of "A Voice")
                    derived.setdefault(ap[0].strip(".,"), set()).add(owner)
            pieces = parts if len(parts) > 1 else []
            described = bool(pieces) and pieces[0].lower() in _DESCRIBED
            if described:
                # a description ("A Tall Man", "The Man With The Black Beard"): only its noun
                # stands for it alone ("the Rabbit"), not "Tall", "Black" or the "New" of "New York"
                head = next((i for i, w in enumerate(pieces) if i and w.lower() in _PREPOSITIONS), len(pieces))
                pieces = pieces[head - 1 : head]
            for p in pieces:
                p2 = p.strip(".,")
                if len(p2) >= 2 and p2[:1].isupper() and p2.lower().rstrip(".") not in _TITLE_WORDS \
                        and p2 not in _NOT_NAMES:  # (not the "From" of "A Voice From Within")
                    derived.setdefault(p2, set()).add(owner)
                    if p is parts[-1] and not described and parts[0].lower().rstrip(".") not in _TITLE_WORDS:
                        surname_of.setdefault(p2, set()).add(owner)
        for form, keys in derived.items():
            if len(keys) > 1:
                # a bare surname shared by a family ("Denham": Ralph Denham, Mrs. Denham) is the
                # one man among them named without a title, as narration uses it
                men = {k for k in surname_of.get(form, ()) if self.pron.get(k) == "he"}
                if len(men) == 1:
                    keys = men
            if len(keys) == 1 and form not in exact:
                exact[form] = set(keys)
                exact.setdefault(form.upper(), set()).update(keys)
        # A form naming two characters ("Bennet" for Mr. and Mrs. Bennet) is ambiguous: skip it.
        self.by_form: dict[str, str] = {f: next(iter(k)) for f, k in exact.items() if len(k) == 1}
        # forms shared by several ("Hugh" for Hugh Marlow and Hugh Pell): not a mention by
        # themselves, but a speech tag's "said Hugh" means the one of them in view
        self.shared: dict[str, frozenset[str]] = {f: frozenset(k) for f, k in exact.items() if len(k) > 1}
        for form, keys in derived.items():
            if len(keys) > 1 and form not in exact:
                self.shared[form] = frozenset(keys)
        self.by_lower: dict[str, str] = {f: next(iter(k)) for f, k in lower.items() if len(k) == 1}
        suffix = "(?:-(?:" + "|".join(sorted(HONORIFICS, key=len, reverse=True)) + "))?"
        self.rx: re.Pattern[str] | None = None
        self._rx_names: re.Pattern[str] | None = None
        if self.by_form:
            # "G-Gaara" (a stammer) is a mention of Gaara too
            names = "(" + word_alternation(list(self.by_form)) + ")" + suffix + r"(?!\w)(?!-\w)"
            self.rx = re.compile(r"(?<![\w'’])(?<!\w-)(?:[A-Z]-(?=[A-Z]))*" + names)
            self._rx_names = re.compile(names)
        self.rx_lower: re.Pattern[str] | None = None
        self._rx_lower_names: re.Pattern[str] | None = None
        if self.by_lower:
            names = "(" + word_alternation(list(self.by_lower)) + ")" + suffix + r"(?!\w)(?!-\w)"
            self.rx_lower = re.compile(r"(?<![\w'’])(?<!\w-)" + names, re.I)
            self._rx_lower_names = re.compile(names, re.I)

    def find(self, text: str, start: int, end: int) -> list[Mention]:
        out: list[Mention] = []
        if self.rx is not None and self._rx_names is not None:
            for m in _scan(self.rx, self._rx_names, text, start, end):
                form = m.group(1)
                out.append(Mention(m.start(), m.end(), self.by_form[form if form in self.by_form else " ".join(form.split())]))
        if self.rx_lower is not None and self._rx_lower_names is not None:
            for m in _scan(self.rx_lower, self._rx_lower_names, text, start, end):
                key = self.by_lower.get(" ".join(m.group(1).lower().split()))
                if key is not None:
                    out.append(Mention(m.start(), m.end(), key))
            out.sort(key=lambda x: x.start)
        return out


_PLAIN_TITLES = {"mr": "he", "master": "he", "miss": "she"}
_RANKS = frozenset({"colonel", "captain", "major", "general", "admiral", "sergeant", "inspector", "doctor",
                    "professor", "president", "secretary", "marquis", "marchioness", "count", "countess",
                    "baron", "baroness", "duke", "duchess", "prince", "princess", "king", "queen", "judge",
                    "abbe", "abbé", "father", "reverend", "governor", "commandant", "lieutenant"})
_RANK_TITLES = frozenset({"mrs", "lady", "sir", "lord", "dr", "captain", "colonel", "admiral", "general",
                          "madame", "monsieur", "mademoiselle", "mme", "mlle", "professor", "aunt", "uncle",
                          "count", "countess", "baron", "marquis", "duke", "duchess", "the"})


def _short_forms(cast: Sequence[Character], text: str) -> dict[str, str]:
    """Cast entries that only repeat a short form of another character: no aliases of their own,
    a one-word name that is a first name or surname of others ("Bounderby" beside "Josiah
    Bounderby"). Each goes to the fitting character whose full names the text uses clearly most
    (twice as often as the next), else it stays a character of its own."""
    def words(n: str) -> list[str]:
        return [w.strip(".,").lower() for w in n.split() if w.strip(".,")]

    out: dict[str, str] = {}
    by_key = {c.key: c for c in cast}
    for c in cast:
        if c.aliases:
            continue
        ws = words(c.name)
        if not ws:
            continue
        if len(ws) == 2 and ws[0] == "mr" and _pron_class(c.pronouns) in (None, "he"):
            # "Mr. Crawford" beside "Henry Crawford": the one man of that name known by his
            # first name (a father, "Mr. Price" beside two sons, stays himself)
            sons = [o.key for o in cast if o.key != c.key and _pron_class(o.pronouns) == "he"
                    and len(words(o.name)) == 2 and words(o.name)[1] == ws[1]
                    and words(o.name)[0] not in _RANK_TITLES and words(o.name)[0] not in _PLAIN_TITLES]
            if len(sons) == 1:
                out[c.key] = sons[0]
            continue
        # only a bare one-word name: "Mr. Musgrove" beside "Charles Musgrove" may be his father
        title = None
        rest = ws
        if len(rest) > 1 or rest[0] in _RANK_TITLES or rest[0] in _PLAIN_TITLES:
            continue
        own = _pron_class(c.pronouns)
        fits: list[tuple[int, str]] = []
        for o in cast:
            if o.key == c.key:
                continue
            op = _pron_class(o.pronouns)
            if (title or own) and op is not None and op != (title or own):
                continue
            names = [words(n) for n in o.names()]
            if not any(rest[0] in n and n != ws for n in names):
                continue
            if title and all(n and n[0] in _RANK_TITLES | set(_PLAIN_TITLES) - {ws[0]} for n in names):
                continue  # "Miss Bertram" is not "Lady Bertram"
            if any(n == ws for n in names):
                continue
            fits.append((sum(text.count(n) for n in o.names() if " " in n or len(o.names()) == 1), o.key))
        if not fits:
            continue
        if sum(words(by_key[k].name)[:1] == ws for _, k in fits) > 1:
            # a first name shared by several ("Charles" beside Charles Hayter and Charles
            # Musgrove): the one whose other names the text puts around the bare first name
            fits = [(_near_count(text, c.name, by_key[k]), k) for _, k in fits]
        fits.sort(reverse=True)
        if len(fits) == 1 or fits[0][0] >= 2 * max(1, fits[1][0]):
            out[c.key] = fits[0][1]
    return {k: v for k, v in out.items() if v not in out}


def _near_count(text: str, bare: str, other: Character, window: int = 600) -> int:
    """How often `other`'s own name words (not `bare`, no titles) occur near the bare word."""
    own = {w.strip(".,") for n in other.names() for w in n.split()} - {bare}
    own = {w for w in own if len(w) >= 3 and w[:1].isupper() and w.lower() not in _TITLE_WORDS}
    if not own or not bare.strip():
        return 0
    rx = re.compile(r"(?<![\w'’])(?<!\w-)(?:" + "|".join(map(re.escape, sorted(own))) + r")(?![\w'’])(?!-\w)")
    n = 0
    for m in re.finditer(r"(?<![\w'’])(?<!\w-)" + re.escape(bare) + r"(?![\w'’-]|\s+[A-Z])", text):
        n += len(rx.findall(text, max(0, m.start() - window), m.end() + window))
    return n


_PARTICLES = frozenset({"van", "der", "den", "de", "von", "la", "le", "du", "di", "da", "del", "della", "ten", "ter"})


def _particles_lower(name: str) -> str:
    """"Mr. Van Der Pol" as the text writes him: "Mr. van der Pol"."""
    words = name.split(" ")
    return " ".join(w.lower() if i > 0 and w.lower() in _PARTICLES else w for i, w in enumerate(words))


def _strip_honorific(name: str) -> str:
    low = name.lower()
    for h in sorted(HONORIFICS, key=len, reverse=True):
        if low.endswith("-" + h):
            return name[: -len(h) - 1]
    return name


@dataclass(slots=True)
class SpeakerGuess:
    """Who speaks (or thinks) one quoted passage, by which rule, and how sure: the attributor's guess
    for one quote (not the engine's `Voice`, the name and avatar a line is performed under)."""
    speakers: tuple[str, ...]
    thought: bool = False
    source: str = ""  # which rule decided: tag_after, tag_before, action, paragraph, runon, turn...
    named: bool = False  # the tag names the speaker (not a pronoun)
    exclude: tuple[str, ...] = ()  # "said his wife": not the husband
    gender: str | None = None  # "said the girl": someone who is "she"
    confidence: float = 0.0  # how likely the speaker is right (see `confidence`)
    runner_up: str | None = None  # the next most likely speaker
    rivals: int = 0  # a pronoun tag: how many people of its pronouns were in view
    addressee: str | None = None  # the one person the line calls by name ("…, Mr. Darcy?"), if any


@dataclass(slots=True)
class _Turn:
    key: str
    voices: list[SpeakerGuess]
    anchor: bool  # a tag names the speaker
    avoid: set[str]  # addressed by name in the line
    fixed: bool = True  # some evidence of its own (a tag, an action): never changed
    near: tuple[str, ...] = ()  # the first turn of a run: people the narration just before it named
    named: set[str] = field(default_factory=set)  # people the line names (calls or talks about)
    called: set[str] = field(default_factory=set)  # pronouns of whom it calls "sir", "madam"…
    dear: set[str] = field(default_factory=set)  # whom it calls "my dear Clara", "dearest Hugh"
    gap: bool = False  # a short narration paragraph comes between this turn and the one before
    chars: int = 0  # how long its lines are (characters): a story told over several paragraphs
    margin: float | None = None  # how sure the run's decoding is of this turn (see `_decode_run`)


# words that call someone without their name, and that someone's pronouns: "No, sir." / "Well, mamma,"
_CALLED_GENDER = {w: "he" for w in ("sir", "papa", "father", "my lord", "young man", "my boy", "uncle",
                                    "monsieur", "sire", "my son", "old fellow", "my good man", "brother",
                                    "dad", "daddy", "my dear fellow", "old man", "old chap", "my lad", "dear boy",
                                    "grandpapa", "nephew")}
_CALLED_GENDER.update({w: "she" for w in ("madam", "ma'am", "ma’am", "mamma", "mama", "mother", "my lady",
                                          "aunt", "madame", "mademoiselle", "my daughter", "my good woman",
                                          "sister", "miss", "mummy", "my girl", "my dear girl", "grandmamma",
                                          "niece", "dear girl")})
_CALLED_WORD = re.compile(r"(?<![\w'’])(" + word_alternation(_CALLED_GENDER, any_space=False)
                          + r")(?=\s*(?:[,!?.;:—–-]|$))", re.I)
# what comes before such a word when it calls someone: nothing, a stop, or "Oh"/"Yes"/"Well"…
_CALLED_BEFORE = re.compile(r"(?:[,!?.;:—–-]\s*|\b(?:[Oo]h|[Dd]ear|[Yy]es|[Nn]o|[Ww]ell)\s+)$")
# an endearment right before a name the line calls: "My dear Clara,", "Oh, dearest Hugh!"
_ENDEARMENT = re.compile(r"(?<![\w'’])(?:(?:[Mm]y|[Oo]h?|[Aa]h)[,!]?\s+)?"
                         r"(?:(?:[Dd]ear|[Dd]earest|[Pp]oor|[Gg]ood|[Ll]ittle|[Ss]weet)\s+)?(?:[Dd]ear|[Dd]earest|[Ss]weet)\s+$")
_SAID_NO_MORE = re.compile(r"\bsaid\s+(?:no\s+more|nothing)\b")
_ANCHORS = frozenset({"tag_after", "tag_before", "intro"})
_ACTIONS = frozenset({"action", "action_after"})
_PRONOUN_TAGS = frozenset({"tag_after", "tag_before"})
_GUESSES = frozenset({"turn", "addressee", "recent", "narration", "pair", "none", "gender"})


@dataclass(slots=True)
class _Subject:
    keys: tuple[str, ...]  # resolved speakers (may be empty when unknown)
    named: bool  # a name (not a pronoun or description)
    exclude: tuple[str, ...] = ()  # "his wife", "her mother": someone other than him / her
    gender: str | None = None
    rivals: int = 0  # a pronoun: how many people it could mean in view


@dataclass
class Attributor:
    text: str
    names: NameIndex
    recent: list[str] = field(default_factory=list)  # keys, most recent last
    speakers: list[str] = field(default_factory=list)  # speaker per voiced paragraph, most recent last
    runon: str | None = None  # speaker whose speech runs on into the next paragraph
    prev_subject: str | None = None  # subject of the narration paragraph just before
    prev_subjects: list[str] = field(default_factory=list)  # subjects of its last sentences
    # a voiced paragraph that goes on in narration after its last line and its tag ("“No,”
    # Clara admitted. Mrs. Pell put down her sewing."): the subjects of those sentences, latest
    # last (read when a pronoun tag needs them: its last line, its end, its mentions)
    tail: tuple[Quote, int, list[Mention]] | None = None
    _tail_keys: list[str] | None = None
    prev_voiced: bool = False
    # the narration paragraph just before ends by bringing someone in to speak ("Clara said,",
    # "…, and the old man began again, to say--"): who, for the next line
    lead_in: str | None = None
    lead_rivals: int = 0  # how `_lead_in` knew them (see there)
    narrator: str | None = None  # the character who says "I" in the narration, if known
    addressee: str | None = None  # who the last voiced paragraph spoke to ("…, Mr. Darcy?")
    # voices heard only inside someone's head ("… cackled in the back of his mind"): every line
    # of theirs is a thought, for the whole story (see `_inner_voice`)
    inner_voices: set[str] = field(default_factory=set)
    aloud: set[str] = field(default_factory=set)  # who has spoken a line aloud so far
    # two people a narration paragraph named together as its subject ("Priya and Sam listened"):
    # while only they speak, an untagged line is the other one's
    pair: tuple[str, ...] | None = None
    # who holds the floor for the next untagged line (see `_floor_after_voiced`/`_floor_after_silence`)
    holder: str | None = None
    _titles: dict[str, str] | None = None
    last_mentions: list[Mention] = field(default_factory=list)  # of the last paragraph seen
    _fits: dict[str, list[str]] = field(default_factory=dict)  # pronoun class -> cast keys it fits

    # the speakers of the last conversation before the latest scene break or heading: a line
    # right after a chapter heading that nothing else attributes goes on with the last of them
    before_break: list[str] = field(default_factory=list)
    after_heading: bool = False  # the scene was last reset by a chapter heading (not a break)
    # the current run of voiced paragraphs, one speaker each, for the turn-taking pass
    chain: list[_Turn] = field(default_factory=list)
    narrated: list[str] = field(default_factory=list)  # people the last narration paragraph named
    gap: bool = False  # the run goes on across the narration paragraph just read (see `_pause`)

    def reset(self, *, heading: bool = False) -> None:
        """Forget the scene (a scene break, a heading). `heading`: a chapter heading, which may
        cut a speech or a conversation in two."""
        self.settle()
        if self.speakers:
            self.before_break = self.speakers[-6:]
        self.after_heading = heading
        self.prev_subjects = []
        self.pair = None
        self.holder = None
        self.recent.clear()
        self.speakers.clear()
        self.runon = None
        self.prev_subject = None
        self.prev_voiced = False
        self.lead_in = None
        self.addressee = None

    # ---------------------------------------------------------------- helpers
    def _inner_voice(self, key: str) -> None:
        """A line of `key`'s was heard in someone's head ("“…,” Shukaku cackled in the back of his
        mind"): all of theirs are thoughts from now on -- unless they have spoken aloud before
        (a character "said, uppermost in his thoughts," or whose words "kept running in her
        head" is no voice in a head: their later lines are spoken)."""
        if key not in self.aloud:
            self.inner_voices.add(key)

    def _note_mentions(self, keys: Sequence[str]) -> None:
        for k in keys:
            if self.recent and self.recent[-1] == k:
                continue
            self.recent.append(k)
        if len(self.recent) > 64:
            del self.recent[:-32]

    def _compatible(self, key: str, cls: str) -> bool:
        if key not in self.names.pron or cls in ("i", "we"):
            return False  # "?Peter": someone outside the cast
        p = self.names.pron[key]
        return p is None or p == cls or (cls == "they" and p == "they")

    def _last_two(self, exclude: set[str]) -> tuple[str, ...]:
        out: list[str] = []
        for k in reversed(self.speakers + self.recent):
            if k not in out and k not in exclude and k in self.names.pron:
                out.append(k)
            if len(out) == 2:
                break
        return tuple(out)

    def _relative(self, owner: tuple[str, ...], noun: str, gender: str | None,
                  before: list[Mention] | None = None) -> str | None:
        """"her mother" of Elizabeth Bennet: the one other cast member of her family that fits
        (parents and spouses are the titled ones: Mrs. Bennet, Mr. Bennet)."""
        if len(owner) != 1 or noun not in _KIN:
            return None
        by_key = {c.key: c for c in self.names.cast}
        if owner[0] in by_key:  # a cast member known only as "Clara's Sister"
            wanted = {f"{n.strip().lower()}'s {noun}" for n in by_key[owner[0]].names()}
            for c in self.names.cast:
                if c.key in self.names.pron and any(n.strip().lower().replace("’", "'") in wanted for n in c.names()):
                    return c.key
        if owner[0] not in self.names.surname:
            return None
        family = self.names.surname[owner[0]]
        fits = [k for k in self.names.keys if k != owner[0] and self.names.surname.get(k) == family
                and (gender is None or self.names.pron.get(k) in (gender, None))]
        if noun in _ELDERS:
            # parents and spouses are the titled ones; a husband may be named without one
            # ("Hugh Marlow" beside "Mrs. Marlow")
            titled = [k for k in fits if k in self.names.titled]
            fits = titled if titled or noun not in ("husband", "wife") else fits
        elif noun in _SIBLINGS:
            # children are the untitled ones; grown brothers may both be titled ("Mr. Hale" and
            # "Mr. John Hale")
            untitled = [k for k in fits if k not in self.names.titled]
            fits = untitled if untitled or noun not in ("brother", "sister") else fits
        if len(fits) > 1 and before is not None:
            # "her mother" beside a mother and an aunt by marriage of that name: the one in view
            return self._in_view(frozenset(fits), before)
        return fits[0] if len(fits) == 1 else None

    def _kin_in_view(self, cls: str, noun: str, gender: str | None, before: list[Mention],
                     subjects: list[Mention]) -> str | None:
        """"her mother" of a tag: the relative of the latest person of `cls` in view who has
        one in the cast, other than that person (parents and spouses only: a sister or a cousin
        may be anyone's)."""
        if noun not in _ELDERS:
            return None
        tried: set[str] = set()
        for o in [*(m.key for m in reversed(subjects)), *(m.key for m in reversed(before)),
                  *reversed(self.speakers[-6:]), *reversed(self.recent[-12:])]:
            if o in tried or not self._compatible(o, cls):
                continue
            tried.add(o)
            kin = self._relative((o,), noun, gender, before)
            if kin is not None and kin != o:
                return kin
        return None

    def _group(self) -> tuple[str, ...]:
        """"They said together" answering someone: the two others of the exchange; otherwise the
        last two voices."""
        three: list[str] = []
        for k in reversed(self.speakers[-8:]):
            if k not in three and k in self.names.pron:
                three.append(k)
            if len(three) == 3:
                break
        if len(three) == 3 and self.prev_voiced:
            return (three[1], three[2])
        return self._last_two(set())

    def _resolve_pronoun(self, cls: str, before: list[Mention], subjects: list[Mention],
                         speech_tag: bool, exclude: set[str]) -> tuple[str, ...]:
        if cls == "they":
            # a character who goes by they/them, just named as the subject here or in the
            # narration before, is "they" before any group is
            single = {k for k in self.names.keys if self.names.pron.get(k) == "they" and k not in exclude}
            if single:
                for m in [*reversed(subjects), *reversed(before)]:
                    if m.key in single:
                        return (m.key,)
                if not self.prev_voiced and self.prev_subject in single:
                    return (self.prev_subject,)
            pair = self._group()
            return pair if len(pair) == 2 else ()
        if cls in ("i", "we"):
            return (self.narrator,) if self.narrator and cls == "i" and self.narrator not in exclude else ()
        # the first-person narrator is "I" in the narration, never "he" or "she"
        fit = self._fits.get(cls)
        if fit is None:  # (the cast's pronouns do not change: worked out once per class)
            fit = self._fits[cls] = [k for k in self.names.keys if self._compatible(k, cls)]
        ok = [k for k in fit if k not in exclude and k != self.narrator]
        if not ok:
            return ()
        # a character whose pronouns are known to fit comes before one whose pronouns are
        # unknown (a discovered cast): "she said" is never given to an unknown while a known
        # "she" is in play; the unknowns are tried only when no known one is found
        known = {k for k in ok if self.names.pron.get(k) is not None}
        if known and len(known) < len(ok):
            return (self._pick_pronoun(known, before, subjects, speech_tag)
                    or self._pick_pronoun(set(ok) - known, before, subjects, speech_tag))
        return self._pick_pronoun(set(ok), before, subjects, speech_tag)

    def _rivals(self, cls: str, before: list[Mention], subjects: list[Mention], exclude: set[str]) -> int:
        """How many people "he"/"she" could mean here: those of its pronouns named in this
        paragraph, among the last speakers or in the narration just before."""
        if cls not in ("he", "she"):
            return 0
        seen = {m.key for m in [*subjects, *before]} | set(self.speakers[-4:]) | set(self.recent[-6:])
        return sum(1 for k in seen if k not in exclude and k != self.narrator and k in self.names.pron
                   and self.names.pron.get(k) == cls)

    def _pick_pronoun(self, okset: set[str], before: list[Mention], subjects: list[Mention],
                      speech_tag: bool) -> tuple[str, ...]:
        for m in reversed(subjects):
            if m.key in okset:
                return (m.key,)
        for m in reversed(before):
            if m.key in okset:
                return (m.key,)
        if not self.prev_voiced:
            if self.lead_in in okset:  # "She could not help answering,\n\n“…,” said she"
                return (self.lead_in,)
            # the narration paragraph just before: the subject of its last sentences, its first
            # subject, then its latest mention
            for k in reversed(self.prev_subjects):
                if k in okset:
                    return (k,)
            if self.prev_subject in okset:
                return (self.prev_subject,)
            for k in reversed(self.recent[-8:]):
                if k in okset:
                    return (k,)
        elif speech_tag:
            if self.runon in okset:
                return (self.runon,)
            if self.lead_in in okset:
                return (self.lead_in,)
            # "“No,” Clara admitted. Mrs. Pell put down her sewing.\n\n“And why not?” she
            # asked.": the narration after the last line says who is in view (Mrs. Pell)
            for k in reversed(self._tail_subjects()):
                if k in okset:
                    return (k,)
            # "“Hi,” said Lee. / “Hello,” he said.": the other party of the exchange answers.
            if self.addressee in okset:
                return (self.addressee,)
            conv = self._conversation()
            if len(conv) == 2 and conv[1] in okset:
                if len(okset & (set(self.speakers[-4:]) | set(self.recent[-6:]))) >= 3:
                    # three or more of the pronoun's people about, and one just named who is
                    # neither of the last two voices: the line is that newcomer's
                    named = next((k for k in reversed(self.recent) if k in okset), None)
                    if named is not None and named not in conv:
                        return (named,)
                return (conv[1],)
        for k in reversed(self.speakers[-4:]):
            if k in okset:
                return (k,)
        for k in reversed(self.recent):
            if k in okset:
                return (k,)
        return ()

    def _main_subject(self, s0: int, s1: int, outside: list[Mention]) -> _Subject | None:
        """The subject of a narration sentence's main clause: its first words', or, when it opens
        with a subordinate clause or a phrase ("After they had talked an hour, Hugh went out";
        "In a minute, however, Clara was calm"), the first words' after that opening."""
        found = self._subject_in(s0, s1, outside, first_words=4, before=[m for m in outside if m.start < s0],
                                 subjects=[], speech_tag=False, exclude=set())
        op = _OPENER.match(self.text, s0, s1)
        if op is None:
            return found
        main = self._subject_in(op.end(), s1, outside, first_words=4,
                                before=[m for m in outside if m.start < op.end()], subjects=[],
                                speech_tag=False, exclude=set())
        return main if main is not None and main.keys else found

    def _tagged_subjects(self, quotes: Sequence[Quote], i: int, ev: Sequence[SpeakerGuess | None],
                         before: list[Mention], subjects: list[Mention]) -> list[Mention]:
        """`subjects` with the speakers of this paragraph's earlier tags ("“Clara,” said Hugh, as
        soon as Tobias had shut the door. “Clara,” he repeated.": Hugh, not the man named after
        him in his tag's own clause): a tag's speaker is the subject of its sentence (a
        pronoun tag's where its tag is); and the agent of a passive ("this was opposed by Tobias,
        who declared …"), its sentence's doer."""
        out = list(subjects)
        for j in range(i):
            v = ev[j]
            if v is None or len(v.speakers) != 1 or not v.source.startswith("tag_after") or quotes[j].close < 0:
                continue
            a, b = _after(quotes[j]), _before(quotes[j + 1])
            m = next((m for m in before if a <= m.start < b and m.key == v.speakers[0]), None)
            if m is None and not v.named:  # "…,” said she.": she, where her tag is
                m = Mention(a, a, v.speakers[0])
            if m is not None and m not in out:
                out.append(m)
        for m in before:
            if m not in out and _AGENT_BEFORE.search(self.text, max(0, m.start - 60), m.start):
                out.append(m)
        return sorted(out, key=lambda m: m.start) if len(out) > len(subjects) else subjects

    def _in_view(self, keys: frozenset[str], before: list[Mention]) -> str | None:
        """The one of `keys` most recently named or heard."""
        for m in reversed(before):
            if m.key in keys:
                return m.key
        for k in [*reversed(self.speakers[-6:]), *reversed(self.recent)]:
            if k in keys:
                return k
        return None

    def _tail_subjects(self) -> list[str]:
        """The single subjects of the narration sentences after the last voiced paragraph's last
        line (the sentence of its tag left out), latest last."""
        if self._tail_keys is not None:
            return self._tail_keys
        self._tail_keys = []
        if self.tail is None or self.tail[0].close < 0:
            return self._tail_keys
        last, pe, outside = self.tail
        sents = _sentences(self.text, last.close + 1, pe)
        if sents and _VERB_RE.search(self.text, sents[0][0], sents[0][1]):
            sents = sents[1:]
        out: list[str] = []
        for s0, s1 in sents:
            found = self._main_subject(s0, s1, outside)
            if found and len(found.keys) == 1 and found.keys[0] in self.names.pron:
                out.append(found.keys[0])
        if sents:
            # the subject of the last clause ("…, and Mrs. Pell looked in to ask whether Clara
            # was coming"), as after a narration paragraph -- someone other than the last voice
            # ("“…,” Hugh said. Clara frowned, and Hugh sighed, seeing her so cross.": the next
            # "she said" answers him)
            s0, s1 = sents[-1]
            end = self._subject_in(s0, s1, [m for m in outside if m.end <= s1], first_words=None,
                                   before=[m for m in outside if m.start < s0], subjects=[], speech_tag=False,
                                   exclude=set(), nearest=True)
            if end and len(end.keys) == 1 and end.named and end.keys[0] in self.names.pron \
                    and out[-1:] != [end.keys[0]] and self.speakers[-1:] != [end.keys[0]]:
                out.append(end.keys[0])
        self._tail_keys = out
        return out

    def _conversation(self) -> tuple[str, ...]:
        """(last speaker, the one before them) when the exchange has two distinct voices."""
        out: list[str] = []
        for k in reversed(self.speakers[-6:]):
            if k not in out:
                out.append(k)
            if len(out) == 2:
                break
        return tuple(out)

    def _subject_in(self, a: int, b: int, mentions: list[Mention], *, first_words: int | None,
                    before: list[Mention], subjects: list[Mention], speech_tag: bool,
                    exclude: set[str], nearest: bool = False, main: bool = False) -> _Subject | None:
        """The grammatical subject of text[a:b]: the first name, pronoun or group phrase not
        governed by a preposition, optionally only within the first `first_words` words."""
        text = self.text
        limit = b
        if first_words is not None:
            n = 0
            for w in _WORDS.finditer(text, a, b):
                n += 1
                if n > first_words:
                    limit = w.start()
                    break
        cands: list[tuple[int, str, object]] = []
        for m in mentions:
            if a <= m.start < limit:
                cands.append((m.start, "name", m))
        for pm in _PRONOUN.finditer(text, a, limit):
            cands.append((pm.start(), "pron", pm.group(0).lower()))
        for gm in _GROUP.finditer(text, a, limit):
            cands.append((gm.start(), "group", gm.group(0)))
        for dm in _GENERIC_SUBJECT.finditer(text, a, limit):
            cands.append((dm.start(), "generic", dm.group(0)))
        if speech_tag:
            taken = [(m.start, m.end) for m in mentions if a <= m.start < limit]
            for sm in _STRANGER.finditer(text, a, limit):
                shared = self.names.shared.get(sm.group(1))
                if shared is not None and not any(x <= sm.start() < y for x, y in taken):
                    who = self._in_view(shared, before)
                    if who is not None:
                        cands.append((sm.start(), "name", Mention(sm.start(), sm.start() + len(sm.group(1)), who)))
                        continue
                if sm.group(1) not in _NOT_NAMES and not any(x <= sm.start() < y or sm.start() <= x < sm.end()
                                                             for x, y in taken):
                    cands.append((sm.start(), "stranger", sm.group(0)))
        order = {"name": 0, "group": 1, "generic": 2, "pron": 3, "stranger": 4}
        cands.sort(key=lambda c: (c[0], order[c[1]]))
        if nearest:  # "…; and Fred laughed, and Bob said “Tim!”": the subject nearest the verb
            # that opens a clause ("Mrs. Hale, picking up a jar of plum jam, exclaimed":
            # not "a jar"); without one, the first subject
            # (not "Isabella" of "that Isabella's eyes were bent on the door": her eyes are)
            heads = [c for c in cands if _opens_clause(text, a, c[0])
                     and not (c[1] == "name" and _OWNED_BODY.match(text, c[2].end if isinstance(c[2], Mention) else c[0]))
                     and not (main and c[1] == "pron" and _in_subordinate(text, a, c[0]))]
            if any(c[1] in ("name", "pron") for c in heads):
                # "Clara, a good deal surprised at this, could only answer,": a phrase
                # with no person in it is no rival for a name
                heads = [c for c in heads if c[1] != "generic" or _PERSONAL.search(str(c[2]))]
            # (nearest first; at one position the description before its possessive: "His
            # mother, …, insisted" is the mother, not "his")
            cands = sorted(heads, key=lambda c: (-c[0], order[c[1]])) if heads else cands
        for pos, kind, val in cands:
            lw = _LAST_WORD.search(text, max(a, pos - 20), pos)
            prevword = lw.group(1).lower() if lw and pos > a and text[lw.end(1):pos].strip() in ("", ",") else ""
            if prevword in _PREPOSITIONS and prevword != "and":
                end = val.end if isinstance(val, Mention) else pos + len(str(val))
                if not (prevword == "as" and kind in ("name", "pron") and _AS_SAID.match(text, end, limit)):
                    continue  # (but "As Mrs. Pell observed," is her own tag)
            if kind == "name":
                assert isinstance(val, Mention)
                m = val
                rel = _POSSESSIVE.match(text, m.end, limit)
                if rel and rel.group(1) not in _BODY and rel.group(1) not in SPEECH_VERBS:
                    # "said Gaara's brother": someone else, of the noun's gender if it has one;
                    # "said Clara's mother": her relative in the cast, when there is one
                    kin = self._relative((m.key,), rel.group(1), _GENDER.get(rel.group(1)), before) if speech_tag else None
                    if kin is not None:
                        return _Subject((kin,), False)
                    return _Subject((), False, (m.key,), _GENDER.get(rel.group(1)))
                # "Lee and Naruto said": a group of named speakers
                keys = [m.key]
                j = m.end
                for m2 in mentions:
                    if m2.start >= j and m2.start < limit and re.fullmatch(r"(?:\s*,\s*|\s+and\s+|\s*,\s*and\s+)",
                                                                          text[j : m2.start]):
                        if m2.key not in keys:
                            keys.append(m2.key)
                        j = m2.end
                if self.narrator and self.narrator not in keys and re.match(r"\s+and\s+I\b", text[j:limit]):
                    keys.append(self.narrator)
                if len(keys) == 1 and _PRONOUN.fullmatch(text, m.start, m.end):
                    # a paragraph's opening "She" resolved beforehand (see `_opening_subject`):
                    # a pronoun, as sure as one, not a name
                    cls = _PRON_CLASS[text[m.start : m.end].lower()]
                    return _Subject((m.key,), False, rivals=max(1, self._rivals(cls, before, subjects, exclude)))
                return _Subject(tuple(keys), True)
            if kind == "pron":
                if prevword == "and" and not _CLAUSE_AND.search(text, max(a, pos - 12), pos):
                    continue  # "Clara and he said": one of a group ("…; and he answered:" is a clause's own)
                cls = _PRON_CLASS[str(val)]
                if str(val) in ("him", "them") or (str(val) == "her" and not _starts_clause(text, a, pos)):
                    continue
                # a pronoun means someone named before it, not after ("she said, in a whisper
                # to Clara,": not Clara)
                before = [m for m in before if m.start < pos]
                subjects = [m for m in subjects if m.start < pos]
                if cls == "it" and not any(self._compatible(k, "it") for k in self.names.keys):
                    continue  # "It was Ruth who spoke first."
                # "Fanny was silent, and Clara mused, till, looking up, she exclaimed": a clause
                # subject earlier in the pronoun's own sentence comes before earlier sentences'
                near = [m for m in mentions if a <= m.start < pos and m.key in self.names.pron
                        and _opens_clause(text, a, m.start) and _CLAUSE_VERB.match(text, m.end)]
                subj = [*subjects, *near] if near else subjects
                if cls == "i" and self.narrator and re.match(r"I\s+and\s+", text[pos:limit]):
                    after = [m2 for m2 in mentions if pos < m2.start < limit]
                    if after:
                        return _Subject((self.narrator, after[0].key), False)
                return _Subject(self._resolve_pronoun(cls, before, subj, speech_tag, exclude), False,
                                rivals=self._rivals(cls, before, subj, exclude))
            if kind == "group":
                return _Subject(self._group(), False)
            if kind == "stranger":
                # "said Peter" with no Peter in the cast: someone we cannot name, not a guess
                return _Subject(("?" + str(val),), True)
            if kind == "generic":
                end = pos + len(str(val))
                if any(end <= m.start <= end + 2 and m.start < limit for m in mentions):
                    continue  # "said the obliging Mrs. Ford": the name is the subject
                words = str(val).split()
                while len(words) > 2 and (words[-1].lower() in _NOT_NOUN or (
                        words[-1].endswith("ly") and words[-1].lower() not in _LY_NOUNS)):
                    words.pop()  # "said his brother hesitatingly", "said her mother to Clara"
                owner = words[0].lower()
                if (speech_tag and len(words) == 3 and owner in ("the", "a", "an", "this", "that")
                        and words[-1].lower() not in _BODY and words[1].lower() not in _OTHER_ONE):
                    # "said the burly barman": the cast's "the barman"
                    key = self.names.by_lower.get("the " + words[-1].lower())
                    if key is not None and key in self.names.pron:
                        return _Subject((key,), True)
                gender = _GENDER.get(words[-1].lower())
                noun = words[-1].lower()
                if noun in ("other", "companion", "latter") and owner in ("the", "his", "her"):
                    # "said the other": the other party of the exchange; "the latter": the
                    # one named last
                    if noun == "latter":
                        named = [m.key for m in before] or self.recent[-1:]
                        if named and named[-1] in self.names.pron:
                            return _Subject((named[-1],), False)
                    else:
                        seen = [m.key for m in subjects] or [m.key for m in before][-1:]
                        last = seen[-1] if seen else (self.prev_subject if not self.prev_voiced else
                                                      self.speakers[-1] if self.speakers else None)
                        for k in [*reversed(self.speakers[-6:]), *reversed(self.recent)]:
                            if k != last and k in self.names.pron:
                                return _Subject((k,), False)
                if owner in ("his", "her", "their") and words[-1].lower() in _BODY:
                    continue  # "His voice shook": the owner is the subject (the pronoun, next)
                if owner in ("his", "her", "their") and noun in ("ladyship", "lordship"):
                    # "said her ladyship": the titled one in view, not a relative of "her"
                    titled = frozenset(k for k in self.names.keys if any(
                        n.strip().lower().startswith("lady " if noun == "ladyship" else "lord ")
                        for n in self.names.names_of.get(k, ())))
                    who = self._in_view(titled, before) if titled else None
                    if who is not None and who not in exclude:
                        return _Subject((who,), False)
                if owner in ("his", "her", "their"):
                    res = self._resolve_pronoun(_PRON_CLASS[owner], before, subjects, False, set())
                    kin = self._relative(res, words[-1].lower(), gender, before if speech_tag else None)
                    if kin is None and speech_tag:
                        # "said her mother" when the "her" in view has no mother in the cast (she
                        # may be the mother herself): the mother of the next "her" in view who has one
                        kin = self._kin_in_view(_PRON_CLASS[owner], words[-1].lower(), gender, before, subjects)
                    if kin is not None:
                        return _Subject((kin,), False)
                    if gender is not None and speech_tag and words[-1].lower() in _KIN:
                        # "replied her brother": of his sex, in view, and not her
                        other = self._resolve_pronoun(gender, before, subjects, speech_tag, exclude | set(res))
                        if len(other) == 1:
                            return _Subject(other, False, res, gender)
                    return _Subject((), False, res, gender)
                if gender is not None and owner in ("the", "a", "an", "this", "that") and speech_tag:
                    # "said the old lady", "the young man rejoined": a description is resolved
                    # like "she"/"he", the person of that sex most in view
                    res = self._resolve_pronoun(gender, before, subjects, speech_tag, exclude)
                    if res:
                        return _Subject(res, False, (), gender, rivals=self._rivals(gender, before, subjects, exclude))
                return _Subject((), False, (), gender)
        return None

    def _interrupted(self, quotes: Sequence[Quote], i: int, ev: Sequence[SpeakerGuess | None],
                     voc: set[str]) -> SpeakerGuess | None:
        """The second half of a line cut by its tag ("“Oh,” cried Hugh, “in such a way--” Agnes
        stopped him."): the tag between the halves says who speaks both, whatever
        the narration after the second half does."""
        if i == 0:
            return None
        prev = ev[i - 1]
        text = self.text
        a, b = _after(quotes[i - 1]), _before(quotes[i])
        if (prev is not None and prev.speakers and not set(prev.speakers) & voc and quotes[i - 1].close >= 0
                and _STAGE.fullmatch(text, a, b)):
            # “…but I think” (seeing Clara looked anxious) “it can wait until tomorrow.”
            return SpeakerGuess(prev.speakers, prev.thought, prev.source, prev.named, rivals=prev.rivals)
        if prev is None or prev.source != "tag_after" or not prev.speakers or set(prev.speakers) & voc:
            return None
        between = text[a:b].rstrip()
        # "“Go away!” said she, in a whisper. “Now, this minute.”": a tag that is a sentence of its
        # own, then a line with no tag of its own, goes on with the same voice
        period = between.endswith(".") and not self._own_tag(quotes[i])
        if not between or (between[-1] not in ",;:—–-" and not period) or quotes[i - 1].close < 0:
            return None
        # (verbs of a clause on the speaker do not count: "said the Duchess, who agreed with all
        # that Alice said;")
        fv = _VERB_RE.search(text, a, b)
        w = _WHO.search(text, fv.end(), b) if fv is not None else None
        cut = (w.start() if w is not None and fv is not None and len(_WORDS.findall(text, fv.end(), w.start())) <= 4
               and not any(c in ";:" for c in text[a : w.start()]) else b)
        ends = sentence_ends(text, a, b)
        if (len(list(_VERB_RE.finditer(text, a, cut))) != 1 or len(_WORDS.findall(text, a, b)) > 40
                or (ends and not (period and len(ends) == 1 and not text[ends[0] : b].strip()))):
            return None  # "…" Naruto stammered. Gaara's hand clenched, "…": a new sentence, not the tag
        if any(m.key not in prev.speakers and _SPEECH_NOUN.match(text, m.end, b) for m in self.names.find(text, a, b)):
            return None  # "…," was Clara's view; and Agnes's reply was, "…"
        return SpeakerGuess(prev.speakers, prev.thought, "tag_after", prev.named, prev.exclude, prev.gender,
                            rivals=prev.rivals)

    def _own_tag(self, q: Quote) -> bool:
        """A speech verb among the first words after the line, in its paragraph: its own tag."""
        if q.close < 0:
            return False
        c = q.close + 1
        hi = min(len(self.text), c + 160)
        brk = self.text.find("\n\n", c, hi)
        hi = brk if brk >= 0 else hi
        ends = sentence_ends(self.text, c, hi)
        v = _VERB_RE.search(self.text, c, ends[0] if ends else hi)
        return v is not None and len(_WORDS.findall(self.text, c, v.start())) <= 6

    def _turned_to(self, quotes: Sequence[Quote], i: int, ps: int, pe: int, outside: list[Mention]) -> set[str]:
        """People a line's own tag says it is spoken to: "said he, turning to Agnes", "whispered
        Hugh to Clara", "Clara, looking at Mr. Pell, said"."""
        text = self.text
        q = quotes[i]
        lo = _after(quotes[i - 1]) if i > 0 else ps
        hi = _before(quotes[i + 1]) if i + 1 < len(quotes) else pe
        a = _after(q)
        ends = sentence_ends(text, a, hi)
        after_end = ends[0] if ends else hi
        out: set[str] = set()
        for m in outside:
            if not (lo <= m.start < _before(q) or a <= m.start < after_end):
                continue
            if _TURNED.search(text, max(lo, m.start - 40), m.start):
                out.add(m.key)
        return out

    def _hand_over(self, lead: tuple[str, int] | None) -> None:
        """Remember who the narration brings in to speak next (see `_lead_in`)."""
        self.lead_in, self.lead_rivals = lead if lead is not None else (None, 0)

    def _lead_in(self, ps: int, pe: int, outside: list[Mention]) -> tuple[str, int] | None:
        """A narration paragraph whose last sentence brings someone in to speak ("…, Clara
        exclaimed,", "Mr. Pell, trying not to laugh, went on.", "…ending with these words to
        her aunt:"): the subject of that speech verb says the next paragraph's first line. With
        it, how it was known: 0 by a name, else how many people its pronoun could mean (a
        pronoun lead-in is as sure as a pronoun tag, not as a name)."""
        text = self.text
        sents = _sentences(text, ps, pe)
        if not sents:
            return None
        s0, s1 = sents[-1]
        body = text[s0:s1].rstrip()
        if not body:
            return None
        # (a dash lost in the text's conversion leaves spaces: "…observing to her aunt     ")
        handed = _LEAD_END.search(body) is not None or _LOST_DASH.match(text, pe) is not None
        end = s0 + len(body)
        if handed:
            for m in reversed([m for m in outside if s0 <= m.start < end]):
                own = _SPEECH_NOUN.match(text, m.end, end)
                if own and len(_WORDS.findall(text, own.end(), end)) <= 3 and m.key in self.names.pron:
                    return m.key, 0  # "…; but Mr. Pell's answer was, a little later--"
        if not handed and not body.endswith("."):
            return None
        if not handed and _SAID_NO_MORE.search(body):
            return None  # "Clara said no more.": she hands nothing over
        # the verb is among the last few words: search only there
        verbs = [v for v in _LEAD_VERB_RE.finditer(text, max(s0, end - 90), end)
                 if not (_NEGATED.search(text, max(s0, v.start() - 24), v.start())
                         and not _HELP.search(text, max(s0, v.start() - 8), v.start()))
                 and not _PAST_PERFECT.search(text, max(s0, v.start() - 8), v.start())
                 and not _REPORTED.search(text, max(s0, v.start() - 30), v.start())]
        if not verbs:
            return None
        v = verbs[-1]
        tail = len(_WORDS.findall(text, v.end(), s0 + len(body)))
        if tail > (6 if handed else 3) or (not handed and not body.endswith(".")):
            return None
        if v.group(0) in THOUGHT_VERBS:
            return None
        before = [m for m in outside if m.start < v.start()]
        for m in reversed(outside):
            # "…no chance for Hugh to come near her and say,", "she heard Tobias say to his
            # sister--", "Mr. Pell's suddenly saying,--": the name right before the verb
            if s0 <= m.start and m.end <= v.start() and (_INFINITIVE.fullmatch(text, m.end, v.start())
                                                         or _next_to_verb(text, s0, m, v.start())):
                return (m.key, 0) if m.key in self.names.pron else None
        who = self._relative_subject(s0, v.start(), outside, set())
        if who is not None:  # "…, when Agnes, who was out of breath, cried out on seeing her,"
            return who, 0
        obj = _OBJECT_BEFORE.search(text, s0, v.start())
        if obj is not None:  # "…never heard him say so much."
            cls = _PRON_CLASS[obj.group(1).lower()]
            res = self._resolve_pronoun(cls, before, [], False, set())
            if len(res) != 1 or res[0] not in self.names.pron:
                return None
            return res[0], max(1, self._rivals(cls, before, [], set()))
        subj = self._subject_in(s0, v.start(), outside, first_words=None, before=before,
                                subjects=[m for m in before if _is_subject_pos(text, ps, m.start)],
                                speech_tag=False, exclude=set(), nearest=True,
                                main=_ELIDED.search(text, s0, v.start()) is not None)
        if subj is None or len(subj.keys) != 1 or subj.keys[0] not in self.names.pron:
            return None
        if not subj.named and not (subj.keys[0] == self.narrator and not subj.rivals):
            # "She laid down her pen and said:" -- a pronoun, as unsure as "said she" (the
            # narrator's "I" is sure)
            return subj.keys[0], max(1, subj.rivals)
        return subj.keys[0], 0

    # ---------------------------------------------------------------- the paragraph
    def paragraph(self, ps: int, pe: int, quotes: Sequence[Quote]) -> list[SpeakerGuess]:
        """Voices for the quotes of paragraph text[ps:pe] (empty for a narration paragraph, which
        still updates the scene's memory)."""
        text = self.text
        mentions = self.names.find(text, ps, pe)
        self.last_mentions = mentions  # for the ranker (see ranker.py)
        n = len(quotes)
        outside: list[Mention] = []
        inside: list[list[Mention]] = [[] for _ in quotes]
        qi = 0
        for m in mentions:
            while qi < n and quotes[qi].end <= m.start:
                qi += 1
            if qi < n and quotes[qi].start <= m.start < quotes[qi].end:
                inside[qi].append(m)
            else:
                outside.append(m)
        if not quotes:
            self._pause(ps, pe)
            opening = self._opening_subject(ps, pe, quotes, outside)
            if opening is not None:
                outside = sorted([*outside, opening], key=lambda m: m.start)
            # the paragraph's first single subject ("The two women looked at each other. It was
            # Ruth who spoke first." -> Ruth) leads into what comes next
            first: str | None = None
            pair: tuple[str, ...] | None = None
            sents = _sentences(text, ps, pe)
            for s0, s1 in sents:
                # a pronoun subject ("He dug for two hours.") means the latest fitting name
                # earlier in this same paragraph before anyone from earlier paragraphs
                found = self._main_subject(s0, s1, outside)
                if found and len(found.keys) == 1:
                    first = found.keys[0]
                    break
                if found and found.named and len(found.keys) == 2 and pair is None:
                    pair = found.keys  # "Priya and Sam listened …": the two left talking
            if pair is not None and first is None:
                self.pair = pair
            self.prev_subject = first or (outside[0].key if outside else None)
            self.holder = self._floor_after_silence(ps, pe, first)
            if self.holder is not None:
                self.prev_subject = None
            # the subjects of its last sentences, latest last: "…Emma could only class it …" /
            # "“I wish we could,” said she" -- the pronoun is the one in view at the end
            self.prev_subjects = []
            for s0, s1 in sents[-3:]:
                found = self._main_subject(s0, s1, outside)
                if found and len(found.keys) == 1:
                    self.prev_subjects.append(found.keys[0])
                # "Clara, seeing her cousin sulk, let the matter drop; and, a while later,
                # Agnes took up her sewing.": the subject of its last clause
                tail_subj = None if (s0, s1) != sents[-1] else self._subject_in(s0, s1, [m for m in outside if m.end <= s1], first_words=None,
                                        before=[m for m in outside if m.start < s0], subjects=[],
                                        speech_tag=False, exclude=set(), nearest=True)
                if (tail_subj and len(tail_subj.keys) == 1 and tail_subj.named
                        and (not found or found.keys != tail_subj.keys)):
                    self.prev_subjects.append(tail_subj.keys[0])
            self._hand_over(None if self.holder and self._unquoted_reply(ps, pe) else self._lead_in(ps, pe, outside))
            self._note_mentions([m.key for m in outside])
            self.narrated = [m.key for m in outside if m.key in self.names.pron]
            self.prev_voiced = False
            self.runon = None
            return []

        opening = self._opening_subject(ps, pe, quotes, outside)
        if opening is not None:
            outside = sorted([*outside, opening], key=lambda m: m.start)
        called_voc = [self._vocatives(q, inside[i]) | self._loose_vocatives(q, inside[i])
                      for i, q in enumerate(quotes)]
        # who is not speaking this line: the people it calls, and those it names with an
        # honorific or who nod in answer to it
        voc = [v | self._not_speaker(quotes, i, inside[i], pe) for i, v in enumerate(called_voc)]
        # "he added, turning to Tobias", "whispered Hugh to Clara": the one spoken to is
        # not the speaker, and answers next
        turned = [self._turned_to(quotes, i, ps, pe, outside) for i in range(n)]
        voc = [v | turned[i] for i, v in enumerate(voc)]
        ev: list[SpeakerGuess | None] = [None] * n
        if _before(quotes[0]) - ps >= 3:
            self.lead_in = None
        subjects_so_far: list[Mention] = []
        for i, q in enumerate(quotes):
            lo = _after(quotes[i - 1]) if i > 0 else ps
            hi = _before(quotes[i + 1]) if i + 1 < n else pe
            before_m = [m for m in outside if m.start < _before(q)]
            subjects_so_far = [m for m in before_m if _is_subject_pos(text, ps, m.start)]
            subjects_so_far = self._tagged_subjects(quotes, i, ev, before_m, subjects_so_far)
            tag = self._interrupted(quotes, i, ev, voc[i])
            if tag is None:  # "…," was Clara's quick answer: before "answer" is read as a verb
                tag = self._owned_words(q, lo, hi, outside, voc[i])
            if tag is None:
                tag = self._tag_after(q, hi, outside, before_m, subjects_so_far, voc[i])
                if tag is not None and _COMPLETE.search(text, q.start, q.end) and _HANDED.search(text, lo, _before(q)):
                    # "Clara said, “The coffee is cold.” Hugh answered, “…”": a
                    # finished line after a tag that hands it over is that tag's; the tag after it
                    # introduces the next line
                    tag = self._tag_before(q, lo, outside, before_m, subjects_so_far, voc[i]) or tag
                elif tag is not None and not tag.named and _HANDED_ON.search(text, lo, _before(q)):
                    # "…, when Hugh interrupted: “…,” he said": the name handing the line over
                    # outranks the pronoun after it
                    named = self._tag_before(q, lo, outside, before_m, subjects_so_far, voc[i])
                    tag = named if named is not None and named.named else tag
            if tag is None:
                tag = self._tag_before(q, lo, outside, before_m, subjects_so_far, voc[i])
            if tag is not None:
                ev[i] = tag
        lead = self.lead_in
        self.lead_in = None
        if ev[0] is None and lead is not None and lead not in voc[0]:
            ev[0] = SpeakerGuess((lead,), False, "tag_before", not self.lead_rivals, rivals=self.lead_rivals)
        # action beats in the paragraph
        for i, q in enumerate(quotes):
            if ev[i] is not None:
                continue
            lo = _after(quotes[i - 1]) if i > 0 else ps
            before_m = [m for m in outside if m.start < _before(q)]
            subj: _Subject | None = None
            inner = False
            for s0, s1 in reversed(_sentences(text, lo, _before(q))):
                subj = self._subject_in(s0, s1, outside, first_words=4, before=before_m,
                                        subjects=[m for m in before_m if _is_subject_pos(text, ps, m.start)],
                                        speech_tag=False, exclude=voc[i])
                if subj is not None:
                    inner = any(_mind_at(text, v, s0, s1) for v in _VERB_RE.finditer(text, s0, s1))
                    break
            if subj and subj.keys and s0 < _before(q) and _PERCEIVED.search(text, s0, _before(q)):
                voc[i] = voc[i] | set(subj.keys)  # "Clara could only catch the words, “…”": she hears them
                continue
            if subj and subj.keys and not (set(subj.keys) & voc[i]):
                if inner and len(subj.keys) == 1:
                    self._inner_voice(subj.keys[0])
                ev[i] = SpeakerGuess(subj.keys, inner, "action")
        for i in range(1, n):
            if ev[i] is None and ev[i - 1] is not None:
                prev = ev[i - 1]
                assert prev is not None
                if not (set(prev.speakers) & voc[i]) and prev.speakers:
                    ev[i] = SpeakerGuess(prev.speakers, prev.thought, "paragraph")
        for i in range(n - 2, -1, -1):
            nxt = ev[i + 1]
            if ev[i] is None and nxt is not None and nxt.speakers and not (set(nxt.speakers) & voc[i]):
                ev[i] = SpeakerGuess(nxt.speakers, nxt.thought if quotes[i].kind == quotes[i + 1].kind else False,
                              "paragraph")
        for i, q in enumerate(quotes):
            if ev[i] is not None:
                continue
            hi = _before(quotes[i + 1]) if i + 1 < n else pe
            sents = _sentences(text, _after(q), hi)
            if sents:
                s0, s1 = sents[0]
                before_m = [m for m in outside if m.start < s0]
                subj = self._subject_in(s0, s1, outside, first_words=3, before=before_m, subjects=[],
                                        speech_tag=False, exclude=voc[i])
                # (not "Clara said nothing."; nor, when the line opens its paragraph, the one who spoke
                # the line before: "“Give it back.” “Why should I?” She threw it on the table." --
                # the one answered reacts; nor a later line of the paragraph)
                answered = (subj is not None and self.prev_voiced and bool(self.speakers)
                            and subj.keys == (self.speakers[-1],))
                if subj and subj.keys and not (set(subj.keys) & voc[i]) and not _SILENCE.search(text, s0, s1) \
                        and not (i == 0 and _before(q) - ps < 3 and answered):
                    ev[i] = SpeakerGuess(subj.keys, False, "action_after")
        for i in range(n):
            intro = self._introduces(quotes[i], inside[i])
            cur = ev[i]
            if intro is not None and (cur is None or not cur.named):
                ev[i] = SpeakerGuess((intro,), cur.thought if cur else False, "intro", True)
        fallback: SpeakerGuess | None = None
        out: list[SpeakerGuess] = []
        for i, q in enumerate(quotes):
            v = ev[i]
            if v is None or not v.speakers:
                if fallback is None:
                    avoid = voc[i] | set(v.exclude if v else ())
                    fallback = self._fallback(avoid, starts_para=_before(quotes[0]) - ps < 3,
                                              gender=v.gender if v else None)
                v = SpeakerGuess(fallback.speakers, v.thought if v else False, fallback.source,
                                 exclude=tuple(sorted(avoid)))
            thought = (v.thought or q.kind == "italic" or (q.kind == "aside" and not v.source.startswith("tag"))
                       or (len(v.speakers) == 1 and v.speakers[0] in self.inner_voices))
            out.append(SpeakerGuess(v.speakers, thought, v.source, v.named, v.exclude, rivals=v.rivals))
        self.aloud.update(v.speakers[0] for v in out if len(v.speakers) == 1 and not v.thought)
        stranger = [v.speakers[0] if v.speakers and v.speakers[0].startswith("?") else None for v in out]
        out = [SpeakerGuess((), v.thought, "stranger") if stranger[i] else v for i, v in enumerate(out)]
        for i, v in enumerate(out):
            v.runner_up = self._runner_up(v.speakers, outside)
            to = (called_voc[i] or turned[i]) - set(v.speakers)
            v.addressee = next(iter(to)) if len(to) == 1 else None
            v.confidence = confidence(v, n_quotes=n, first=i == 0)
        # remember
        for i, v in enumerate(out):
            who = v.speakers[0] if v.speakers else stranger[i]
            if v.thought and quotes[i].kind == "italic":
                continue  # an unmarked thought is no turn in the conversation
            if who and (not self.speakers or self.speakers[-1] != who):
                self.speakers.append(who)
            if who and self.pair and who not in self.pair:
                self.pair = None
        if len(self.speakers) > 64:
            del self.speakers[:-32]
        self._note_mentions([m.key for m in outside])
        self._log_turn(out, voc, {m.key for ms in inside for m in ms}, self._called_genders(quotes),
                       self._dear_vocatives(quotes, inside), continues=self.runon is not None and _before(quotes[0]) - ps < 3
                       and out[0].source == "runon", chars=quotes[-1].end - quotes[0].start)
        last = quotes[-1]
        self.runon = out[-1].speakers[0] if (last.close == -1 and last.kind in ("double", "single")
                                             and out[-1].speakers) else None
        self.prev_subject = None
        self.prev_voiced = True
        self.tail, self._tail_keys = (last, pe, outside), None
        self.addressee = None
        if last.close >= 0 and self.runon is None and (len(_sentences(text, last.close + 1, pe)) >= 2
                                                        or _LEAD_END.search(text, last.close + 1, pe)):
            # "“…” He walked off to the window. Clara turned back to her cousin, saying
            # quietly--" (a sentence after the last line's own tag)
            self._hand_over(self._lead_in(last.close + 1, pe, outside))
        spoken = [v for i, v in enumerate(out) if not (v.thought and quotes[i].kind == "italic")] or out
        spk = spoken[-1].speakers[0] if spoken[-1].speakers else None
        called = {k for vs in called_voc for k in vs} - {spk}
        if not called:
            called = set(turned[-1]) - {spk}
        if len(called) == 1 and self.runon is None:
            self.addressee = called.pop()
        elif called and self.runon is None and text[last.start : last.end].rstrip().endswith("?"):
            # several people addressed; the one asked the closing question answers
            ordered = [m.key for i in range(n) for m in inside[i] if m.key in called_voc[i] and m.key != spk]
            self.addressee = ordered[-1] if ordered else None
        # someone called by name answers next, unless they answer with a gesture; otherwise a
        # speaker whose paragraph ends on their own doing goes on
        self.holder = None
        if self.addressee is None:
            self.holder = self._floor_after_voiced(ps, pe, quotes, out, outside)
        elif spk is not None:
            self.holder = self._floor_after_answer(pe, quotes[-1], outside, spk)
            if self.holder is not None:
                self.addressee = None
        return out

    def _floor_after_answer(self, pe: int, last: Quote, outside: list[Mention], spk: str) -> str | None:
        """"Now, Shikamaru." Shikamaru stood up straighter.: the one called answers with a
        gesture, not words, so the one who called goes on."""
        text = self.text
        if last.close < 0:
            return None
        sents = _sentences(text, last.close + 1, pe)
        if not sents or _VERB_RE.search(text, sents[0][0], pe):
            return None
        s0, s1 = sents[0]
        subj = self._subject_in(s0, s1, outside, first_words=3, before=[m for m in outside if m.start < s0],
                                subjects=[], speech_tag=False, exclude=set())
        return spk if subj is not None and subj.keys == (self.addressee,) and subj.named else None
    # ---------------------------------------------------------------- turn-taking pass
    def _called_genders(self, quotes: Sequence[Quote]) -> set[str]:
        """The pronouns of whoever the lines call without a name ("No, sir." -> he, "Well,
        mamma," -> she)."""
        text = self.text
        out: set[str] = set()
        for q in quotes:
            for m in _CALLED_WORD.finditer(text, q.start, q.end):
                lo = max(q.start, m.start() - 12)
                if (lo == q.start and not text[lo : m.start()].strip()) or _CALLED_BEFORE.search(text, lo, m.start()):
                    out.add(_CALLED_GENDER[m.group(1).lower()])
        return out

    def _dear_vocatives(self, quotes: Sequence[Quote], inside: list[list[Mention]]) -> set[str]:
        """People a line calls with an endearment before the name ("My dear Clara, …", "Oh,
        dearest Hugh!"), which `_vocatives` does not count."""
        text = self.text
        out: set[str] = set()
        for q, ms in zip(quotes, inside, strict=True):
            for m in ms:
                after = text[m.end : q.end].lstrip()
                if (after == "" or after[0] in ",!?.…—–-;:") and _ENDEARMENT.search(text, q.start, m.start):
                    out.add(m.key)
        return out

    def _log_turn(self, voices: list[SpeakerGuess], voc: list[set[str]], named: set[str], called: set[str],
                  dear: set[str], *, continues: bool, chars: int = 0) -> None:
        """Remember a voiced paragraph for `settle`: one speaker per paragraph keeps the chain
        going (a speech running on from the paragraph before is the same turn); a paragraph
        with several voices ends it."""
        keys = {v.speakers for v in voices}
        if len(keys) != 1 or len(voices[0].speakers) != 1:
            self.settle()
            return
        key = voices[0].speakers[0]
        # a named tag or an action anchors the turn-taking, and so does a "said she" that can mean
        # only one of at most two people of her pronouns in view
        anchored = any((v.named and v.source in _ANCHORS) or v.source in _ACTIONS
                       or (v.source in _PRONOUN_TAGS and v.rivals <= 2) for v in voices)
        fixed = anchored or any(v.source not in _GUESSES for v in voices)
        # (and whom a tag rules out: "said his wife", "receiving no answer but…")
        avoid = set().union(*voc, *(v.exclude for v in voices))
        if continues and self.chain and self.chain[-1].key == key:
            t = self.chain[-1]
            t.voices.extend(voices)
            t.anchor = t.anchor or anchored
            t.avoid |= avoid
            t.named |= named
            t.called |= called
            t.dear |= dear
            t.chars += chars
            return
        near = tuple(self.narrated) if (not self.chain or self.gap) and not self.prev_voiced else ()
        gap, self.gap = self.gap, False
        self.chain.append(_Turn(key, voices, anchored, avoid, fixed, near, named, called, dear, gap, chars))

    def _pause(self, ps: int, pe: int) -> None:
        """A narration paragraph: a short one about no one but the two last speakers ("Clara
        looked down at her hands.") pauses the run, which goes on after it; a longer one, one
        that names someone else, or a second one, ends it."""
        if self.chain and self.prev_voiced:
            pair = {t.key for t in self.chain[-2:]}
            if (all(m.key in pair for m in self.last_mentions)
                    and len(_WORDS.findall(self.text, ps, pe)) <= _DECODE_W["gap_words"]):
                self.gap = True
                return
        self.gap = False
        self.settle()

    def settle(self) -> None:
        """Turn-taking across a run of voiced paragraphs: the lines with no tag of their own get
        their speakers from the whole run at once (`_decode`); each one's confidence says
        where the nearest lines whose tags name their speakers are (before *or after* it) and
        whether their parity (two people alternate) agrees. Changes the chain's voices in place
        (the segmenter rebuilds their beats)."""
        chain, self.chain = self.chain, []
        self.gap = False
        self._decode(chain)
        idx = [i for i, t in enumerate(chain) if t.anchor]
        # a run between two people only is easier to follow than one among three or more
        two = len({t.key for t in chain}) <= 2
        for j, t in enumerate(chain):
            if t.fixed:
                continue
            prev = max((i for i in idx if i < j), default=None)
            nxt = min((i for i in idx if i > j), default=None)
            want: str | None = None
            where = "alone"
            if prev is not None and nxt is not None:
                a, b = chain[prev].key, chain[nxt].key
                if (nxt - prev) % 2 == 1 and a != b:
                    want, where = (a if (j - prev) % 2 == 0 else b), "between"
                elif (nxt - prev) % 2 == 0 and a == b:
                    want, where = (a if (j - prev) % 2 == 0 else None), "between"
                else:
                    where = "conflict"
                    near = prev if j - prev <= nxt - j else nxt
                    if abs(j - near) == 1 and t.key == chain[near].key:
                        want = self._other(chain, j, chain[near].key)
            elif nxt is not None:
                a = chain[nxt].key
                want, where = (a if (nxt - j) % 2 == 0 else self._other(chain, j, a)), "after"
            elif prev is not None:
                where = "before"
            agree = want is not None and want == t.key
            conf = _TURN_CONFIDENCE[where, agree, two]
            if t.margin is not None:  # and how much better the run reads with this speaker than with any other
                conf = (conf + _margin_confidence(t.margin)) / 2
            for v in t.voices:
                v.confidence = conf

    def _decode(self, chain: list[_Turn]) -> None:
        """Decide the speakers of a run's untagged turns jointly rather than one by one from
        the run's start (where one wrong first guess is carried by alternation to the run's
        end): every assignment of speakers to the turns is scored against all the evidence in
        the run and the best one is kept (a second-order Viterbi over the likely people).
        Evidence (weights in `_DECODE_W`): the turns whose speaker a tag or an action says
        (kept as they are), the rules' guess for each other turn, who each line calls by name
        or by "sir"/"madam", names a line mentions in passing, who the narration before the run
        named; and people take turns: a speaker seldom follows themself, the one who spoke two
        turns back usually speaks again, a third voice is rarer."""
        if len(chain) < 2 or all(t.fixed for t in chain):
            return
        pron = self.names.pron
        w = _DECODE_W
        count: dict[str, float] = {}

        def add(k: str | None, weight: float) -> None:
            if k is not None and k in pron:
                count[k] = count.get(k, 0.0) + weight

        for t in chain:
            add(t.key, 1.0)
            for v in t.voices:
                add(v.addressee, 0.5)
            for k in t.dear:
                add(k, 0.5)
            for k in t.avoid:
                add(k, 0.3)
        for k in chain[0].near:
            add(k, 0.4)
        kept = list(dict.fromkeys(t.key for t in chain if t.fixed))
        cands = kept + sorted((k for k in count if k not in kept), key=lambda k: -count[k])
        cands = cands[: max(_DECODE_CANDIDATES, len(kept))]
        if len(cands) < 2:
            return
        ev, gap, long = _run_evidence(chain, cands, pron), [t.gap for t in chain], [t.chars >= _LONG_TURN for t in chain]
        decoded = _decode_run(ev, gap, w, long)
        if decoded is None:
            return
        path, margins = decoded
        for t, m in zip(chain, margins, strict=True):
            t.margin = m
        for t, i in zip(chain, path, strict=True):
            want = cands[i]
            if t.fixed or want == t.key:
                continue
            t.key = want
            for v in t.voices:
                v.runner_up = v.speakers[0] if v.speakers else v.runner_up
                v.speakers = (want,)
                v.source = "settled"

    def _other(self, chain: list[_Turn], j: int, a: str) -> str | None:
        """The other party of a two-person exchange with `a`, around turn j."""
        for d in range(2, len(chain), 2):
            for k in (j - d, j + d):
                if 0 <= k < len(chain) and chain[k].anchor and chain[k].key != a:
                    return chain[k].key
        cur = chain[j].key
        if cur != a:
            return cur
        v = chain[j].voices[0]
        return v.runner_up if v.runner_up != a else None

    def _runner_up(self, chosen: Sequence[str], outside: Sequence[Mention]) -> str | None:
        """The next most likely speaker: the other voice of the conversation, else the latest
        other person named."""
        for k in [*reversed(self.speakers[-6:]), *(m.key for m in reversed(outside)), *reversed(self.recent),
                  *self.names.keys]:
            if k not in chosen and k in self.names.pron:
                return k
        return None

    def _introduces(self, q: Quote, inside: list[Mention]) -> str | None:
        """“My name is Edith Carrow”: the speaker names themself."""
        for m in inside:
            lead = self.text[max(q.start, m.start - 14) : m.start]
            if _INTRO.search(lead):
                return m.key
        return None

    def _opening_subject(self, ps: int, pe: int, quotes: Sequence[Quote], outside: list[Mention]) -> Mention | None:
        """A paragraph that opens with "He"/"She" continues with someone from before: resolve it
        now (before this paragraph's own names can mislead) and treat it as a mention there."""
        if quotes and _before(quotes[0]) <= ps + 1:
            return None
        m = _PRONOUN.match(self.text, ps, pe)
        if m is None:
            return None
        word = m.group(0).lower()
        if word in ("his", "her", "their"):
            nxt = _WORDS.match(self.text, m.end() + 1, pe)
            if nxt is None or nxt.group(0).lower() not in _BODY:
                return None  # "Her sister was…": someone else is the subject
        cls = _PRON_CLASS[word]
        if cls not in ("he", "she", "it"):
            return None
        ok = [k for k in self.names.keys if self._compatible(k, cls) and k != self.narrator]
        if not ok:
            return None
        okset = set(ok)
        cand: str | None = None
        if not self.prev_voiced and self.prev_subject in okset:
            cand = self.prev_subject
        if cand is None:
            for k in reversed(self.speakers[-3:] if self.prev_voiced else []):
                if k in okset:
                    cand = k
                    break
        if cand is None:
            for k in reversed(self.recent):
                if k in okset:
                    cand = k
                    break
        return Mention(m.start(), m.end(), cand) if cand is not None else None

    def _vocatives(self, q: Quote, inside: list[Mention]) -> set[str]:
        text = self.text
        out: set[str] = set()
        for m in inside:
            before = text[q.start : m.start].rstrip()
            after = text[m.end : q.end].lstrip()
            b_ok = before == "" or before[-1] in ",!?.…—–-" or before.endswith(("Oh", "oh", "Hey", "hey"))
            a_ok = after == "" or after[0] in ",!?.…—–-;"
            if b_ok and a_ok:
                out.add(m.key)
        return out

    # ------------------------------------------------ conversational cues (vocatives, floor)
    def _title_forms(self) -> dict[str, str]:
        """Bare titles that name one character: "sensei" when only Baki is "Baki-sensei"."""
        if self._titles is None:
            seen: dict[str, set[str]] = {}
            for c in self.names.cast:
                for n in c.names():
                    head, sep, tail = n.strip().rpartition("-")
                    if sep and head and tail.lower() in _BARE_TITLES:
                        seen.setdefault(tail.lower(), set()).add(c.key)
            self._titles = {t: next(iter(k)) for t, k in seen.items() if len(k) == 1}
        return self._titles

    def _loose_vocatives(self, q: Quote, inside: list[Mention]) -> set[str]:
        """Vocatives written without a comma: "Thank you Gaara.", "Hai sensei.", "…for you
        Naruto, if I can": a name (or a title only one character has) right after a greeting
        word or "you", followed by punctuation."""
        text = self.text
        out: set[str] = set()
        spans = [(m.start, m.end, m.key) for m in inside]
        titles = self._title_forms()
        if titles:
            for tm in _WORDS.finditer(text, q.start, q.end):
                key = titles.get(tm.group(0).lower())
                if key is not None:
                    spans.append((tm.start(), tm.end(), key))
        for a, b, key in spans:
            after = text[b : q.end].lstrip()
            if not (after == "" or after[0] in ",!?.…;"):
                continue
            before = text[q.start : a].rstrip()
            if before == "" or before[-1] in ",!?.…—–-":
                out.add(key)
            elif _GREETING_BEFORE.search(before):
                out.add(key)
        return out

    def _not_speaker(self, quotes: Sequence[Quote], i: int, inside: list[Mention], pe: int) -> set[str]:
        """People who are not the speaker of quotes[i] although nothing calls them: a name given
        an honorific ("what do you think, Gaara-kun?": nobody says their own name that way), and
        whoever nods or shakes their head right after a question (they answer it)."""
        text = self.text
        q = quotes[i]
        out = {m.key for m in inside if text[m.start : m.end].count("-") and
               _HONORIFIC_END.search(text, m.start, m.end)}
        if text[q.start : q.end].rstrip().endswith("?") and q.close >= 0:
            hi = _before(quotes[i + 1]) if i + 1 < len(quotes) else pe
            nod = _NOD.match(text, q.close + 1, hi)
            if nod:
                for m in self.names.find(text, nod.start(1), nod.end(1)):
                    out.add(m.key)
        return out

    def _floor_after_voiced(self, ps: int, pe: int, quotes: Sequence[Quote], out: Sequence[SpeakerGuess],
                            outside: list[Mention]) -> str | None:
        """A speaker found by what they do rather than a speech tag, whose paragraph ends on
        them again ("…But…" Gaara looked at Lee.), keeps the floor: their next untagged line
        is theirs (the other one has not been given a turn)."""
        text = self.text
        v = out[-1]
        last = quotes[-1]
        if len(v.speakers) != 1 or v.thought or last.close < 0:
            return None
        sents = _sentences(text, last.close + 1, pe)
        if not sents:
            return None
        for vm in _VERB_RE.finditer(text, sents[0][0], pe):
            if not _PAST_PERFECT.search(text, max(ps, vm.start() - 8), vm.start()):
                return None
        pos = ps
        for q in quotes:  # no speech tag anywhere in the paragraph ("had said" is no tag)
            for vm in _VERB_RE.finditer(text, pos, _before(q)):
                if not _PAST_PERFECT.search(text, max(ps, vm.start() - 8), vm.start()):
                    return None
            pos = _after(q)
        s0, s1 = sents[0]
        subj = self._subject_in(s0, s1, outside, first_words=3, before=[m for m in outside if m.start < s0],
                                subjects=[], speech_tag=False, exclude=set())
        return v.speakers[0] if subj and subj.keys == v.speakers else None

    def _floor_after_silence(self, ps: int, pe: int, subject: str | None) -> str | None:
        """"Lee did not interrupt Gaara's speech": the one who stays silent does not speak next;
        the last speaker goes on. So in a short paragraph right after a line, when the listener
        answers in words the text does not quote ("Clara said what was polite.", "He agreed that
        it might.") or only with a look ("Clara looked down to hide a smile.")."""
        last = self.speakers[-1] if self.speakers else None
        if subject is None or last is None or last == subject:
            return None
        text = self.text
        if _SILENCE.search(text, ps, pe):
            return last
        return last if self._unquoted_reply(ps, pe) else None

    def _unquoted_reply(self, ps: int, pe: int) -> bool:
        """A short narration paragraph right after a line that reports an answer without
        quoting it, or shows only a look ("Clara murmured her thanks."): no lead-in to a line."""
        return (self.prev_voiced and len(_WORDS.findall(self.text, ps, pe)) <= _REPLY_WORDS
                and _UNQUOTED_REPLY.search(self.text, ps, pe) is not None)

    def _fallback(self, voc: set[str], *, starts_para: bool, gender: str | None = None) -> SpeakerGuess:
        """No tag, no action, no other quote in the paragraph: the scene decides."""

        def ok(k: str | None) -> bool:
            return (k is not None and k in self.names.pron and k not in voc
                    and (gender is None or self._compatible(k, gender)))

        if ok(self.runon) and starts_para:
            assert self.runon is not None
            return SpeakerGuess((self.runon,), False, "runon")
        if ok(self.holder) and starts_para:
            assert self.holder is not None
            return SpeakerGuess((self.holder,), False, "floor")
        if ok(self.addressee) and self.prev_voiced:
            assert self.addressee is not None
            return SpeakerGuess((self.addressee,), False, "addressee")
        if self.prev_subject is not None and self.prev_subjects and ok(self.prev_subjects[-1]):
            # "He laughed; but Clara was not convinced.": the one the narration ends on answers
            return SpeakerGuess((self.prev_subjects[-1],), False, "narration")
        if ok(self.prev_subject):
            assert self.prev_subject is not None
            return SpeakerGuess((self.prev_subject,), False, "narration")
        last_spk = self.speakers[-1] if self.speakers else None
        if self.pair and self.prev_voiced and last_spk in self.pair:
            other = next(k for k in self.pair if k != last_spk)
            if ok(other):
                return SpeakerGuess((other,), False, "pair")
        conv = self._conversation()
        if len(conv) == 2 and self.prev_voiced and (ok(conv[1]) or (conv[1].startswith("?") and gender is None)):
            return SpeakerGuess((conv[1],), False, "turn")  # may be "?Name": the unnamed one answers
        if len(conv) == 2 and self.prev_voiced and ok(conv[0]) and conv[1] in voc:
            return SpeakerGuess((conv[0],), False, "turn")  # the other one is ruled out: the speaker goes on
        last = self.speakers[-1] if self.speakers else None
        for k in reversed(self.recent):
            if k != last and ok(k):
                return SpeakerGuess((k,), False, "recent")
        if ok(last):
            assert last is not None
            return SpeakerGuess((last,), False, "recent")
        if gender is not None:
            only = [k for k in self.names.keys if ok(k)]
            if len(only) == 1:
                return SpeakerGuess((only[0],), False, "gender")
        if not self.speakers and self.after_heading and self.before_break and ok(self.before_break[-1]):
            # a chapter heading inside a speech or a conversation: nobody else is in view, so
            # the last voice before it goes on (after a scene break, a new scene: nobody)
            return SpeakerGuess((self.before_break[-1],), False, "recent")
        return SpeakerGuess((), False, "none")

    def _tag_after(self, q: Quote, hi: int, outside: list[Mention], before_m: list[Mention],
                   subjects: list[Mention], voc: set[str]) -> SpeakerGuess | None:
        text = self.text
        a = _after(q)
        if a >= hi:
            return None
        b = min(hi, a + 160)
        ends = sentence_ends(text, a, b)
        win = ends[0] if ends else b
        v = _VERB_RE.search(text, a, win)
        pv = _PROGRESSIVE.search(text, a, win)  # "…!" Clara was beginning, when…
        progressive = pv is not None and (v is None or pv.start() < v.start())
        if progressive and pv is not None:
            v = _ANY_WORDS.search(text, pv.start(1), pv.end(1))
        if v is None:
            return None
        if len(_WORDS.findall(text, a, v.start())) > 6:
            return None
        if any(c in ";:" for c in text[a : v.start()]) or _NEGATED.search(text, max(a, v.start() - 24), v.start()):
            return None  # "He listened; admitted that…", "Hugh did not answer": no tag
        if (not progressive and _COPULA.search(text, max(a, v.start() - 24), v.start())) or _starts_other(text, v, win):
            return None  # "Agnes felt persuaded that…", "Tobias began to think…": no tag either
        if _REPORTS.match(text, v.end(), win) and _WORDS.search(text, a, v.start()):
            return None  # "…?" Tobias shrugged, declared he knew nothing of it: reported, no tag
        if _NO_TAG_OBJECT.match(text, v.end(), win) or (
                (_NEW_CLAUSE.match(text, a, v.start()) or _NEW_CLAUSE_IN.search(text, a, v.start()))
                and v.group(0) not in _GOING_ON):
            return None  # "…" Hugh said nothing. / "…;" and Clara muttered: "…"
        mind = _mind_at(text, v, a, win)
        thought = _thought_tag(text, v, a, win, mind)
        heard = self._heard_pronoun(a, v.start(), outside, before_m, subjects, voc)
        if heard is not None:
            return SpeakerGuess(heard.speakers, thought, "tag_after", False, heard.exclude, rivals=heard.rivals)
        for m in outside:
            # "“Splendid,” Hugh heard Tobias say, “…”": the name right before the verb
            if a <= m.start and m.end <= v.start() and m.key not in voc \
                    and m.key in self.names.pron and _HEARD.search(text, a, m.start) \
                    and _next_to_verb(text, a, m, v.start()):
                return SpeakerGuess((m.key,), thought, "tag_after", True)
        subj = self._subject_in(a, v.start(), outside, first_words=None, before=before_m, subjects=subjects,
                                speech_tag=not thought, exclude=voc)
        if subj is None:
            subj = self._subject_in(v.end(), win, outside, first_words=3, before=before_m, subjects=subjects,
                                    speech_tag=not thought, exclude=voc)
        if subj is None:
            return None
        if subj.named and set(subj.keys) & voc and len(_WORDS.findall(text, q.start, q.end)) > 2:
            # "“Stop, Mr. Grebe!” But Mr. Grebe only laughed": the one called is no speaker (a
            # line that is only a name may be the speaker's own: "“Carrow,” said the lady")
            return None
        if mind and len(subj.keys) == 1:
            self._inner_voice(subj.keys[0])
        return SpeakerGuess(subj.keys, thought, "tag_after", subj.named, subj.exclude, subj.gender, rivals=subj.rivals)

    def _owned_words(self, q: Quote, lo: int, hi: int, outside: list[Mention], voc: set[str]) -> SpeakerGuess | None:
        """"…," was Mary's reasoning. / Aunt Jo's quiet question of "…": a name owning a
        word for what was said, right after or right before the quote."""
        text = self.text
        a = _after(q)
        for m in outside:
            if a <= m.start < min(hi, a + 80) and _AGENT.fullmatch(text, a, m.start) and m.key not in voc:
                return SpeakerGuess((m.key,), False, "tag_after", True)  # "…" was said by Agnes
            if a <= m.start < min(hi, a + 40) and len(_WORDS.findall(text, a, m.start)) <= 2:
                if _SPEECH_NOUN.match(text, m.end, min(hi, m.end + 60)) and m.key not in voc:
                    return SpeakerGuess((m.key,), False, "tag_after", True)
            b = _before(q)
            if max(lo, b - 80) <= m.start < b:
                own = _SPEECH_NOUN.match(text, m.end, b)
                if own and (_ECHOED.search(text, max(lo, m.start - 30), m.start)
                            or _TIME_BEFORE.search(text, max(lo, m.start - 10), m.start)):
                    continue  # "she echoed Agnes's words," / "on Hugh's answer, “…” she said"
                if own and not text[own.end() : b].strip(" \t\n,:—–-") and m.key not in voc:
                    return SpeakerGuess((m.key,), False, "tag_before", True)
        return None

    def _heard_pronoun(self, a: int, v: int, outside: list[Mention], before_m: list[Mention],
                       subjects: list[Mention], voc: set[str]) -> SpeakerGuess | None:
        """"…," Clara heard him say. / Tobias could hear her murmur: the object of "heard" right
        before the speech verb at `v` speaks -- someone other than the one hearing."""
        obj = _HEARD_PRONOUN.search(self.text, a, v)
        if obj is None:
            return None
        cls = _PRON_CLASS[obj.group(1).lower()]
        hearers = {m.key for m in outside if a <= m.start < obj.start()}
        fits = cls != "it" or any(self._compatible(k, "it") for k in self.names.keys)
        res = self._resolve_pronoun(cls, before_m, subjects, True, voc | hearers) if fits else ()
        if not res:  # (an "it" the cast has no one for: at least not the one hearing)
            return SpeakerGuess((), False, "", False, tuple(sorted(hearers))) if hearers else None
        return SpeakerGuess(res, False, "", False, rivals=max(1, self._rivals(cls, before_m, subjects, voc | hearers)))

    def _tag_before(self, q: Quote, lo: int, outside: list[Mention], before_m: list[Mention],
                    subjects: list[Mention], voc: set[str]) -> SpeakerGuess | None:
        text = self.text
        b = _before(q)
        if b <= lo:
            return None
        ends = sentence_ends(text, lo, b)
        a = ends[-1] if ends else lo
        while a < b and text[a].isspace():
            a += 1
        if a >= b:
            return None
        tail = text[a:b].rstrip()
        got = _ANSWER_GOT.search(text, a, b)
        if got is not None:
            # "…, and receiving no answer but one sulky--“…”": the one who got the
            # answer is not the one who gives it
            subj = self._subject_in(a, got.start(), outside, first_words=None, before=before_m, subjects=subjects,
                                    speech_tag=True, exclude=voc, nearest=True)
            if subj is not None and subj.keys:
                return SpeakerGuess((), False, "tag_before", exclude=subj.keys)
        got = _RECEIVED.search(text, a, b)
        if got is not None:
            for m in outside:  # "…, and was met by Mrs. Pell with, “…”"
                if got.start("rest") <= m.start < got.end("rest") and _TIME_BEFORE.search(text, got.start("rest"), m.start) is None \
                        and text[got.start("rest"):m.start].strip().endswith("by") and m.key not in voc:
                    return SpeakerGuess((m.key,), False, "tag_before", True)
            subj = self._subject_in(a, got.start(), outside, first_words=None, before=before_m, subjects=subjects,
                                    speech_tag=True, exclude=voc, nearest=True)
            if subj is not None and subj.keys:
                # the one the sentence brought in beside its subject ("Clara found Mrs. Pell
                # at home, and was greeted with,"), if anyone; as unsure as a pronoun
                other = [m.key for m in outside if a <= m.start < got.start() and m.key not in subj.keys
                         and m.key not in voc and m.key in self.names.pron]
                if other:
                    return SpeakerGuess((other[-1],), False, "tag_before", False, subj.keys, rivals=len(set(other)))
                return SpeakerGuess((), False, "tag_before", exclude=subj.keys)
        if not tail or (tail[-1] not in ",:—–-" and not _TAG_VERB_RE.search(tail[-14:])
                        and not _SPACED_END.search(text, a, b)):
            return None  # (spaces left where a dash was lost: "…thus began, with a smile   “…”")
        v = None
        for v_ in _TAG_VERB_RE.finditer(text, a, b):
            if (not _REPORTED.search(text, max(a, v_.start() - 30), v_.start()) and not _starts_other(text, v_, b)
                    and not _VERB_AS_ADJECTIVE.match(text, v_.end(), b)):
                # (not "what she said": "heard Clara say, with a voice which showed what she said,";
                # nor "as soon as Agnes began to nod"; nor "Agnes's concluding words")
                v = v_
        if v is None or len(_WORDS.findall(text, v.end(), b)) > _TAG_TAIL:
            return None
        mind = _mind_at(text, v, a, b)
        thought = _thought_tag(text, v, a, b, mind)
        heard = self._heard_pronoun(a, v.start(), outside, before_m, subjects, voc)
        if heard is not None:
            return SpeakerGuess(heard.speakers, thought, "tag_before", False, heard.exclude, rivals=heard.rivals)
        for m in reversed(outside):
            # "even Clara said,", "she heard Agnes say,", "stopped by Mr. Pell's saying":
            # the name right before the verb
            if a <= m.start and m.end <= v.start() and _next_to_verb(text, a, m, v.start()):
                if m.key in voc:
                    break
                if m.key in self.names.pron:
                    return SpeakerGuess((m.key,), thought, "tag_before", True)
        who = self._relative_subject(a, v.start(), outside, voc)
        if who is not None:
            return SpeakerGuess((who,), thought, "tag_before", True)
        # ("Tobias chuckled, since he felt he ought to, and then added": the sentence's own subject)
        subj = self._subject_in(a, v.start(), outside, first_words=None, before=before_m, subjects=subjects,
                                speech_tag=not thought, exclude=voc, nearest=True,
                                main=_ELIDED.search(text, a, v.start()) is not None)
        if subj is None and not v.group(0).endswith("ing"):  # (", addressing Hugh,": Hugh is spoken to)
            subj = self._subject_in(v.end(), b, outside, first_words=3, before=before_m, subjects=subjects,
                                    speech_tag=not thought, exclude=voc)
        if subj is None:
            return None
        if mind and len(subj.keys) == 1:
            self._inner_voice(subj.keys[0])
        return SpeakerGuess(subj.keys, thought, "tag_before", subj.named, subj.exclude, subj.gender,
                            rivals=subj.rivals)

    def _relative_subject(self, a: int, v: int, outside: list[Mention], voc: set[str]) -> str | None:
        """"Agnes, who in a cold voice had refused twice, said,": the name a relative clause
        hangs on speaks, when no other name comes between it and the verb."""
        text = self.text
        inside = [m for m in outside if a <= m.start and m.end <= v]
        for j in range(len(inside) - 1, -1, -1):
            m = inside[j]
            if _WHO.match(text, m.end, v):
                # names inside the relative clause ("who had waited until Clara had finished,")
                # do not count; one after it does
                close = text.rfind(",", m.end + 1, v)
                if all(o.end <= close for o in inside[j + 1 :]) and m.key not in voc and m.key in self.names.pron:
                    return m.key
                return None
        return None


# words that end a description before its noun's end ("his brother to Hugh", "her mother again")
_NOT_NOUN = frozenset("""to at with in as and who whom which from for on of into upon after again once then now
still too also aloud but or while when""".split())
_LY_NOUNS = frozenset({"family", "ally", "bully", "lily", "fly", "belly", "folly", "jelly"})
# what follows a clause's subject: a verb ("Clara mused"), or an aside ("Clara, looking up,")
_CLAUSE_VERB = re.compile(r"\s*,|\s+(?!(?:and|or|nor|but|to|of|in|with|at|by|for|from|on|into)\b)[a-z]")
_ONESELF = re.compile(r"\s+(to\s+)?(him|her|them|my|your|our|one)sel(?:f|ves)\b")
# a subject between a tag's verb and its reflexive: "said Agnes to herself"
_SUBJECT_THEN = re.compile(r"(?:\s+(?:[A-Z][\w'’.-]*|he|she|they|we)){1,3}")
# the verbs whose bare reflexive object is the one spoken to: "told herself", "asked himself"
_SELF_VERB = re.compile(r"\b(?:tell(?:s|ing)?|told|ask(?:s|ed|ing)?|answer(?:s|ed|ing)?|remind(?:s|ed|ing)?|"
                        r"assur(?:es|ed|ing)|promis(?:es|ed|ing)|repeat(?:s|ed|ing)?)$")


def _to_oneself(text: str, a: int, b: int, lo: int | None = None) -> bool:
    """"he told himself", "she said to herself": words meant for no one else are a thought. Not
    "she corrected herself", "Tom explained himself" (a bare "herself" is the words' object only
    after telling or asking), nor "she added to myself" (said to the narrator: "myself" is a
    thought only when "I" speaks; `lo` is where the tag starts)."""
    m = _ONESELF.match(text, a, b)
    if m is None:
        # "said Agnes to herself", "thought he to himself": the subject between verb and words
        s = _SUBJECT_THEN.match(text, a, b)
        m = _ONESELF.match(text, s.end(), b) if s else None
        if m is None or not m.group(1):
            return False
    if not m.group(1) and not _SELF_VERB.search(text, max(0, a - 12), a):
        return False
    if m.group(2) in ("my", "our") and lo is not None:
        return re.search(r"\bI\b" if m.group(2) == "my" else r"\b[Ww]e\b", text[lo:a]) is not None
    return True


# a word of the mind beside the tag's own verb: "he added inwardly", "she silently mouthed"
_SILENT_NEXT = re.compile(r"(?:\s+(?!(?:and|or|but|then|after|before|while)\b)[\w'’]+){0,2}?\s+"
                          r"(?:silently|inwardly|mentally|wordlessly)\b")  # (or "told it silently")
_SILENT_PREV = re.compile(r"\b(?:silently|inwardly|mentally|wordlessly)\s+$")
# "thought" as a noun ("a novel thought", "her own thought", "train of thought"), passive ("it
# was thought “very English”"), or thinking aloud: no thought
_THOUGHT_NOUN = re.compile(r"(?:\b(?:an?)\s+(?:\w+\s+)?|\b(?:own|of|the|his|my|their|our|your|be|been|being|was|"
                           r"were|is|are)\s+)$")
_ALOUD = re.compile(r"\s+aloud\b")


def _mind_at(text: str, v: re.Match[str], a: int, b: int) -> bool:
    """"he added in his mind", "…," cackled in the back of his mind: a place in the mind right
    beside the tag's verb (a few words, no comma between). Not "the matter being foremost in
    their thoughts, he only answered", nor "drawing in his head again, confirmed"."""
    for m in _MIND.finditer(text, a, b):
        if m.start() < v.end() and m.end() > v.start():
            continue
        gap = text[v.end() : m.start()] if m.start() >= v.end() else text[m.end() : v.start()]
        if not any(c in gap for c in ",;:—–") and len(_WORDS.findall(gap)) <= 3:
            return True
    return False


def _thought_tag(text: str, v: re.Match[str], a: int, b: int, mind: bool) -> bool:
    """Is the tag around verb `v` (tag text `a`..`b`) one of thinking rather than speaking?"""
    word = v.group(0)
    if word in THOUGHT_VERBS:
        lo = max(a, text.rfind(";", a, v.start()) + 1)  # (not "she repeated; and went on thinking to herself")
        if (word.endswith("ing") and not _to_oneself(text, v.end(), b, a)
                and any(w.group(0) not in THOUGHT_VERBS for w in _VERB_RE.finditer(text, lo, v.start()))):
            return False  # "he added, thinking the joke fair,": the speaking verb is the tag's
        return (not _THOUGHT_NOUN.search(text, max(a, v.start() - 24), v.start())
                and not _ALOUD.match(text, v.end(), b))
    if mind or _to_oneself(text, v.end(), b, a):
        return True
    # "he mentally added", "she added inwardly"; not "he said; and silently passed the salt"
    return bool(_SILENT_PREV.search(text, max(a, v.start() - 24), v.start()) or _SILENT_NEXT.match(text, v.end(), b))


# How often each rule was right on the PDNC development novels (bench/pdnc.py), per rule and
# whether the tag named the speaker; see `confidence`.
_RULE_CONFIDENCE: dict[str, float] = {
    "tag_after": 0.82, "tag_before": 0.60, "action": 0.63, "paragraph": 0.80, "action_after": 0.75,
    "intro": 0.9, "runon": 0.9, "addressee": 0.7, "narration": 0.42, "pair": 0.7, "turn": 0.45,
    "recent": 0.34, "gender": 0.5, "floor": 0.34, "none": 0.0, "stranger": 0.0, "settled": 0.5,
}
_PRONOUN_CONFIDENCE: dict[str, tuple[float, float, float, float]] = {
    "tag_after": (0.94, 0.8, 0.7, 0.65), "tag_before": (0.75, 0.67, 0.58, 0.41)}
_NAMED_CONFIDENCE: dict[str, float] = {"tag_after": 0.98, "tag_before": 0.86, "intro": 0.9}
# weights of the evidence `Attributor._decode` weighs. Tuned by hand on the PDNC development novels
# (74.3 % of the lines it decides right, in-sample); bench/fit_decoder.py fits them honestly: a
# search from neutral weights, cross-validated leave-one-novel-out, decides 73.9-74.1 % right on
# the held-out novels (74.6-75.0 in-sample) and breaks habits our own tests pin down, so the hand
# weights stay; "same_long" is the search's (0 in every fold: 74.4 % held out). They weigh: the rules' guess for a turn, by the rule that made it
# (a guess that only echoes the turns before counts once); someone the line calls by name (not
# the speaker), names in passing (hardly ever the speaker), or calls "sir"/"madam" (the pronouns
# of the one who speaks before and after it); the one the line before called by name (answers);
# people the narration before the run named (take part in its first exchange); and the turns'
# shape: a speaker following themself, the one of two turns back speaking again, a third voice
# (weaker across a short narration paragraph, "_gap", of at most `gap_words` words; a long turn
# after a long turn of the same speaker, "same_long": a story told over several paragraphs)
_DECODE_W: dict[str, float] = {"g_turn": 0.4, "g_addressee": 1.5, "g_narration": 0.7, "g_recent": 0.3,
                               "g_pair": 1.0, "g_gender": 0.5, "g_none": 0.0, "avoid": 5.0, "named": 3.0,
                               "called": 1.0, "prev_to": 1.5, "near": 0.5, "same": 2.0, "alt": 2.0,
                               "third": 1.0, "gap_words": 100, "same_gap": 0.0, "alt_gap": 0.5,
                               "third_gap": 0.5, "near_gap": 0.5, "same_long": 0.0}
# a listener's answer the text reports without quoting it, or a look instead of words (see
# `Attributor._floor_after_silence`): "said what was civil", "agreed that …", "asked whether …",
# "murmured her thanks", "… to hide a smile", "only smiled" (not "looked down": at her boots,
# before she speaks)
_UNQUOTED_REPLY = re.compile(
    r"\b(?:said|answered|replied|returned)\s+(?:what|something|all\s+that|whatever)\b|"
    r"\b(?:agreed|answered|replied|admitted|owned|confessed|protested|assured\s+\w+|promised)\s+that\b|"
    r"\b(?:asked|enquired|inquired)\s+(?:how|whether|if|what|why|where|when|after|about)\b|"
    r"\b(?:murmured|expressed|stammered|uttered|returned|gave)\s+(?:his|her|their|a|an|some)\s+"
    r"(?:thanks|assent|consent|pleasure|apologies|regrets|answer|reply|excuses?|acknowledg\w*)\b|"
    r"\bto\s+hide\s+(?:his|her|a|their)\s+(?:smile|confusion|tears)\b|"
    r"\bonly\s+(?:smiled|laughed|sighed|shrugged|looked|stared|shook)\b")
_REPLY_WORDS = 30  # a longer paragraph may move on to something else
_DECODE_CANDIDATES = 6  # people weighed per run (the most likely by the run's own evidence)
_LONG_TURN = 400  # characters from a turn's first line to its last: a long one (see `_shape_weight`)


def _run_evidence(chain: Sequence[_Turn], cands: Sequence[str],
                  pron: dict[str, str | None]) -> list[list[dict[str, float] | None]]:
    """The evidence `Attributor._decode` weighs, per turn of a run and candidate speaker: the
    names of `_DECODE_W`'s weights and how many times each counts (negative: against); None
    where the candidate cannot speak the turn (a turn a tag or an action decides is its
    speaker's). Kept apart from the weights so that bench/fit_decoder.py can fit them."""
    rows: list[list[dict[str, float] | None]] = []
    n = len(chain)
    seen: set[str] = set()  # the rules' speakers of the turns so far
    for j, t in enumerate(chain):
        if j > 0:
            seen.add(chain[j - 1].key)
        if t.fixed:  # (a "said she" too: the pronoun rules decide it)
            rows.append([{} if k == t.key else None for k in cands])
            continue
        prev_to = ({v.addressee for v in chain[j - 1].voices} | chain[j - 1].dear) if j > 0 else set()
        src = t.voices[0].source
        row: list[dict[str, float] | None] = []
        for k in cands:
            e: dict[str, float] = {}
            if k == t.key and (src != "turn" or k not in seen):
                # (a guess from the turns before counts once: after that it only echoes them)
                e["g_" + src] = 1.0
            if k in t.avoid or k in t.dear:
                e["avoid"] = -1.0
            elif k in t.named:
                e["named"] = -1.0
            if k in prev_to:
                e["prev_to"] = 1.0
            pk = pron.get(k)
            for nb in (j - 1, j + 1):
                if pk is not None and 0 <= nb < n and len(chain[nb].called) == 1:
                    e["called"] = e.get("called", 0.0) + (1.0 if pk in chain[nb].called else -1.0)
            if j < 2 and k in chain[0].near:
                e["near"] = 1.0
            if t.gap and k in t.near:
                e["near_gap"] = 1.0
            row.append(e)
        rows.append(row)
    return rows


def _shape_weight(gap: Sequence[bool], j: int, rel: str, long: Sequence[bool] = ()) -> tuple[str, float]:
    """Which of `_DECODE_W`'s turn-shape weights scores turn j's speaker being `rel` ("same":
    the speaker of turn j-1 again, "alt": the one of j-2, "third": someone else), and its sign.
    `long`: which turns are long (a speaker who goes on from one long paragraph to the next
    is telling a story, not taking turns)."""
    if rel == "same" and not gap[j] and long and long[j] and long[j - 1]:
        return "same_long", -1.0
    if j == 1:  # (only a speaker following themself counts at the run's start)
        return ("same_gap" if gap[1] else "same", -1.0) if rel == "same" else ("", 0.0)
    if gap[j]:
        return {"same": ("same_gap", -1.0), "alt": ("alt_gap", 1.0), "third": ("third_gap", -1.0)}[rel]
    if gap[j - 1]:
        return {"same": ("same", -1.0), "alt": ("alt_gap", 1.0), "third": ("third_gap", -1.0)}[rel]
    return {"same": ("same", -1.0), "alt": ("alt", 1.0), "third": ("third", -1.0)}[rel]


def _decode_run(ev: Sequence[Sequence[dict[str, float] | None]], gap: Sequence[bool],
                w: dict[str, float], long: Sequence[bool] = ()) -> tuple[list[int], list[float]] | None:
    """The best assignment of candidates (indices) to a run's turns — a second-order Viterbi
    over the evidence `ev` (see `_run_evidence`) and the turns' shape (`gap`, `long`: see
    `_shape_weight`), weighted by `w` — and how sure it is of each turn: the best score of the
    whole run minus the best score of any assignment that gives that turn to someone else
    (max-marginals of the same chain, forward and backward). A thin margin: the run would read
    almost as well with that line given to another voice."""
    n = len(ev)
    never = -1e9
    emit = [[never if e is None else sum(w.get(f, 0.0) * x for f, x in e.items()) for e in row] for row in ev]
    ok = [[i for i, e in enumerate(row) if e > never / 2] for row in emit]

    def tr(j: int, rel: str) -> float:
        name, sign = _shape_weight(gap, j, rel, long)
        return sign * w[name] if name else 0.0

    # the transition into turn j: (same speaker as j-1, the one of j-2, anyone else)
    trans = [(0.0, 0.0, 0.0)] * 2 + [(tr(j, "same"), tr(j, "alt"), tr(j, "third")) for j in range(2, n)]
    same1 = tr(1, "same")
    # state: (speaker of turn j-1, speaker of turn j); fwd[j]: the best score of turns 0..j ending in it
    fwd: list[dict[tuple[int, int], float]] = [{}, {(a, b): emit[0][a] + emit[1][b] + (same1 if a == b else 0.0)
                                                    for a in ok[0] for b in ok[1]}]
    back: list[dict[tuple[int, int], tuple[int, int]]] = [{}, {}]
    for j in range(2, n):
        cur: dict[tuple[int, int], float] = {}
        bk: dict[tuple[int, int], tuple[int, int]] = {}
        t_same, t_alt, t_third = trans[j]
        row = emit[j]
        for (a, b), sc in fwd[j - 1].items():
            for d in ok[j]:
                val = sc + row[d] + (t_same if d == b else t_alt if d == a else t_third)
                if val > cur.get((b, d), never):
                    cur[b, d] = val
                    bk[b, d] = (a, b)
        fwd.append(cur)
        back.append(bk)
    last = fwd[n - 1]
    if not last:
        return None
    state = max(last, key=lambda st: last[st])
    path = [state[1], state[0]]
    for j in range(n - 1, 1, -1):
        state = back[j][state]
        path.append(state[0])
    path.reverse()
    # bwd[j]: the best score of turns j+1.. given the state at j
    bwd: list[dict[tuple[int, int], float]] = [{} for _ in range(n)]
    bwd[n - 1] = {st: 0.0 for st in last}
    for j in range(n - 2, 0, -1):
        nxt, row, (t_same, t_alt, t_third) = bwd[j + 1], emit[j + 1], trans[j + 1]
        cur = {}
        for (a, b) in fwd[j]:
            best = never
            for d in ok[j + 1]:
                nb = nxt.get((b, d))
                if nb is not None:
                    best = max(best, nb + row[d] + (t_same if d == b else t_alt if d == a else t_third))
            cur[a, b] = best
        bwd[j] = cur
    marg = [[never] * len(emit[0]) for _ in range(n)]
    for j in range(1, n):
        for (a, b), sc in fwd[j].items():
            tot = sc + bwd[j].get((a, b), never)
            marg[j][b] = max(marg[j][b], tot)
            if j == 1:
                marg[0][a] = max(marg[0][a], tot)
    margins = []
    for j, i in enumerate(path):
        rest = max((m for k, m in enumerate(marg[j]) if k != i), default=never)
        margins.append(marg[j][i] - rest if rest > never / 2 else 99.0)
    return path, margins


# how often a decoded turn is right by its margin (see `_decode_run`), on the dev novels: ~43 %
# under 0.5, ~55 % at 1-2, ~66 % at 2-3, ~80 % at 3-6, ~92 % above 6
_MARGIN_LOW, _MARGIN_HIGH, _MARGIN_SCALE = 0.4, 0.95, 3.0


def _margin_confidence(margin: float) -> float:
    """How likely a decoded turn is right by its margin alone (see `_decode_run`)."""
    return _MARGIN_LOW + (_MARGIN_HIGH - _MARGIN_LOW) * (1.0 - math.exp(-margin / _MARGIN_SCALE))


# a line with no tag of its own in a run of voiced paragraphs (see `Attributor.settle`): where
# the nearest named tags are, whether their parity agrees with the speaker, and whether the run
# is between two people only
_TURN_CONFIDENCE: dict[tuple[str, bool, bool], float] = {
    ("between", True, True): 0.95, ("between", True, False): 0.75, ("between", False, True): 0.84, ("between", False, False): 0.68,
    ("after", True, True): 0.74, ("after", True, False): 0.55, ("after", False, True): 0.67, ("after", False, False): 0.5,
    ("before", True, True): 0.72, ("before", True, False): 0.64, ("before", False, True): 0.72, ("before", False, False): 0.64,
    ("conflict", True, True): 0.35, ("conflict", True, False): 0.33, ("conflict", False, True): 0.61, ("conflict", False, False): 0.53,
    ("alone", True, True): 0.52, ("alone", True, False): 0.41, ("alone", False, True): 0.52, ("alone", False, False): 0.41,
}
# lines below this confidence are marked for a person to check: chosen with the ranker's weights
# (bench/train_ranker.py) to mark about one line in four of the PDNC development novels; the
# ranker's calibrated probability replaces `confidence` below for every line it decides
REVIEW_BELOW = _REVIEW_BELOW


def confidence(v: SpeakerGuess, *, n_quotes: int, first: bool) -> float:
    """How likely `v` names the right speaker, from the rule that chose it."""
    if not v.speakers:
        return 0.0
    if v.named and v.source in _NAMED_CONFIDENCE:
        return _NAMED_CONFIDENCE[v.source]
    if v.source in _PRONOUN_CONFIDENCE and v.rivals:
        return _PRONOUN_CONFIDENCE[v.source][min(v.rivals, 4) - 1]
    return _RULE_CONFIDENCE.get(v.source, 0.16)


def _next_to_verb(text: str, a: int, m: Mention, v: int) -> bool:
    """Is the name `m` right before the verb at `v` its subject? "even Clara said", "Mr. Pell's
    saying"; across a comma only when the name opens its clause ("Hugh, approaching Clara,
    said": Clara closes an aside, she is no subject)."""
    if not _ADJACENT.fullmatch(text, m.end, v):
        return False
    return "," not in text[m.end : v] or _opens_clause(text, a, m.start)


def _starts_other(text: str, v: re.Match[str], end: int) -> bool:
    """"began to think", "went on to explain his plan" (a speech verb is still a tag: "went on
    to say")."""
    if v.group(0) not in _ASPECT:
        return False
    inf = _INFINITIVE_AFTER.match(text, v.end(), end)
    if inf is None:
        return False
    w = inf.group(1)
    return w not in _NOT_VERBS and w not in SPEECH_VERBS and w not in _LEAD_BASES and w not in ("speak", "talk", "tell")


def _before(q: Quote) -> int:
    return q.open if q.open >= 0 else q.start


def _after(q: Quote) -> int:
    return q.close + 1 if q.close >= 0 else q.end


def _starts_clause(text: str, a: int, pos: int) -> bool:
    return not text[a:pos].strip() or text[a:pos].rstrip()[-1:] in ".!?,;:—"


# "Mary's reproach", "Mrs. Musgrove's hearty answer", "Aunt Jo's quiet question of"
_SPEECH_NOUN = re.compile(
    _APOS_S + r"\s+(?:[a-z]+\s+){0,2}?(?:answer|reply|rejoinder|remark|observation|comment|exclamation|"
    r"conclusion|inquiry|enquiry|question|retort|response|reproach|declaration|reasoning|language|"
    r"words|speech|cry|advice|address|greeting|salutation|request|entreaty|protest|assurance|"
    r"explanation|apology|answer|warning|reflection|sentiment|opinion|verdict|objection|"
    r"suggestion|proposal|compliment|congratulations|farewell|welcome)s?(?:\s+(?:was|of|to\s+\w+))?\b")
# "…, when Hugh, opening the door, said,", "…, that Agnes added,"
_SUBORDINATE = re.compile(r"(?<![\w'’])(?:when|while|whilst|that|till|until|as|if|though|although|because|"
                          r"whereupon|so|even|then|before|after|since)$")
_PERSONAL = re.compile(r"^(?:[Hh]is|[Hh]er|[Tt]heir)\s|\b(?:other|latter|companion|" + "|".join(_GENDER) + r")$")
_COMPLETE = re.compile(r"[.!?…]['’_)]*\s*\Z")
_HANDED_ON = re.compile(r"\w[\w'’]*\s*(?::|,?\s*--+|,?\s*[—–])\s*\Z")  # "Hugh interrupted:" (not "as Clara thought,")
_HANDED = re.compile(r"\w[\w'’]*\s*(?:,|:|;|,?\s*--+|,?\s*[—–])\s*\Z")
_ADVERBS_END = re.compile(r"(?:\s+(?:[a-z]+ly|then|thus|now|again|almost|still|soon|presently|at\s+last|at\s+once))+\Z")
_CLAUSE_AND = re.compile(r"[,;:—–]\s*(?:and|but|then|while)\s*$")


def _opens_clause(text: str, a: int, pos: int) -> bool:
    """Does a word at `pos` open a clause of text[a:…] (sentence start, after a comma or
    colon, after ", and")?"""
    lo = max(a, pos - 40)  # only the words just before matter (and long heads are slow to search)
    head = text[lo:pos].rstrip()
    if not head and lo > a:
        head = text[a:pos].rstrip()
    if not head:
        return True
    head = _ADVERBS_END.sub("", head)  # ", and then almost immediately Clara thus began"
    if not head:
        return True
    tail = head[-12:]
    return head[-1] in ",;:—–-(" or _CLAUSE_AND.search(tail) is not None or _SUBORDINATE.search(tail) is not None


# a verb whose subject is left out, the sentence's: "…, and then added", "…, and stretching his
# legs to the fire, said"
_ELIDED = re.compile(r"(?:[,;]\s*(?:and|but)\s+(?:(?:then|so|thus|again|at\s+last|at\s+once|[a-z]+ly)\s+)*"
                     r"|[,;]\s*and\s+[a-z]+ing\b[^,;]{0,80},\s*)\Z")


# a passive verb and "by" right before a name: "was opposed by", "had been answered at once by"
_AGENT_BEFORE = re.compile(r"\b(?:was|were|been|being|is|are)\s+(?:[a-z]+ly\s+|not\s+|at\s+once\s+)*[a-z]+(?:ed|en|wn)"
                           r"(?:\s+[a-z]+ly|\s+at\s+once)?\s+by\s+$")
# a sentence's opening before its main clause: a subordinate clause or a phrase, up to its
# comma ("After they had talked an hour,", "In a minute, however,", "Turning to the window,")
_OPENER = re.compile(r"(?:After|When|Whenever|While|Whilst|As|Though|Although|If|Since|Before|Until|Till|Once|"
                     r"Because|In|At|On|Upon|For|With|Without|During|By|From|Having|Being|(?!(?:No|Some|Every|Any)thing)[A-Z][a-z]+ing)\b"
                     r"[^,.;:!?\"“”]{0,120},(?:\s*(?:however|then|too|indeed|at\s+last|at\s+length|[a-z]+ly),)?\s*")


def _in_subordinate(text: str, a: int, pos: int) -> bool:
    """Does the word at `pos` open a subordinate clause ("as he knew", "when Clara came in")?"""
    head = _ADVERBS_END.sub("", text[max(a, pos - 40) : pos].rstrip())
    return bool(head) and head[-1] not in ",;:—–-(" and _SUBORDINATE.search(head[-12:]) is not None


def _is_subject_pos(text: str, ps: int, pos: int) -> bool:
    """Is a mention at `pos` at the start of a sentence (the likely subject)?"""
    j = pos - 1
    while j >= ps and text[j] in " \t\n":
        j -= 1
    return j < ps or text[j] in ".!?…\"”’—"


def _sentences(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out = []
    pos = a
    for e in sentence_ends(text, a, b):
        if e > pos:
            out.append((pos, e))
        pos = e
    if pos < b and text[pos:b].strip():
        out.append((pos, b))
    res = []
    for s0, s1 in out:
        while s0 < s1 and text[s0].isspace():
            s0 += 1
        if s0 < s1:
            res.append((s0, s1))
    return res
