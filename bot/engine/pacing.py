"""Reading pace, scene breathers, typing hints and the ▶ bookkeeping (votes, press limits). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.engine.api import TooFast


@dataclass(frozen=True, slots=True)
class Pacing:
    """Every pacing number in one place; `Pacing.instant()` plays with no delays at all."""

    wpm: int = 200  # default reading speed for new sessions
    wpm_min: int = 60
    wpm_max: int = 1000
    base: float = 1.5  # added to every reading time (a beat never follows instantly)
    min_delay: float = 2.0
    max_delay: float = 20.0
    breather: float = 30.0  # extra pause at the end of a scene (auto mode)
    first_beat_delay: float = 5.0  # after the title card
    resume_delay: float = 2.0  # after resume / next / rewind / an advance vote
    typing_words: int = 40  # beats at least this long get a typing indicator first
    typing_lead: float = 4.0  # seconds of typing shown before such a beat
    press_cooldown: float = 2.0  # a reader's ▶ presses closer than this are refused
    votes_needed: int = 2  # vote mode default
    catch_up_beats: int = 1  # beats posted at once after a restart, before normal pace

    @classmethod
    def instant(cls) -> Pacing:
        return cls(base=0.0, min_delay=0.0, max_delay=0.0, breather=0.0, first_beat_delay=0.0,
                   resume_delay=0.0, typing_words=10**9, press_cooldown=0.0)

    def scaled(self, factor: float) -> Pacing:
        """Every delay multiplied by `factor` (0 < factor <= 1) and the pace limit widened to match,
        so a rehearsal or an end-to-end test plays a whole story in seconds. 1.0 changes nothing."""
        if not 0 < factor <= 1:
            raise ValueError(f"pacing scale must be in (0, 1], got {factor}")
        if factor == 1:
            return self
        return replace(self, wpm_max=int(self.wpm_max / factor), base=self.base * factor,
                       min_delay=self.min_delay * factor, max_delay=self.max_delay * factor,
                       breather=self.breather * factor, first_beat_delay=self.first_beat_delay * factor,
                       resume_delay=self.resume_delay * factor, typing_lead=self.typing_lead * factor,
                       press_cooldown=self.press_cooldown * factor)

    def reading_time(self, words: int, wpm: int) -> float:
        return words / max(1, wpm) * 60.0

    def delay_after(self, words: int, wpm: int) -> float:
        """Seconds between posting a beat of `words` words and the next beat."""
        return min(self.max_delay, max(self.min_delay, self.reading_time(words, wpm) + self.base))

    def scene_end_delay(self, words: int, wpm: int) -> float:
        return max(self.delay_after(words, wpm), self.breather)

    def shows_typing(self, words: int) -> bool:
        return words >= self.typing_words

    def check_wpm(self, wpm: int) -> int:
        from bot.engine.api import NotAllowed

        if not self.wpm_min <= wpm <= self.wpm_max:
            raise NotAllowed(f"Pace must be between {self.wpm_min} and {self.wpm_max} words per minute.")
        return wpm


@dataclass(slots=True)
class VoteBox:
    """Distinct readers asking to continue at one position. A new position clears the box."""

    needed: int
    position: int = -1
    voters: set[int] = field(default_factory=set)

    def add(self, position: int, user_id: int) -> bool:
        """Count a vote; True when the position has enough distinct readers."""
        if position != self.position:
            self.position, self.voters = position, set()
        self.voters.add(user_id)
        return len(self.voters) >= self.needed

    def count(self, position: int) -> int:
        return len(self.voters) if position == self.position else 0

    def clear(self) -> None:
        if self.position != -1 or self.voters:  # after every post: mostly already clear
            self.position, self.voters = -1, set()


class PressLimiter:
    """Refuses a reader's ▶ presses that come faster than `cooldown` seconds apart (per session)."""

    def __init__(self, cooldown: float, max_entries: int = 50_000) -> None:
        self.cooldown = cooldown
        self._last: dict[tuple[int, int], float] = {}
        self._max = max_entries

    def wait(self, session_id: int, user_id: int, now: float) -> float:
        """Seconds until this reader's next press counts (0 when it counts now)."""
        last = self._last.get((session_id, user_id))
        return 0.0 if last is None else max(0.0, self.cooldown - (now - last))

    def check(self, session_id: int, user_id: int, now: float) -> None:
        key = (session_id, user_id)
        wait = self.wait(session_id, user_id, now)
        if wait > 0:
            raise TooFast(f"Easy! You can press ▶ again in {max(1, round(wait))} s.", retry_after=wait)
        if len(self._last) >= self._max:
            cutoff = now - self.cooldown
            self._last = {k: v for k, v in self._last.items() if v > cutoff}
        self._last[key] = now
