"""Which servers this process plays: Discord deals guilds to shards by `(guild_id >> 22) % count`,
and a process running some shards resumes and plays only the sessions of their guilds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ShardSet:
    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.count < 1 or not self.ids or any(not 0 <= i < self.count for i in self.ids):
            raise ValueError(f"shards {self.ids} do not fit a shard count of {self.count}")

    @staticmethod
    def shard_of(guild_id: int | None, count: int) -> int:
        """Discord's rule; direct messages (no guild) belong to shard 0."""
        return 0 if guild_id is None else (guild_id >> 22) % count

    def owns(self, guild_id: int | None) -> bool:
        return self.shard_of(guild_id, self.count) in self.ids

    @property
    def everything(self) -> bool:
        return len(set(self.ids)) == self.count
