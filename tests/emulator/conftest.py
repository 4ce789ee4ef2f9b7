from tests.emulator.fixtures import bot_process, emulator  # noqa: F401
