"""The only package that imports discord: the bot, its commands, the webhook stage and rendering."""
