"""The Temporal CLI's parts below its commands (`main_temporal.py` holds the Typer commands):
what it prints, as pure functions from the operator API's dataclasses, and the remedies it words.

  lines       a printed line or table, as data; times, hosts and holds as the café reads them
  remedies    the commands that fix an error, a hold, a failure (the CLI's own wording)
  videos      `pending` and `status` rendered, as lines and as JSON
  events      what `up` says as videos move on, and at its end
  output      printing those lines on the console
  connecting  which Temporal the CLI talks to, and reaching it
  choosing    `select`: by rank (`--pick`, no OpenCV) or in the chooser window
  starting    `start`: a workflow for each file, and what became of each
  up          `up`: server, worker, watcher, web chooser and what happens, composed
  process     signals, and leaving without the interpreter's shutdown
"""
