"""Temporal orchestration of the per-video pipeline: workflow, activities, worker and client."""
