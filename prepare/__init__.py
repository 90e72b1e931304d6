"""The prepare stage's parts; `video_prep` is their face, which the pipeline imports.

- `probe`: open a video file and read its properties, with one clear error for each bad input;
- `file_names`: the café's file-name grammar, `{type}_{team1}vs{team2}[_{tournament}]`;
- `match_text`: a match's title, description and tags within YouTube's limits, and its date;
- `metadata`: a match video's metadata (`MatchMetadata`), the sidecar that overrides it, and
  `metadata.json` in its workspace.

They read no settings: what they need (the café's time zone, the description template) is
passed in by their caller.
"""
