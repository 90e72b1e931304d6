"""The forms of text the café writes and YouTube accepts: pure functions that import nothing of
the project, so `config` checks the settings with them and every stage shares them.

- `folding`: names without their accents (`fold_accents`, the one folding function) and slugs;
- `cleaning`: text without control characters or bidi overrides (`clean_text`);
- `templates`: DESCRIPTION_TEMPLATE and YOUTUBE_PLAYLIST, their placeholders, the hashtags;
- `publish_at`: PUBLISH_AT (a time of day or a date and time);
- `youtube_fields`: what YouTube takes in a video's fields: privacy statuses, the language tag,
  the limits of the title, description and tags.
"""
