"""The web chooser: the videos waiting for a thumbnail choice and the recent ones, from a phone.

`web.source` is what the pages need, `web.temporal_source` answers it from Temporal,
`web.app` holds the pages and `web.server` serves them.
"""
