"""The thumbnail chooser's window; `thumbnail_selector` is its face (callers import from there).

One concern a module, each importable without a display:
  candidate  what a tile shows: rank, score, time, and the picture (path, JPEG bytes or image)
  images     decoding the pictures
  layout     every rectangle of the canvas (pure geometry)
  controls   keys and clicks turning one state into the next (pure)
  drawing    the frames (`Scene`, `render`)
  display    whether a window can open here
  window     the OpenCV window and its event loop
  ranks      the headless choice by rank (`--pick N`), without OpenCV
"""
