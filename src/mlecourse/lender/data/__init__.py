"""Data: the loans history and how it was made, loaded with its checksum, and each batch validated.

Uses nothing of the other stages (only the shared vocabulary, ``features`` and ``business``).
"""
