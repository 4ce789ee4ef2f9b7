"""Finding quoted speech inside one paragraph.

Handles straight and curly double quotes, British single-quote dialogue (where the closing
quote is also the apostrophe), nested quotes (the inner style is left inside the outer span),
speech that runs on past the end of a paragraph, and em-dash dialogue. Everything is a single
left-to-right pass over the quote characters of the paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.story.sentences import trim_end

QuoteStyle = Literal["double", "single"]


@dataclass(slots=True)
class Quote:
    start: int  # first character inside the quote marks
    end: int  # one past the last character inside
    open: int  # offset of the opening mark; -1 when there is none (dash dialogue)
    close: int  # offset of the closing mark; -1 when the paragraph ends inside the quote
    kind: str = "double"  # "double", "single", "dash", "aside" (single quotes in a double-quote text)


_SPEECH = (
    "said say says saying asked ask asks asking replied reply replies answered answers answer "
    "whispered whispers whisper shouted shouts shout yelled yells yell muttered mutters mutter "
    "murmured murmurs murmur cried cries exclaimed exclaims called calls added adds continued continues "
    "began begins snapped snaps growled growls hissed hisses sighed sighs laughed laughs chuckled "
    "chuckles screamed screams remarked remarks observed observes returned returns rejoined "
    "responded responds repeated repeats interrupted interrupts insisted insists demanded demands "
    "declared declares stated states announced announces agreed agrees admitted admits protested "
    "protests explained explains suggested suggests pleaded pleads begged begs breathed breathes "
    "gasped gasps groaned groans grumbled grumbles grunted grunts mumbled mumbles stammered stammers "
    "stuttered stutters sobbed sobs squeaked squeaks squealed squeals snarled snarls spat spits "
    "barked barks bellowed bellows roared roars cackled cackles purred purrs drawled drawls teased "
    "teases joked jokes offered offers ordered orders commanded commands warned warns retorted retorts "
    "countered counters corrected corrects echoed echoes finished finishes concluded concludes "
    "pressed presses prompted prompts urged urges inquired inquires enquired enquires queried queries "
    "told tells greeted greets piped chirped chirps managed croaked croaks rasped rasps huffed huffs "
    "scoffed scoffs snorted snorts sneered sneers taunted taunts mocked mocks cooed coos crooned "
    "sang sings ventured ventures persisted persists objected objects resumed resumes interposed "
    "reasoned assured assures promised promises reminded reminds spoke speaks sniffed sniffs "
    "sniffled whined whines wailed wails howled howls boomed booms thundered grinned grins smiled "
    "smiles giggled giggles scolded scolds shrieked shrieks blurted blurts panted pants wheezed "
    "choked chokes gritted confirmed confirms acknowledged noted notes pointed commented comments "
    "complained complains argued argues accused accuses conceded concedes questioned questions "
    "supplied supplies "
    "mouthed mouths intoned intones quipped quips breathed interjected interjects called_out "
    "went_on goes_on trailed_off spoke_up piped_up chimed_in cut_in broke_in burst_out"
)
# More verbs that introduce speech in narrative prose, as base forms; `_inflect` adds the past and
# the third person ("pursue" -> pursued, pursues). Irregular forms are listed as they are.
_SPEECH_BASES = (
    "pursue ejaculate falter assent confess proceed asseverate affirm expostulate remonstrate entreat "
    "implore hint submit reiterate lisp simper titter moan lament exult proclaim pronounce deny vow "
    "threaten caution advise counsel propose recommend contend maintain demur hazard rebuke reprove "
    "chide upbraid jeer retort rejoin interpose explain observe plead urge cry whisper murmur sob "
    "stammer mutter gasp pant sneer scoff taunt mock remark comment respond reply inquire enquire "
    "answer interrupt resume venture add continue return repeat insist object protest declare "
    "announce admit acknowledge concede reason assure promise remind complain argue suggest exclaim "
    "bawl shout scream shriek yell holler squeal squeak chuckle laugh sigh groan grumble growl snarl "
    "hiss whimper whine wail howl roar bellow thunder mumble drawl murmur breathe stutter croak rasp "
    "gabble babble chatter prattle blurt burst interject query question demand request "
    "beg pray order command warn correct counter echo finish conclude prompt greet call address "
    "accost hail apologize apologise explain relate recount narrate report agree consent acquiesce "
    "cheer encourage console comfort soothe coax wheedle plead persuade announce inform instruct "
    "direct reassure retaliate sputter splutter snap bark yelp yap grunt snort sniff sniffle "
    "simper smile grin giggle cackle moralize moralise philosophize philosophise declaim recite "
    "fume rage rave rant jest joke banter tease vociferate utter"
)
_SPEECH_IRREGULAR = (
    "swore swears besought beseeches beseech spoke broke_in struck_in put_in went_on began resumed "
    "told sang flung_out shot_out threw_out bade bid bids add"
)


def _inflect(base: str) -> tuple[str, ...]:
    if base.endswith("e"):
        return (base + "d", base + "s")
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return (base[:-1] + "ied", base[:-1] + "ies")
    if base.endswith(("sh", "ch", "ss", "x", "o")):
        return (base + "ed", base + "es")
    if base in ("snap", "sob", "rap", "yap", "beg", "jest", "submit", "admit", "commit", "permit", "regret", "rebut"):
        return ((base + base[-1] + "ed") if base != "jest" else "jested", base + "s")
    return (base + "ed", base + "s")


_SPEECH += " " + " ".join(f for b in _SPEECH_BASES.split() for f in _inflect(b)) + " " + _SPEECH_IRREGULAR
_THOUGHT = "thought thinks think thinking wondered wonders mused muses reflected reflects pondered ponders"
SPEECH_VERBS = frozenset(w.replace("_", " ") for w in _SPEECH.split())
THOUGHT_VERBS = frozenset(_THOUGHT.split())


def word_alternation(words: Iterable[str], *, any_space: bool = True) -> str:
    """One regex alternative for a set of words, as a trie ("sa(?:id|ys?)"...): a few hundred
    verbs matched as fast as a handful, the same matches as "|".join of them longest first (a
    space in a phrase matches any whitespace; with `any_space=False` only a space)."""
    space = r"\s+" if any_space else re.escape(" ")
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        alts = [(space if ch == " " else re.escape(ch)) + build(node[ch]) for ch in sorted(node) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


_VERB_ALT = word_alternation({*SPEECH_VERBS, *THOUGHT_VERBS})
_VERB_RE = re.compile(r"(?<![\w'’-])(?:" + _VERB_ALT + r")(?![\w'’-])")
_DOUBLE = re.compile(r"[\"“”„‟«»]")
_SINGLE = re.compile(r"['‘’‚‛]")
_OPEN_PREV = frozenset(" \t\n([{—–-\"“„«…/")
_CLOSE_STRONG_PREV = frozenset(",.!?…—–-;:)\"”")
_CLOSE_NEXT_OK = frozenset(" \t\n,.;:!?…—–-)]}\"“”'’")
# Words that start with an apostrophe (elisions), not with an opening quote.
_ELISION = re.compile(
    r"(?:em|tis|twas|twere|cause|cos|coz|bout|til|till|n|un|ere|ave|e|im|er|ow|alf|appen|ello|ome|"
    r"nother|round|fraid|specially|kay|sup|s|t|d|ll|re|ve)(?![^\W\d_])",
    re.I,
)
_SINGLE_OPENER_SCAN = re.compile(r"(?:^|(?<=[\s(\[—–\-\"“]))[‘'](?=[^\W\d_])")
_DASH_START = re.compile(r"[ \t]*(?:[—―]|–(?=\s)|--(?=\s))[ \t]*")
_DASH_SPLIT = re.compile(r"\s*(?:[—―]|–(?=\s)|(?<=\s)–|--)\s*")


def detect_style(text: str) -> QuoteStyle:
    """Which quote marks carry the dialogue of a whole text: "double" or "single" (British)."""
    doubles = len(_DOUBLE.findall(text)) // 2
    singles = 0
    for m in _SINGLE_OPENER_SCAN.finditer(text):
        if not _ELISION.match(text, m.end()):
            singles += 1
    return "single" if singles >= 2 and singles > doubles * 1.5 else "double"


def find_quotes(text: str, start: int, end: int, style: QuoteStyle) -> list[Quote]:
    """Quoted spans of the paragraph text[start:end], in order."""
    if style == "single":
        quotes = _singles(text, start, end, "single")
        # double quotes outside single ones: a text whose thoughts are 'single' and speech "double"
        extra: list[Quote] = []
        pos = start
        for q in [*quotes, None]:
            stop = end if q is None else q.open
            if stop > pos and _DOUBLE.search(text, pos, stop):
                extra.extend(_doubles(text, pos, stop))
            if q is not None:
                pos = q.close + 1 if q.close >= 0 else end
        if extra:
            quotes = sorted([*quotes, *extra], key=lambda x: x.start)
    else:
        quotes = _doubles(text, start, end)
        # Single quotes outside double ones: inner voice / asides in many fan fictions.
        asides: list[Quote] = []
        pos = start
        for q in [*quotes, None]:
            stop = end if q is None else (q.open if q.open >= 0 else q.start)
            if stop > pos and _SINGLE.search(text, pos, stop):
                for a in _singles(text, pos, stop, "aside"):
                    words = text[a.start : a.end].split()
                    if a.close >= 0 and len(words) >= 2 and a.end - a.start >= 6:
                        asides.append(a)
            if q is not None:
                pos = q.close + 1 if q.close >= 0 else end
        if asides:
            quotes = sorted([*quotes, *asides], key=lambda x: x.start)
    if not quotes:
        m = _DASH_START.match(text, start, end)
        if m and m.end() < end:
            quotes = _dashes(text, m.end(), end)
    elif "(" in text[start:end]:
        quotes = [piece for q in quotes for piece in _split_directions(text, q)]
    out: list[Quote] = []
    lead = start  # where the narration before the next quote begins
    broken = False  # the quote kept before it stopped mid-sentence ("I can only say" she…)
    written = False  # the quote before was tagged as written or read out (", she wrote. “…”")
    for k, q in enumerate(quotes):
        nxt = quotes[k + 1] if k + 1 < len(quotes) else None
        after_written = _written_after(text, q, nxt, end)
        if (q.end > q.start and text[q.start : q.end].strip() and not _is_mention(text, q, start, lead, broken)
                and not _unspoken(text, q, lead) and not written and not after_written
                and not _written_before(text, q, start, lead)):
            out.append(q)
            broken = q.close >= 0 and text[q.close - 1 : q.close].isalpha()
        else:
            broken = False
        written = after_written
        lead = q.close + 1 if q.close >= 0 else q.end
    return out


# Words written, read out or sung, not spoken: "…, she wrote.", "the note ran, “…”", "he read:",
# "on which was written: “…”" (a letter, a card, verses).
_WRITING_NOUN = r"(?:letter|note|message|document|card|paper|telegram|lines|words|inscription|notice|postscript|it)"
_WRITTEN_LEAD = re.compile(
    r"(?<![\w'’])(?:wrote|writes|written|read|reads|sang|sing|sings|recited|recites|scribbled|printed|inscribed|"
    + _WRITING_NOUN + r"\s+(?:ran|runs))(?:\s+(?:thus|as\s+follows|out|aloud))?\s*[:,—–-]+[ \t\n]*$")
_WRITTEN_TAG = re.compile(
    r"[ \t\n]*(?:(?:the|this|his|her|my|a|that)\s+" + _WRITING_NOUN + r"\s+ran"
    r"|(?:he|she|I|they|[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)\s+(?:wrote|writes|read\s+out|read\s+aloud|scribbled|sang))\b")


def _written_before(text: str, q: Quote, start: int, lead: int) -> bool:
    """A quote led in by writing or reading ("he read:", "was written, “…”"); at the very start
    of a paragraph, the lead-in may close the paragraph before it ("…ran as follows:")."""
    if q.open < 0 or q.kind not in ("double", "single"):
        return False
    lo = lead if text[lead:q.open].strip() or lead > start else max(0, start - 80)
    return _WRITTEN_LEAD.search(text, max(lo, q.open - 80), q.open) is not None


def _written_after(text: str, q: Quote, nxt: Quote | None, end: int) -> bool:
    """A quote broken off by a writing tag: “Remember,” she wrote, … — its own words and the
    words that go on after the tag are writing."""
    if q.close < 0 or q.kind not in ("double", "single"):
        return False
    body = text[q.start : q.end].rstrip()
    if not body or body[-1] not in ",—–-":
        return False
    stop = nxt.open if nxt is not None and nxt.open >= 0 else end
    return _WRITTEN_TAG.match(text, q.close + 1, stop) is not None


# A stage direction in parentheses inside a speech: "(turning to Nell)", "(with a smile)",
# "(Laughing affectedly.)", "(loud cheers)": the narrator's words, not the speaker's.
_DIRECTION = re.compile(
    r"\(\s*_?(?:(?!(?:nothing|something|anything|everything|being|thing|king|evening|morning|darling|during|"
    r"according|notwithstanding|wedding|building|pudding|shilling|farthing|lodging|stocking|ring|sing|bring)\b)"
    r"[^\W\d_]+ing\b|with\b|in\s+an?\b|aside\b|sotto\b|to\s+(?:[A-Z]|him\b|her\b|them\b|the\b)|after\s+an?\b|"
    r"a\s+pause\b|pause\b|(?:loud|renewed|great|much|general)?\s*(?:cheers|laughter|applause|hear,?\s+hear)\b)"
    r"[^()]{0,200}\)")
_OWN_WORDS = re.compile(r"(?<![\w'’])(?:I|me|my|mine|myself|you|your|yours|we|us|our)(?![\w'’])", re.I)


def _split_directions(text: str, q: Quote) -> list[Quote]:
    """Cut a quote at the stage directions inside it: "Do you? (turning to Nell.) Do you
    agree?" is two spoken pieces around the narrator's words."""
    if q.kind not in ("double", "single") or "(" not in text[q.start : q.end]:
        return [q]
    out: list[Quote] = []
    pos = q.start
    for m in _DIRECTION.finditer(text, q.start, q.end):
        if _OWN_WORDS.search(text, m.start(), m.end()):
            continue  # "(with all my heart)": the speaker's own aside
        b = trim_end(text, pos, m.start())
        if b > pos:
            out.append(Quote(pos, b, q.open if pos == q.start else -1, -1, q.kind))
        pos = m.end()
        while pos < q.end and text[pos] in " \t\n,;:.—–-":
            pos += 1
    if pos == q.start:
        return [q]
    if q.end > pos:
        out.append(Quote(pos, q.end, -1, q.close, q.kind))
    return out


_NAMING_WORDS = frozenset("""the a an of on in as against about called named term termed word words his her
their its our my your this that these those so-called than like entitled titled labelled labeled marked dubbed
christened styled nicknamed phrase epithet motto""".split())
_DETERMINERS = frozenset("the a an his her their its our my your this of in to at for on".split())
_INTERJECTION = re.compile(r"(?:Yes|No|Well|Oh|O|Ah|Good|Pray|Hey|Hi|Hello)\b")
_GOES_ON = re.compile(r"[ \t\n]*[a-z(]")
_PREV_WORD = re.compile(r"([^\W\d_][\w'’-]*)[ \t\n]*$")
_SPOKEN_END = frozenset(",.!?…—–-;:")
# a speech led in without a verb: "…, lowering his voice "well done"", "in a low tone "go on""
_SPEECH_LEAD = re.compile(r"(?<![\w'’])(?:voice|tone|turning|looking|smiling|laughing|nodding|hesitated|paused)(?![\w'’])")


# Words that were meant, looked or nearly said, not spoken: "as much as to say, “…”", "a glance
# which meant, “…”", "her eyes said: “…”", "she nearly answered: “…”".
_UNSPOKEN_LEAD = re.compile(
    r"(?<![\w'’])(?:as\s+(?:if|though|much\s+as|who\s+should|who\s+would)\s+(?:\w+\s+){0,2}(?:to\s+)?"
    r"(?:say|ask|exclaim|cry|reply|observe|remark|answer)"
    r"|which\s+(?:meant|said|expressed|seemed\s+to\s+(?:say|ask))|seem(?:ed|s|ing)?\s+to\s+(?:say|ask|reply|answer)"
    r"|(?:eyes|look|looks|glance|glances|face|smile|expression|silence|attitude|manner|gesture|nod|countenance|air)"
    r"\s+(?:(?!and\b|then\b)\w+\s+)?(?:said|asked|answered|replied|expressed|seemed\s+to\s+say)"
    r"|(?:tip\s+of\s+(?:his|her|my|their)\s+tongue|tempted|longed|wished|wanted|inclined|felt\s+like|impulse|ready|dying|"
    r"on\s+the\s+point\s+of)\s+(?:to\s+)?(?:say|saying|reply|replying|answer|answering|cry|crying|shout|shouting|"
    r"ask|asking|exclaim|exclaiming|retort|retorting)"
    r"|might\s+have\s+(?:said|asked|answered|replied|exclaimed)|fancy\s+\w+(?:\s+\w+)?\s+saying)"
    r"[\s:,;—–-]*$", re.I)


def _unspoken(text: str, q: Quote, lead: int) -> bool:
    """Words in quote marks that someone looked, meant or nearly said (see _UNSPOKEN_LEAD)."""
    if q.open < 0 or q.kind not in ("double", "single"):
        return False
    return _UNSPOKEN_LEAD.search(text, max(lead, q.open - 80), q.open) is not None


def _is_mention(text: str, q: Quote, para_start: int, lead: int, broken: bool = False) -> bool:
    """A title or scare quote inside a running sentence (called her “studies”, the “Relay”),
    not speech: a word right before the mark, no speech verb, a short span without the
    punctuation that ends spoken words, and the sentence going on after the closing mark.
    `lead` is where the narration before the quote begins (the paragraph start or the end of
    the quote before); `broken`: the speech before stopped mid-sentence (and this goes on with it)."""
    if q.kind not in ("double", "single") or q.open < 0 or q.close < 0:
        return False
    body = text[q.start : q.end].rstrip()
    if not body:
        return False
    m = _PREV_WORD.search(text, max(para_start, q.open - 40), q.open)
    if (m is not None and m.end() == q.open and body[0].islower() and m.group(1)[-1].isalpha()
            and not _VERB_RE.search(text, lead, q.open)
            and _SPEECH_LEAD.search(text, max(lead, q.open - 60), q.open) is None
            and not broken):
        # (not after a quote broken off mid-sentence: "I can only marvel" she said, raising her
        # hands "that you read him")
        # a sentence running on into lower-case words in quote marks (had "lost her looks.",
        # the elusive "tip."), with no speech verb in front: words named or borrowed, not said
        return True
    if (m is not None and m.end() == q.open and len(body.split()) <= 4 and m.group(1).lower() in _NAMING_WORDS
            and body[-1] not in "?!" and "," not in body[:-1]
            and (body[0].islower() or _GOES_ON.match(text, q.close + 1))):
        # the "younger set," in which…; an authority on "form."; called a "double entendre":
        # a few words named in a sentence, after an article or preposition, not said
        return True
    if m is not None and m.end() == q.open and len(body.split()) <= 6 and body[-1] not in "?!":
        word = m.group(1)
        if ((word.lower() in _DETERMINERS and not _INTERJECTION.match(body))
                or word.endswith(("'s", "’s", "s'", "s’")) or (word == "s" and text[m.start() - 1] == " ")):
            # the prelude to “The Miller's Daughter.”, a “Grand Reform.”, Ann's “Ode to Autumn,”:
            # a title or a name after an article, preposition or possessive
            return True
    if body[-1] in _SPOKEN_END or len(body.split()) > 8:
        return False
    if m is None or m.end() != q.open:
        return False
    if _VERB_RE.fullmatch(m.group(1)) or m.group(1) in ("Said", "Asked"):
        return False
    after = text[q.close + 1 : q.close + 3]
    return not after.strip() or after[0] in " ,.;:)!?" or after[0].isalnum()


def _doubles(text: str, start: int, end: int) -> list[Quote]:
    out: list[Quote] = []
    open_at = -1
    for m in _DOUBLE.finditer(text, start, end):
        i = m.start()
        c = text[i]
        prev = text[i - 1] if i > start else " "
        nxt = text[i + 1] if i + 1 < end else " "
        if c in "“„«":
            if open_at >= 0:  # a missing closing mark: end the open quote here
                out.append(Quote(open_at + 1, trim_end(text, open_at + 1, i), open_at, -1))
            open_at = i
        elif c in "”»‟":
            if open_at >= 0:
                out.append(Quote(open_at + 1, i, open_at, i))
                open_at = -1
        else:  # straight quote: direction from context
            if open_at < 0:
                if nxt.isspace() and not prev.isspace() and i > start:
                    continue  # a stray closing mark
                open_at = i
            else:
                out.append(Quote(open_at + 1, i, open_at, i))
                open_at = -1
    if open_at >= 0:
        out.append(Quote(open_at + 1, trim_end(text, open_at + 1, end), open_at, -1))
    return out


def _is_opener(text: str, i: int, start: int, end: int) -> bool:
    c = text[i]
    if c not in "‘'‛‚":
        return False
    if i + 1 >= end or text[i + 1].isspace():
        return False
    if i > start and text[i - 1] not in _OPEN_PREV:
        return False
    # 'em, 'tis, 'cause ... are elisions, except at the very start of a paragraph; a left curly
    # mark is an elision only before the few words that are never anything else ("‘till",
    # "‘D’you know" open speech)
    if c == "‘":
        return not (i > start and _CURLY_ELISION.match(text, i + 1))
    return not (i > start and _ELISION.match(text, i + 1))


_CURLY_ELISION = re.compile(r"(?:tis|twas|twere|twould|em)(?![^\W\d_])", re.I)


def _nested_opener(text: str, i: int, start: int, end: int) -> bool:
    """A right curly mark (or apostrophe) placed where a quote opens, inside a quote: ‘my poor
    word ’success,’ which…’ — the inner quote, not an apostrophe and not the end of the outer one."""
    if text[i] not in "’'" or i + 1 >= end or not text[i + 1].isalpha():
        return False
    if i > start and text[i - 1] not in _OPEN_PREV and text[i - 1] not in "‘'":
        return False
    return _ELISION.match(text, i + 1) is None


def _closer(text: str, i: int, start: int, end: int) -> int:
    """0 = not a closing mark, 1 = weak (after a letter), 2 = strong (after punctuation)."""
    if text[i] not in "’'":
        return 0
    if i == start:
        return 0
    prev = text[i - 1]
    nxt = text[i + 1] if i + 1 < end else " "
    if prev.isspace():
        # “When I   ’ It seized him”: a dash lost before the mark; a closing mark still
        return 1 if nxt.isspace() or nxt in ",.;:!?" else 0
    if nxt not in _CLOSE_NEXT_OK and not nxt.isspace():
        return 0  # don't, it's: an apostrophe inside a word
    if prev in _CLOSE_STRONG_PREV:
        return 2
    return 1


def _possessive_like(text: str, i: int, end: int) -> bool:
    """boys’ room, goin’ home, I ha’ read: an apostrophe that ends a word inside running text
    (a line may end between the two words)."""
    prev = text[i - 1]
    j = i + 1
    while j < end and text[j] in " \t\n":
        j += 1
    follows_lower = j < end and text[j].islower()
    return prev.isalpha() and follows_lower


def _singles(text: str, start: int, end: int, kind: str) -> list[Quote]:
    marks = [m.start() for m in _SINGLE.finditer(text, start, end)]
    out: list[Quote] = []
    k = 0
    n = len(marks)
    while k < n:
        i = marks[k]
        if not _is_opener(text, i, start, end):
            k += 1
            continue
        # look for the closing mark before the next opening one
        strong = weak = weak_poss = -1
        depth = 0  # inner quotes opened with a right mark, still open
        j = k + 1
        while j < n:
            p = marks[j]
            if _is_opener(text, p, start, end):
                break
            if _nested_opener(text, p, start, end):
                depth += 1
                j += 1
                continue
            level = _closer(text, p, start, end)
            if level and depth:
                depth -= 1
                j += 1
                continue
            if level == 2:
                strong = j
                break
            if level == 1:
                if _possessive_like(text, p, end):
                    if weak_poss < 0:
                        weak_poss = j
                elif weak < 0:
                    weak = j
            j += 1
        pick = strong if strong >= 0 else (weak if weak >= 0 else weak_poss)
        if pick >= 0:
            c = marks[pick]
            out.append(Quote(i + 1, c, i, c, kind))
            k = pick + 1
        elif j < n:  # no closing mark before the next opening one
            b = trim_end(text, i + 1, marks[j])
            out.append(Quote(i + 1, b, i, b, kind))
            k = j
        else:
            out.append(Quote(i + 1, trim_end(text, i + 1, end), i, -1, kind))
            break
    return out


_TAG_START = re.compile(
    # "A student, I think." is speech: a tag with I / we / they is past tense ("I thought")
    r"(?<=[,?!.…])\s+(?!(?:I|[Ww]e|[Tt]hey|[Yy]ou)\s+think\b)(?=(?:(?:[Hh]e|[Ss]he|[Tt]hey|I|[Ww]e|[Ii]t)\s+(?:\w+ly\s+)?(?:" + _VERB_ALT + r")\b"
    r"|(?:" + _VERB_ALT + r")\b|(?:[A-Z][\w'’-]*\s+){1,3}(?:\w+ly\s+)?(?:" + _VERB_ALT + r")\b"
    r"|[Tt]he\s+(?:\w+\s+){0,2}(?:" + _VERB_ALT + r")\b))"
)
_TAG_TAIL = re.compile(r"[^.;!?…]*?(?:[.;!?…]+(?=\s|$)|,\s*(?=[^\W\d_]))")
_TO_SENTENCE_END = re.compile(r"[^.;!?…]*[.;!?…]+(?=\s|$)")
_TAG_GOES_ON = re.compile(r"\s*(?:\w+ing|\w+ly|with|without|as|and|but|then|at|to|in|his|her|their)\b")


def _split_tags(text: str, q: Quote) -> list[Quote]:
    """Dash dialogue has no closing mark before its tag: "— Yes, he said, I know." """
    out: list[Quote] = []
    pos = q.start
    while True:
        m = _TAG_START.search(text, pos, q.end)
        if m is None:
            break
        b = trim_end(text, pos, m.start())
        if b > pos:
            out.append(Quote(pos, b, -1, -1, "dash"))
        t = _TAG_TAIL.match(text, m.end(), q.end)
        if t is None:
            return out
        tail_end = t.end()
        # "said Cosette, laughing." goes on to the sentence end; "he said, forgive me" does not
        if text[tail_end - 1 : tail_end] in (",", " ") and _TAG_GOES_ON.match(text, tail_end, q.end):
            t2 = _TO_SENTENCE_END.match(text, tail_end, q.end)
            tail_end = t2.end() if t2 else q.end
        pos = tail_end
        while pos < q.end and text[pos].isspace():
            pos += 1
    b = trim_end(text, pos, q.end)
    if b > pos:
        out.append(Quote(pos, b, -1, q.close, "dash"))
    return out


def _dashes(text: str, start: int, end: int) -> list[Quote]:
    """Em-dash dialogue: "—Speech —tag— speech" alternates speech and tag between dashes."""
    out: list[Quote] = []
    pos = start
    speech = True
    for m in _DASH_SPLIT.finditer(text, start, end):
        if speech:
            b = trim_end(text, pos, m.start())
            if b > pos:
                out.append(Quote(pos, b, -1, m.start(), "dash"))
        pos = m.end()
        speech = not speech
    if speech and pos < end:
        while pos < end and text[pos] in ".,;: \t":  # "—said Lee—. But why?"
            pos += 1
        b = trim_end(text, pos, end)
        if b > pos:
            out.append(Quote(pos, b, -1, -1, "dash"))
    return [piece for q in out for piece in _split_tags(text, q)]


# ------------------------------------------------------------------ unmarked inner speech

_SELF = r"(?:him|her|them|my|your|our|one)sel(?:f|ves)"
_IN_MIND = (r"(?:in|inside|within|at)\s+(?:the\s+(?:back|depths|recesses|corner)\s+of\s+)?"
            r"(?:his|her|their|my|its|[A-Z][\w'’-]*['’]s)\s+(?:mind|head|skull|thoughts)")
_WHO = r"(?:[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?|[Hh]e|[Ss]he|I|[Tt]hey)"
_CLAUSE_END = r"(?=\s*(?:[,.;:!?…]|$)|\s+(?:as|while|and|but|before|after|when|then)\b)"
_THOUGHT_TAG_RE = re.compile(
    r"(?<=[,.!?…])\s+(?:" + _WHO + r"\s+(?:\w+ly\s+)?(?:"
    r"(?:thought|wondered|mused|reflected)(?:\s+to\s+" + _SELF + r")?(?:\s+\w+ly)?" + _CLAUSE_END +
    r"|(?:told|asked|reminded|scolded|warned|promised)\s+" + _SELF + _CLAUSE_END +
    r"|(?:" + _VERB_ALT + r")(?:\s+\w+ly)?\s+" + _IN_MIND + r")"
    r"|(?:thought|wondered|mused)\s+(?:[A-Z][\w'’-]*|he|she)\b)"
)
_REPLY_TAG_RE = re.compile(
    r"(?<=[,.!?…])\s+" + _WHO + r"\s+(?:\w+ly\s+)?(?:responded|replied|answered|retorted|snapped|shot\s+back|"
    r"growled|snarled|hissed|said|told\s+(?:him|her|it|them))" + _CLAUSE_END
)
_MIND_CUE = re.compile(r"\b(?:mentally|inwardly|silently)\b|" + _IN_MIND)
_NARRATIVE = re.compile(
    r"\s*(?:(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts)\s+(?:\w+\s+){0,2}|"
    r"(?:[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?|[Hh]e|[Ss]he|[Tt]hey|[Ii]t)\s+(?:\w+ly\s+)?)"
    r"(?:\w+ed|was|were|had|saw|felt|knew|went|came|took|made|could|would|did|began|thought|stood|sat|"
    r"said|told|looked|heard|found|gave|got|kept|left|ran|held|let|put|fell|rose|turned|smiled|shook|woke|drew|"
    r"threw|bit|hid|led|lay|sank|struck|swung|wore|wrote|caught|brought|fought|taught|meant|sent|spent|"
    r"built|lost|stuck|slept|swept|wept|knelt|spoke|stole|froze|chose|tore|bent|sprang|began|became)\b"
)
# after a tag: the thought follows it ("…, she asked herself, What did it matter", "thought to
# herself, “…”") or the sentence goes on around it ("The train was late again, he thought,
# by an hour at least"): then the words before the tag are not (all of) the thought
_TAG_LEADS_ON = re.compile(r"\s*[,:]\s*(?:[\"“‘'A-Z]|[a-z])")
_TAG_GOES_ON_OK = re.compile(r"\s*,\s*(?:and|or|but|then|as|while|so|yet|before|after|when|[a-z]+ing)\b")
_STRONG_TAG = re.compile(r"sel(?:f|ves)\b|mind|head|skull|thoughts")
_TAG_HINT = re.compile(r"though|wonder|mused|reflect|sel(?:f|ves)\b|mind|head")
_TO_CLAUSE_END = re.compile(r"[^;.!?…]*([;.!?…])")
_LEAD_NAME = re.compile(r"\s*([A-Z][\w'’-]+)")
_PRESENT = re.compile(r"(?<![\w'’])(?:is|are|am|isn['’]t|aren['’]t|has|have|hasn['’]t|haven['’]t|does|doesn['’]t|"
                      r"do|don['’]t|can|can['’]t|will|won['’]t|must|shall|let['’]s)(?![\w'’])|\w['’](?:s|re|ll|ve|m)\b",
                      re.I)
_YOU = re.compile(r"(?<![\w'’])(?:you|your|yourself)(?![\w'’])", re.I)
_PERSON_12 = re.compile(r"(?<![\w'’])(?:I|I'm|I’m|I'll|I’ll|me|my|myself|you|your|you're|you’re|yourself|"
                        r"we|us|our)(?![\w'’])", re.I)


def _voiced(text: str, a: int, b: int) -> bool:
    """Does text[a:b] sound like someone's own words (first or second person, a question or an
    exclamation, the present tense: "He is an unusual ninja", "Cute brat, real touching!")
    rather than the narrator's past tense ("Katharine Hilbery, he thought, would…")?"""
    if _PERSON_12.search(text, a, b) or _PRESENT.search(text, a, b):
        return True
    return "?" in text[a:b] or "!" in text[a:b]


def _narrative(text: str, a: int, b: int) -> bool:
    """Does text[a:b] read as past-tense narration ("Gaara looked up and saw…") rather than a
    voice (first or second person, present tense, exclamations)?"""
    if _PERSON_12.search(text, a, b):
        return False
    return _NARRATIVE.match(text, a, b) is not None


def _sentence_starts(text: str, a: int, b: int) -> list[int]:
    from bot.story.sentences import sentence_ends, skip_space

    starts = [skip_space(text, a, b)]
    for e in sentence_ends(text, a, b):
        s = skip_space(text, e, b)
        if s < b and s > starts[-1]:
            starts.append(s)
    return [s for s in starts if s < b]


def _voice_before(text: str, a: int, end: int, *, strong: bool) -> int:
    """Where the voice that ends at `end` begins: the sentence holding `end`, and the ones before
    it back to `a` while they do not read as narration (and, unless the tag is `strong` — "in the
    back of his mind", "to himself" — sound like someone's own words: a bare "she thought" is
    as often the narrator's "Time, she thought, would tell"). -1 when that sentence is narration."""
    starts = [s for s in _sentence_starts(text, a, end) if s < end]
    if not starts:
        return -1
    first = -1
    for k in range(len(starts) - 1, -1, -1):
        s = starts[k]
        e = starts[k + 1] if k + 1 < len(starts) else end
        if _narrative(text, s, e) or not (strong or _voiced(text, s, e)):
            break
        first = s
    return first


def unmarked_thoughts(text: str, start: int, end: int, *, reply: bool = False) -> list[tuple[int, int]]:
    """Inner speech written without quote marks in text[start:end] (a paragraph, or the text
    between its quotes), as (start, end) spans of the words thought:

    - tagged: "Must've thought I came to kill him, he thought to himself.", "He is an unusual
      ninja, thought Gaara as he followed Lee; he has no skill…", "…real touching. Shukaku
      cackled in the back of his mind.", "Don't tell him that. He told himself";
    - talking to oneself after a cue: "Gaara mentally shook his head. Get a grip, you fool.";
    - with `reply` (the paragraph answers an inner voice): "Shut up Shukaku, you will not
      interfere. Gaara responded, and …".
    """
    body = text[start:end]
    out: list[tuple[int, int]] = []
    tags = list(_THOUGHT_TAG_RE.finditer(text, start, end)) if _TAG_HINT.search(body) else []
    if reply:
        tags = sorted([*tags, *_REPLY_TAG_RE.finditer(text, start, end)], key=lambda m: m.start())
    pos = start
    for m in tags:
        if m.start() < pos:
            continue
        if _TAG_LEADS_ON.match(text, m.end()) and not _TAG_GOES_ON_OK.match(text, m.end()):
            continue  # "I asked myself, what…", "Time, she thought, would tell": not the words before
        strong = _STRONG_TAG.search(m.group(0)) is not None
        a = _voice_before(text, pos, m.start(), strong=strong)
        if a < 0 or len(text[a : m.start()].split()) < 2:
            continue
        if m.re is _REPLY_TAG_RE and not (_PERSON_12.search(text, a, m.start())
                                          or "?" in text[a : m.start()] or "!" in text[a : m.start()]):
            continue
        b = trim_end(text, a, m.start())
        out.append((a, b))
        pos = m.end()
        # "…, thought Gaara as he followed Lee; he has no skill…": the thought goes on after the tag
        clause = _TO_CLAUSE_END.match(text, m.end(), end)
        if clause and clause.group(1) == ";":
            c0 = clause.end()
            starts = _sentence_starts(text, c0, end)
            stop = c0
            for k, s in enumerate(starts):
                e = starts[k + 1] if k + 1 < len(starts) else end
                if _narrative(text, s, e) or not _voiced(text, s, e):
                    break
                stop = e
            if stop > c0:
                s0 = starts[0] if starts else c0
                out.append((s0, trim_end(text, s0, stop)))
                pos = stop
    if not out and _MIND_CUE.search(body):
        # talking to oneself: a narration sentence with a cue, then second person
        starts = _sentence_starts(text, start, end)
        for k, s in enumerate(starts[:-1]):
            e = starts[k + 1]
            if not (_MIND_CUE.search(text, s, e) and _narrative(text, s, e)):
                continue
            stop = e
            said = 0
            for j in range(k + 1, len(starts)):
                s2 = starts[j]
                e2 = starts[j + 1] if j + 1 < len(starts) else end
                if (_narrative(text, s2, e2) or not _voiced(text, s2, e2) or text[s2] in "([\"“‘'"
                        or (j == k + 1 and not _YOU.search(text, s2, e2))):
                    break
                stop = e2
                said += 1
            # one's own name ("Get a grip Gaara, …") or a few sentences of "you": not a
            # passing question to the reader
            name = _LEAD_NAME.match(text[s:e])
            by_name = name is not None and re.search(r"(?<![\w'’-])" + re.escape(name.group(1)) + r"(?![\w'’-])",
                                                     text[e:stop]) is not None
            if stop > e and (by_name or said >= 2):
                out.append((e, trim_end(text, e, stop)))
            break
    return out
