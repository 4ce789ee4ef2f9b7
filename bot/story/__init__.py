"""The story: characters, scenes and beats, how prose becomes them, and how they live on disk."""
