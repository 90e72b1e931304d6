"""The YouTube Data API v3 client behind `uploader.py`, one module per concern.

- `common`: the progress-callback type, `YouTubeAccess` (where the token is, how YouTube is
  reached) and the clock helpers;
- `listing`: what YouTube gets for a video (and what the local target writes beside its copy),
  following `ListingOptions`;
- `errors`: the failures a person acts on, of the kinds in the project's `errors.py`;
- `oauth`: the saved token and the consent flow;
- `api`: the channel (client and account), the translation of YouTube's refusals, retries,
  parts read and sent back whole;
- `upload`: the resumable `videos.insert`;
- `playlists`: find or create a playlist, add a video once.

Nothing here reads the settings: `uploader`, the face the pipeline imports, builds
`YouTubeAccess` and `ListingOptions` from them. The texts' own rules (cleaning, templates,
PUBLISH_AT, YouTube's limits) are in `formats/`.
"""
